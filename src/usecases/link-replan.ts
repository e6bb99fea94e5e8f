import type { LinkEntry } from '../links/entries.js';
import { entriesByKey, lockLinking, RECOMPUTED_KEYSPACES, recomputedKeysAfter } from '../store/links.js';
import type { Store } from '../store/open.js';
import { type IngestTx, withIngestLock } from '../store/watermark.js';
import { type GroupsContext, planGroups } from './link-batch.js';

export interface ReplanOutcome {
  /** Keys whose recomputed relations were planned anew. */
  readonly keys: number;
  readonly added: number;
  readonly lapsed: number;
}

/**
 * Every entry counts as new (so every group's recomputed relations are due, `needsRecompute`) and as
 * linked (so its links in force are read and compared). A replanned ToewijzingNummer group holds only its
 * 301 rows (see `groupsOf`), and start and stop keys have no pair rules, so no add-only link is planned.
 */
const EVERY_ENTRY: GroupsContext = { isNew: () => true, linked: () => true, touched: () => true };

/**
 * The groups of these keys as far as recomputed relations read them: a start or stop key whole, a
 * ToewijzingNummer key its 301 rows (the version chain); its debets, starts and stops are most of it
 * and take part in add-only relations only.
 */
async function groupsOf(tx: IngestTx, keys: readonly string[]): Promise<Map<string, LinkEntry[]>> {
  const isVersions = (k: string) => k.startsWith('twn|');
  const whole = keys.filter((k) => !isVersions(k));
  const groups = await entriesByKey(tx, whole);
  const twn = await entriesByKey(tx, keys.filter(isVersions), { withoutDebetsAndStarts: true });
  for (const [key, group] of twn) {
    const rows301 = group.filter((e) => e.tag === 'toewijzing');
    groups.set(key, rows301);
  }
  return groups;
}

/**
 * Plans the recomputed relations (`RECOMPUTED`: correctie, stop-start, toewijzing-versie) of every key
 * anew and appends what differs from the links in force: `vervallen` for a pair no longer desired,
 * `toegevoegd` for a new one, with link seqs as linking gives them (the next weekly carries them). Links
 * an older release made by its rules are corrected so; on a store linked by these rules it appends nothing,
 * and a second run appends nothing. Keys in order with a cursor per key space, `batchSize` per ingest-locked
 * linking transaction: memory does not grow with the store, and ingest goes on between batches.
 */
export async function replanLinks(
  store: Store,
  options: { readonly now: Date; readonly batchSize?: number },
): Promise<ReplanOutcome> {
  const size = options.batchSize ?? 500;
  const now = options.now.toISOString();
  let total: ReplanOutcome = { keys: 0, added: 0, lapsed: 0 };
  for (const space of RECOMPUTED_KEYSPACES) {
    let after = '';
    for (;;) {
      // The keys are read before the locks are taken: a batch holds them only while it plans.
      const keys = await recomputedKeysAfter(store.db, space, after, size);
      if (keys.length === 0) break;
      after = keys[keys.length - 1] as string;
      const planned = await withIngestLock(store, async (tx) => {
        await lockLinking(tx);
        return planGroups(tx, await groupsOf(tx, keys), EVERY_ENTRY, now);
      });
      total = {
        keys: total.keys + keys.length,
        added: total.added + planned.added,
        lapsed: total.lapsed + planned.lapsed,
      };
    }
  }
  return total;
}

/** Whether an upgrade left a replan due (migration 0022). */
export async function replanDue(store: Store): Promise<boolean> {
  return (await store.db.selectFrom('link_replan').select('id').executeTakeFirst()) !== undefined;
}

/**
 * The replan an upgrade left due, then its mark removed; null when none was due. A crash in between
 * leaves it due, and the next run replans again (which appends only what is still missing).
 */
export async function replanIfDue(store: Store, now: Date): Promise<ReplanOutcome | null> {
  if (!(await replanDue(store))) return null;
  const outcome = await replanLinks(store, { now });
  await store.db.deleteFrom('link_replan').execute();
  return outcome;
}
