import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { audit } from '../store/audit.js';
import { expiredDeliveries, removeDelivery } from '../store/deliveries.js';
import type { Store } from '../store/open.js';

/**
 * Deletes every delivery 60 days after it was made: its file and its listing. It touches nothing else:
 * the stored messages stay. Idempotent, so two workers may run it; only the one whose delete removed a
 * listing writes the audit line.
 */
export async function purgeExpired(
  deps: { readonly store: Store; readonly dataDir: string },
  now: Date,
): Promise<number> {
  let removed = 0;
  for (const d of await expiredDeliveries(deps.store.db, now)) {
    await rm(join(deps.dataDir, d.file), { force: true });
    if (await removeDelivery(deps.store.db, d.id)) {
      removed++;
      await audit(deps.store, {
        at: now,
        actor: 'system',
        organisation: d.organisation,
        action: 'delivery.expire',
        detail: { id: d.id, kind: d.kind, file: d.fileName, madeAt: d.madeAt },
      });
    }
  }
  return removed;
}
