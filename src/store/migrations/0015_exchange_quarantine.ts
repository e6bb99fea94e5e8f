import { type Kysely, sql } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * The exchanges of quarantine items: the quarantine list names the source each item came in through
 * (its exchange's ingest run), and settling a plain folder's items joins them. Partial: nearly every
 * exchange ends in a message, so the index stays as small as the quarantine and costs ingest next to nothing.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE INDEX exchange_quarantine ON exchange (quarantine_id) WHERE quarantine_id IS NOT NULL`.execute(
      db,
    );
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('exchange_quarantine').execute();
  },
};
