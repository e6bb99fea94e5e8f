import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `delivery_pending`: the ZIP a delivery is writing, noted before the file exists and removed with the
 * delivery's listing. A crash in between leaves the note, so the clean-up removes exactly the files this
 * store began and never listed, never a file it does not know (another store on the same data folder).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('delivery_pending')
      .addColumn('file', 'text', (c) => c.primaryKey())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('delivery_pending').ifExists().execute();
  },
};
