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
  const row = await db
    .deleteFrom('one_time_flash')
    .where('key', '=', key)
    .returning(['value', 'until'])
    .executeTakeFirst();
  return row && row.until > now ? row.value : undefined;
}
