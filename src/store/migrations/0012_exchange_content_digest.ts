import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `exchange.content_digest`: a keyed digest of the bytes of an exchange that came with a hub id, whose key
 * (`hub:<id>`) says nothing of its content. Another content under the same hub id and moment is then a
 * passage of its own instead of the exchange already received (types in ../tables/ingest.ts). Null for
 * exchanges from before, and for exchanges without a hub id (their key digests the content already).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('exchange').addColumn('content_digest', 'text').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('exchange').dropColumn('content_digest').execute();
  },
};
