import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `job_run.attempts`: how often a slot failed in a row. The wait before its next try doubles with it
 * (src/usecases/deliver.ts), so a lasting error is not retried every hour. Existing rows start at 0.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('job_run')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('job_run').dropColumn('attempts').execute();
  },
};
