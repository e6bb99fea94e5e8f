import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `delivery.personal_data_left_out`: 1 when the delivery was made with the columns of personal data in clear
 * left empty (its organisation's choice at the time, `organisation.leave_out_personal_data`), so the listing
 * can say so per delivery. 0 for every delivery so far: none was made that way before this column.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('delivery')
      .addColumn('personal_data_left_out', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('delivery').dropColumn('personal_data_left_out').execute();
  },
};
