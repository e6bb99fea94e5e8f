import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import type { DialectMigration } from './index.js';

/**
 * The dashboard's snapshot per organisation (types in ../tables/indicators.ts): the indicators as JSON with
 * the message and link watermarks they were computed at, so a page view reads one row instead of the history.
 * Numbered 0006: 0005 is reserved for the link-table work landing in parallel.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>, dialect: Dialect) {
    const seq = dialect === 'postgres' ? 'bigint' : 'integer';
    await db.schema
      .createTable('indicator_snapshot')
      .addColumn('organisation', 'text', (c) => c.primaryKey().references('organisation.code'))
      .addColumn('computed_at', 'text', (c) => c.notNull())
      .addColumn('message_seq', sql.raw(seq), (c) => c.notNull())
      .addColumn('link_seq', sql.raw(seq), (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('indicator_snapshot').ifExists().execute();
  },
};
