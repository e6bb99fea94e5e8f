import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import type { DialectMigration } from './index.js';

/** Whether the store's own table has the column (on PostgreSQL in the current schema only: a database may hold others). */
async function hasColumn(
  db: Kysely<unknown>,
  dialect: Dialect,
  table: string,
  column: string,
): Promise<boolean> {
  const { rows } =
    dialect === 'postgres'
      ? await sql`SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table} AND column_name = ${column}`.execute(
          db,
        )
      : await sql`SELECT 1 FROM pragma_table_info(${table}) WHERE name = ${column}`.execute(db);
  return rows.length > 0;
}

/**
 * Two migrations were edited after a store could have applied them; a store that did keeps their first form:
 * - 0007 without `organisation_member.joined_at` (added to it 23 minutes after it landed): every query of
 *   the members failed with "no such column" after an upgrade, so no weekly was made;
 * - 0005 without dropping `link_key_msg`: an index that linking no longer reads but still writes to.
 * Both are put right here, and left alone where the store has them as they are now.
 * (`landed.test.ts` pins every landed migration's text, so this does not happen again.)
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>, dialect) {
    if (!(await hasColumn(db, dialect, 'organisation_member', 'joined_at')))
      await db.schema.alterTable('organisation_member').addColumn('joined_at', 'text').execute();
    await db.schema.dropIndex('link_key_msg').ifExists().execute();
  },

  // Nothing to undo: the schema is what 0005 and 0007 make today.
  async down() {},
};
