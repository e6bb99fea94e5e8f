import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `one_time_flash`: what the portal shows once on the page a POST redirects to (a new API token's secret,
 * a Beheer notice), kept in the store so that page may be served by another instance. `key` is a keyed hash
 * of the flash key (which holds the session id), `value` is encrypted, `until` (ISO-8601 UTC) ends it.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('one_time_flash')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('until', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('one_time_flash_until').on('one_time_flash').column('until').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('one_time_flash').ifExists().execute();
  },
};
