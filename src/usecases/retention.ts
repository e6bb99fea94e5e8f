import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isExpired } from '../domain/retention.js';
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

/** A delivery takes minutes; what a crash left behind is certainly abandoned after a day. */
export const LEFTOVER_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Removes what an interrupted delivery left in the data folder: its temp folder under `deliveries/.tmp`,
 * and a ZIP that was written but never listed (a crash between the two steps). Only what is older than
 * `LEFTOVER_AGE_MS` by the file's own time (the real clock, not a replayed `--now`), so a delivery that
 * another worker is still making is left alone. Then any unlisted ZIP older than the retention period
 * (`sweepUnlisted`). Returns the number of entries removed.
 */
export async function sweepLeftovers(
  deps: { readonly store: Store; readonly dataDir: string },
  wallNow: Date = new Date(),
): Promise<number> {
  const root = join(deps.dataDir, 'deliveries');
  const cutoff = wallNow.getTime() - LEFTOVER_AGE_MS;
  const abandoned = async (path: string) => {
    const s = await stat(path).catch(() => undefined);
    return s !== undefined && s.mtimeMs < cutoff;
  };
  const entries = async (dir: string) => readdir(dir, { withFileTypes: true }).catch(() => []);
  let removed = 0;
  for (const e of await entries(join(root, '.tmp'))) {
    const path = join(root, '.tmp', e.name);
    if (e.isDirectory() && e.name.startsWith('delivery-') && (await abandoned(path))) {
      await rm(path, { recursive: true, force: true });
      removed++;
    }
  }
  // After a day, only ZIPs this store began and never listed: a file it does not know may be another store's
  // (a second installation, or a run that missed KETENDATA_DATABASE_URL, on the same data folder).
  const pending = await deps.store.db
    .selectFrom('delivery_pending')
    .select(['file', 'started_at'])
    .where('started_at', '<', new Date(cutoff).toISOString())
    .execute();
  for (const p of pending) {
    const listed = await deps.store.db
      .selectFrom('delivery')
      .select('id')
      .where('file', '=', p.file)
      .executeTakeFirst();
    if (!listed && (await stat(join(deps.dataDir, p.file)).catch(() => undefined))) {
      await rm(join(deps.dataDir, p.file), { force: true });
      removed++;
    }
    await deps.store.db.deleteFrom('delivery_pending').where('file', '=', p.file).execute();
  }
  return removed + (await sweepUnlisted(deps, wallNow));
}

/** A replay's `deliver --now … --allow-future` (the README's walk-through) runs up to a week ahead of the clock. */
const UNLISTED_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Removes a delivery ZIP that no `delivery` row lists and no `delivery_pending` row covers once its file is
 * older than the retention period and a week (the real clock): after a restore with a deliveries/ folder
 * newer than the store, nothing else would ever delete it, and it holds personal data past the 60 days. The
 * age guard keeps a ZIP being written or just written out of reach; whichever store made a ZIP that old has
 * let it expire.
 */
async function sweepUnlisted(
  deps: { readonly store: Store; readonly dataDir: string },
  wallNow: Date,
): Promise<number> {
  const root = join(deps.dataDir, 'deliveries');
  const known = new Set<string>();
  // Pending before listed: a delivery that commits in between (its pending row goes, its listing comes in
  // one transaction) is then in one of the two.
  for (const r of await deps.store.db.selectFrom('delivery_pending').select('file').execute())
    known.add(r.file);
  for (const r of await deps.store.db.selectFrom('delivery').select('file').execute()) known.add(r.file);
  let removed = 0;
  for (const dir of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (!dir.isDirectory() || dir.name === '.tmp') continue;
    for (const f of await readdir(join(root, dir.name), { withFileTypes: true }).catch(() => [])) {
      const rel = join('deliveries', dir.name, f.name);
      if (!f.isFile() || !f.name.endsWith('.zip') || known.has(rel)) continue;
      const s = await stat(join(deps.dataDir, rel)).catch(() => undefined);
      // The grace: a delivery made with a `--now` a week ahead expires that much after its file's time.
      if (s && isExpired(new Date(s.mtimeMs + UNLISTED_GRACE_MS), wallNow)) {
        await rm(join(deps.dataDir, rel), { force: true });
        removed++;
      }
    }
  }
  return removed;
}
