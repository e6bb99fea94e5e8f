import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { IndicatorSnapshotTable } from './tables/indicators.js';

export async function readIndicatorSnapshot(
  db: Kysely<Database>,
  organisation: string,
): Promise<IndicatorSnapshotTable | undefined> {
  const r = await db
    .selectFrom('indicator_snapshot')
    .selectAll()
    .where('organisation', '=', organisation)
    .executeTakeFirst();
  return r ? { ...r, message_seq: Number(r.message_seq), link_seq: Number(r.link_seq) } : undefined;
}

/** Replaces the organisation's snapshot (one row per organisation). */
export async function saveIndicatorSnapshot(
  db: Kysely<Database>,
  row: IndicatorSnapshotTable,
): Promise<void> {
  await db
    .insertInto('indicator_snapshot')
    .values(row)
    .onConflict((oc) =>
      oc.column('organisation').doUpdateSet({
        computed_at: row.computed_at,
        message_seq: row.message_seq,
        link_seq: row.link_seq,
        data: row.data,
      }),
    )
    .execute();
}
