import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `delivery.catch_up`: the members a weekly sent from the start (its manifest's `catchUp`), CBS codes joined
 * by `,`; '' for none. The listing says so before a download: an analyst who appends weeklies must know which
 * one holds more than a week. Null for deliveries made before this column (not recorded; their files are gone
 * within 60 days).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('delivery').addColumn('catch_up', 'text').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('delivery').dropColumn('catch_up').execute();
  },
};
