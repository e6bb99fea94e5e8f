import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `ingest_run.last_batch_at`: when the run last wrote a batch (ISO-8601 UTC). A run that was killed keeps
 * `finished_at` null; this tells it from one still going on (Beheer → Inlezen). Existing rows keep null.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('ingest_run').addColumn('last_batch_at', 'text').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('ingest_run').dropColumn('last_batch_at').execute();
  },
};
