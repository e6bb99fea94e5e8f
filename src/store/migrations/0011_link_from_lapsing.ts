import { type Kysely, sql } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `link_from` indexes only the links that can lapse (types in ../tables/links.ts). Its lookups are the links
 * in force of the relations linking recomputes, and a delivery's test whether a later event ended a pair;
 * only those relations ever get a second event. Every link paid for an entry at a random place in the full
 * index, most of a batch's commit; the others are now read without it (orphans: one pass over the links).
 * The predicate is repeated literally in every query that should use the index (`lapsingLinkTypesSql` in ../links.ts).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('link_from').execute();
    await sql`CREATE INDEX link_from_lapsing ON link (from_bericht_id) WHERE type IN ('correctie', 'stop-start', 'toewijzing-versie')`.execute(
      db,
    );
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('link_from_lapsing').execute();
    await db.schema.createIndex('link_from').on('link').column('from_bericht_id').execute();
  },
};
