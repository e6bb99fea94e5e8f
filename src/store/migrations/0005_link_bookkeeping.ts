import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import type { DialectMigration } from './index.js';

/**
 * Cheaper link bookkeeping, written for every linked message and link (types in ../tables/links.ts).
 * - `link_done` is keyed by the message's seq: an integer key that grows with every batch, so claiming a
 *   batch appends to one index instead of inserting at random places in two (BerichtId primary key, seq
 *   index); the highest linked seq is the primary key's last entry. Existing rows get their message's seq.
 * - `link_key_msg` goes: it found the rows of a heen message a retour rejects, which is rare, while every
 *   entry of a heen message wrote to it. Linking derives those rows from the message instead.
 * - `link_from` indexes the source message only: its lookups name the message, and rows and types are few
 *   per message, so the narrower index serves them as well while each link writes less.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>, dialect: Dialect) {
    await db.schema
      .createTable('link_done_new')
      .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.primaryKey())
      .execute();
    await sql`INSERT INTO link_done_new (seq) SELECT m.seq FROM link_done d JOIN message m ON m.bericht_id = d.bericht_id`.execute(
      db,
    );
    await db.schema.dropTable('link_done').execute();
    await db.schema.alterTable('link_done_new').renameTo('link_done').execute();

    await db.schema.dropIndex('link_key_msg').execute();
    await db.schema.dropIndex('link_from').execute();
    await db.schema.createIndex('link_from').on('link').column('from_bericht_id').execute();
  },

  // Back to 0003's layout; a message's linked_at becomes its ingest time (it was linked in that batch).
  async down(db: Kysely<unknown>, dialect: Dialect) {
    await db.schema
      .createTable('link_done_old')
      .addColumn('bericht_id', 'text', (c) => c.primaryKey())
      .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer')
      .addColumn('linked_at', 'text', (c) => c.notNull())
      .execute();
    await sql`INSERT INTO link_done_old (bericht_id, seq, linked_at) SELECT m.bericht_id, m.seq, m.ingested_at FROM link_done d JOIN message m ON m.seq = d.seq`.execute(
      db,
    );
    await db.schema.dropTable('link_done').execute();
    await db.schema.alterTable('link_done_old').renameTo('link_done').execute();
    await db.schema.createIndex('link_done_seq').on('link_done').column('seq').execute();

    await db.schema
      .createIndex('link_key_msg')
      .on('link_key')
      .column('msg')
      .where(sql.ref('msg'), '<>', '')
      .execute();
    await db.schema.dropIndex('link_from').execute();
    await db.schema
      .createIndex('link_from')
      .on('link')
      .columns(['from_bericht_id', 'from_row', 'type'])
      .execute();
  },
};
