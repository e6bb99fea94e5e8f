import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import type { DialectMigration } from './index.js';

/**
 * Link tables (types in ../tables/links.ts). `link` is an add-only event log (a link can be added, lapse and
 * hold again); `link_done` makes linking a message happen once. `link_key.k` is the lookup that keeps
 * linking an index probe per new message, `link_key.msg` finds a heen message's rows when its retour comes.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>, dialect: Dialect) {
    const pk = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;

    await db.schema
      .createTable('link')
      .addColumn('seq', sql`${pk}`)
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('mutatie', 'text', (c) => c.notNull())
      .addColumn('gemeente', 'text', (c) => c.notNull())
      .addColumn('from_table', 'text', (c) => c.notNull())
      .addColumn('from_bericht_id', 'text', (c) => c.notNull())
      .addColumn('from_row', 'text', (c) => c.notNull())
      .addColumn('to_table', 'text', (c) => c.notNull())
      .addColumn('to_bericht_id', 'text', (c) => c.notNull())
      .addColumn('to_row', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('link_from')
      .on('link')
      .columns(['from_bericht_id', 'from_row', 'type'])
      .execute();
    await db.schema.createIndex('link_gemeente_seq').on('link').columns(['gemeente', 'seq']).execute();

    await db.schema
      .createTable('link_key')
      .addColumn('keyspace', 'text', (c) => c.notNull())
      .addColumn('k', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('gemeente', 'text', (c) => c.notNull())
      .addColumn('bericht_id', 'text', (c) => c.notNull())
      .addColumn('tbl', 'text', (c) => c.notNull())
      .addColumn('row', 'text', (c) => c.notNull())
      .addColumn('dagtekening', 'text', (c) => c.notNull())
      .addColumn('ord', 'text', (c) => c.notNull())
      .addColumn('info', 'text', (c) => c.notNull())
      .addColumn('msg', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('link_key_msg')
      .on('link_key')
      .column('msg')
      .where(sql.ref('msg'), '<>', '')
      .execute();
    await db.schema.createIndex('link_key_k').on('link_key').column('k').execute();
    await db.schema
      .createTable('link_done')
      .addColumn('bericht_id', 'text', (c) => c.primaryKey())
      .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer')
      .addColumn('linked_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('link_done_seq').on('link_done').column('seq').execute();
  },

  async down(db: Kysely<unknown>) {
    for (const t of ['link_done', 'link_key', 'link']) await db.schema.dropTable(t).ifExists().execute();
  },
};
