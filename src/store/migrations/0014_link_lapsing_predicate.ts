import { type Kysely, sql } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `link_from_lapsing` (0011) again, with its predicate written as equalities joined by OR. SQLite builds the
 * `IN (…)` list of a partial index's predicate again for every row it inserts: a quarter of the cost of
 * appending a link. Queries repeat this predicate literally (`lapsingLinkTypesSql` in ../links.ts).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('link_from_lapsing').ifExists().execute();
    await sql`CREATE INDEX link_from_lapsing ON link (from_bericht_id) WHERE type = 'correctie' OR type = 'stop-start' OR type = 'toewijzing-versie'`.execute(
      db,
    );
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('link_from_lapsing').ifExists().execute();
    await sql`CREATE INDEX link_from_lapsing ON link (from_bericht_id) WHERE type IN ('correctie', 'stop-start', 'toewijzing-versie')`.execute(
      db,
    );
  },
};
