import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import type { DialectMigration } from './index.js';

/**
 * Ingest tables (types in ../tables/ingest.ts). The unique keys carry the cleaning and the crash safety:
 * `exchange.exchange_key` makes re-ingesting an exchange a no-op, `message.bericht_id` (key + content)
 * stores a message once however often it passed the hub.
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>, dialect: Dialect) {
    const pk = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    const ref = dialect === 'postgres' ? 'bigint' : 'integer';
    const bytes = dialect === 'postgres' ? 'bytea' : 'blob';

    await db.schema
      .createTable('ingest_run')
      .addColumn('id', sql`${pk}`)
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('received', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('stored', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('conflicts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('quarantined', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();

    await db.schema
      .createTable('raw_message')
      .addColumn('id', sql`${pk}`)
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('nonce', sql.raw(bytes), (c) => c.notNull())
      .addColumn('tag', sql.raw(bytes), (c) => c.notNull())
      .addColumn('ciphertext', sql.raw(bytes), (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('message')
      .addColumn('seq', sql`${pk}`)
      .addColumn('bericht_id', 'text', (c) => c.notNull().unique())
      .addColumn('standard', 'text', (c) => c.notNull())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('gemeente', 'text', (c) => c.notNull())
      .addColumn('afzender', 'text', (c) => c.notNull())
      .addColumn('ontvanger', 'text', (c) => c.notNull())
      .addColumn('identificatie', 'text', (c) => c.notNull())
      .addColumn('dagtekening', 'text', (c) => c.notNull())
      .addColumn('identificatie_retour', 'text')
      .addColumn('dagtekening_retour', 'text')
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('content_hash', 'text', (c) => c.notNull())
      .addColumn('conflict', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('first_moment', 'text', (c) => c.notNull())
      .addColumn('hub_id', 'text')
      .addColumn('verzender', 'text', (c) => c.notNull())
      .addColumn('ontvanger_hub', 'text', (c) => c.notNull())
      .addColumn('passages', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('rows', 'text', (c) => c.notNull())
      .addColumn('raw_id', sql.raw(ref), (c) => c.notNull().references('raw_message.id'))
      .addColumn('ingest_run_id', sql.raw(ref), (c) => c.notNull().references('ingest_run.id'))
      .addColumn('ingested_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('message_key_hash').on('message').column('key_hash').execute();
    await db.schema.createIndex('message_gemeente_seq').on('message').columns(['gemeente', 'seq']).execute();

    await db.schema
      .createTable('quarantine')
      .addColumn('id', sql`${pk}`)
      .addColumn('exchange_key', 'text', (c) => c.notNull().unique())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('hub_id', 'text')
      .addColumn('moment', 'text')
      .addColumn('verzender', 'text')
      .addColumn('ontvanger', 'text')
      .addColumn('reason_code', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('raw_id', sql.raw(ref), (c) => c.notNull().references('raw_message.id'))
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addColumn('resolved_at', 'text')
      .addColumn('resolved_message_seq', sql.raw(ref), (c) => c.references('message.seq'))
      .execute();
    await db.schema.createIndex('quarantine_status').on('quarantine').columns(['status', 'id']).execute();

    await db.schema
      .createTable('exchange')
      .addColumn('id', sql`${pk}`)
      .addColumn('exchange_key', 'text', (c) => c.notNull().unique())
      .addColumn('message_seq', sql.raw(ref), (c) => c.references('message.seq'))
      .addColumn('quarantine_id', sql.raw(ref), (c) => c.references('quarantine.id'))
      .addColumn('hub_id', 'text')
      .addColumn('moment', 'text', (c) => c.notNull())
      .addColumn('verzender', 'text', (c) => c.notNull())
      .addColumn('ontvanger', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('ingest_run_id', sql.raw(ref), (c) => c.notNull().references('ingest_run.id'))
      .execute();
    await db.schema.createIndex('exchange_message_seq').on('exchange').column('message_seq').execute();
  },

  async down(db: Kysely<unknown>) {
    for (const t of ['exchange', 'quarantine', 'message', 'raw_message', 'ingest_run']) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};
