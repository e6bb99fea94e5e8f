import { type Kysely, sql } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `store_secret`: which master secret the store was built with, as the public fingerprint (`keyId`) of the
 * pseudonym key derived from it, and when that was recorded. One row at most (id 1): recorded by the first
 * command that uses the secret with the store, moved only by `raw-rekey` (docs/keys.md). Every command that
 * uses the secret compares it first, so a store is never fed or delivered under another secret by mistake.
 * Existing stores start without a row: their first such command records it.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('store_secret')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('recorded_at', 'text', (c) => c.notNull())
      .addCheckConstraint('store_secret_one_row', sql`id = 1`)
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('store_secret').execute();
  },
};
