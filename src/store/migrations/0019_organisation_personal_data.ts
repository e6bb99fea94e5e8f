import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `organisation.leave_out_personal_data`: 1 when the organisation's deliveries leave the columns with personal
 * data in clear empty (names, birth dates, addresses, contact details, free text; see
 * src/schema/personal-data.ts). 0 for every organisation so far: their deliveries stay as they were.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('organisation')
      .addColumn('leave_out_personal_data', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('organisation').dropColumn('leave_out_personal_data').execute();
  },
};
