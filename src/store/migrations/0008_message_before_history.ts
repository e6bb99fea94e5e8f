import { type Kysely, sql } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * The few messages that passed the hub before 1-1-2021 00:00 Amsterdam (2020-12-31T23:00Z), by BerichtId: a
 * history leaves them out, and with this index its Koppeltabel leaves out their links at the cost of a probe
 * into an index that is nearly always empty. The literal must stay equal to HISTORY_START_INSTANT
 * (src/domain/delivery-week.ts): the query repeats it so the planner can use the partial index.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE INDEX message_before_history ON message (bericht_id) WHERE first_moment < '2020-12-31T23:00:00.000Z'`.execute(
      db,
    );
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('message_before_history').execute();
  },
};
