import { type Kysely, sql } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `link_replan`: one row while a replan of the recomputed links is due. Links an older release made stay
 * as its rules made them (0017 filled in what the rules of now read, it did not relink), so a store that
 * holds links is marked here and the weekly run replans it once (`replanLinks`) and removes the row. A
 * store without links needs none.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('link_replan')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('due_since', 'text', (c) => c.notNull())
      .execute();
    await sql`INSERT INTO link_replan (id, due_since) SELECT 1, ${new Date().toISOString()} WHERE EXISTS (SELECT 1 FROM link)`.execute(
      db,
    );
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('link_replan').ifExists().execute();
  },
};
