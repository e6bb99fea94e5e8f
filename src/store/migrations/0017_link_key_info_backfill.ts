import { type Kysely, sql } from 'kysely';
import { keyspaceOf, linkableMessage, linkEntries, type StoredMessageHeader } from '../../links/entries.js';
import type { DialectMigration } from './index.js';

/** Entries indexed before their `info` said what linking now reads (see `needsInfo`). */
const OLD_INFO = `(keyspace = 'twn' AND tag = 'toewijzing' AND info = '') OR (keyspace = 'start' AND tag = 'stop' AND info IN ('1', '3'))`;

/** Entries whose `info` linking reads since this migration: a 301 row's version time, a stop's detail. */
const needsInfo = (keyspace: string, tag: string) =>
  (keyspace === 'twn' && tag === 'toewijzing') || (keyspace === 'start' && tag === 'stop');

/**
 * `link_key.info` of entries indexed before it carried what linking now reads: a 301 row under its
 * ToewijzingNummer `Toewijzingsdatum|Toewijzingstijd` (the version order), a stop under its start key
 * `StatusAanlevering|RedenBeeindiging|Einddatum` (which stop a deletion deletes). Taken from the stored
 * message as ingest takes it, so old and new entries of one group compare alike. Links made before are
 * not changed: a group is linked anew when its next entry comes. Exported for its test.
 */
export async function backfillLinkKeyInfo(db: Kysely<unknown>): Promise<number> {
  let updated = 0;
  let after = '';
  for (;;) {
    const ids = (
      await sql<{
        bericht_id: string;
      }>`SELECT DISTINCT bericht_id FROM link_key WHERE (${sql.raw(OLD_INFO)}) AND bericht_id > ${after} ORDER BY bericht_id LIMIT 500`.execute(
        db,
      )
    ).rows.map((r) => r.bericht_id);
    if (ids.length === 0) return updated;
    after = ids[ids.length - 1] as string;
    const messages = await sql<
      StoredMessageHeader & { rows: string | Record<string, unknown> }
    >`SELECT bericht_id, code, gemeente, afzender, ontvanger, identificatie, dagtekening, "rows" FROM message WHERE bericht_id IN (${sql.join(ids)})`.execute(
      db,
    );
    for (const m of messages.rows) {
      const tables = typeof m.rows === 'string' ? JSON.parse(m.rows) : m.rows;
      for (const e of linkEntries(linkableMessage(m, tables))) {
        if (!needsInfo(keyspaceOf(e.key), e.tag)) continue;
        const r =
          await sql`UPDATE link_key SET info = ${e.info} WHERE k = ${e.key} AND tag = ${e.tag} AND bericht_id = ${e.berichtId} AND tbl = ${e.table} AND "row" = ${e.row} AND (${sql.raw(OLD_INFO)})`.execute(
            db,
          );
        updated += Number(r.numAffectedRows ?? 0);
      }
    }
  }
}

export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await backfillLinkKeyInfo(db);
  },

  async down(db: Kysely<unknown>) {
    // Back to what the code before reads: the status alone, no version time.
    await sql`UPDATE link_key SET info = substr(info, 1, 1) WHERE keyspace = 'start' AND tag = 'stop' AND info LIKE '_|%'`.execute(
      db,
    );
    await sql`UPDATE link_key SET info = '' WHERE keyspace = 'twn' AND tag = 'toewijzing'`.execute(db);
  },
};
