import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `organisation_member.catch_up`: 1 while a member added to a head organisation has data the organisation
 * has not been sent. Its next weekly delivers that member from the start. `joined_at`: when it was added
 * (null: from the organisation's start), so a missed weekly slot made later leaves it out
 * (types in ../tables/deliveries.ts).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('organisation_member')
      .addColumn('catch_up', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('organisation_member').addColumn('joined_at', 'text').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('organisation_member').dropColumn('joined_at').execute();
    await db.schema.alterTable('organisation_member').dropColumn('catch_up').execute();
  },
};
