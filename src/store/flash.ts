import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/**
 * Keeps `value` under `key` until `until`, replacing what was there; rows already expired at `now` are
 * deleted first, so the table holds only what may still be shown.
 */
export async function putFlash(
  db: Kysely<Database>,
  row: { readonly key: string; readonly value: string; readonly until: string },
  now: string,
): Promise<void> {
  await db.deleteFrom('one_time_flash').where('until', '<=', now).execute();
  await db
    .insertInto('one_time_flash')
    .values(row)
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: row.value, until: row.until }))
    .execute();
}

/**
 * Deletes the row of `key` and returns it, in one statement: of two instances taking it at once only one
 * gets it. An expired row is deleted too and gives nothing.
 */
export async function takeFlash(db: Kysely<Database>, key: string, now: string): Promise<string | undefined> {
  // Read first: most page loads find nothing, and a DELETE would be a write even then (on SQLite it waits
  // for any other writer, an ingest batch, and holds up the server meanwhile).
  const there = await db.selectFrom('one_time_flash').select('key').where('key', '=', key).executeTakeFirst();
  if (there === undefined) return undefined;
  const row = await db
    .deleteFrom('one_time_flash')
    .where('key', '=', key)
    .returning(['value', 'until'])
    .executeTakeFirst();
  return row && row.until > now ? row.value : undefined;
}

/** Deletes what expired unshown (a new token's secret nobody came back for), so it outlives its minutes nowhere. */
export async function deleteExpiredFlash(db: Kysely<Database>, now: string): Promise<number> {
  const r = await db.deleteFrom('one_time_flash').where('until', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
