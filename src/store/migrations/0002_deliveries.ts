import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import type { DialectMigration } from './index.js';

/**
 * Deliveries (types in ../tables/deliveries.ts). Two unique keys carry the "exactly once" rules:
 * `delivery (organisation, kind, slot)` (a re-run of a slot adds no delivery) and `job_run (job, slot)`
 * (one worker claims a scheduled slot).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>, dialect: Dialect) {
    const pk = dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
    const big = dialect === 'postgres' ? 'bigint' : 'integer';

    await db.schema
      .createTable('organisation')
      .addColumn('code', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('activated_at', 'text')
      .addColumn('weekly_seq', sql.raw(big), (c) => c.notNull().defaultTo(0))
      .addColumn('weekly_link_seq', sql.raw(big), (c) => c.notNull().defaultTo(0))
      .addColumn('weekly_slot', 'text')
      .addColumn('history_requested', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('history_requested_at', 'text')
      .addColumn('history_requested_by', 'text')
      .execute();

    await db.schema
      .createTable('organisation_member')
      .addColumn('organisation', 'text', (c) =>
        c.notNull().references('organisation.code').onDelete('cascade'),
      )
      .addColumn('gemeente', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('organisation_member_pk', ['organisation', 'gemeente'])
      .execute();
    await db.schema
      .createIndex('organisation_member_gemeente')
      .on('organisation_member')
      .column('gemeente')
      .execute();

    await db.schema
      .createTable('delivery')
      .addColumn('id', sql`${pk}`)
      .addColumn('organisation', 'text', (c) => c.notNull().references('organisation.code'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('slot', 'text', (c) => c.notNull())
      .addColumn('period_start', 'text', (c) => c.notNull())
      .addColumn('period_end', 'text', (c) => c.notNull())
      .addColumn('seq_from', sql.raw(big), (c) => c.notNull())
      .addColumn('seq_to', sql.raw(big), (c) => c.notNull())
      .addColumn('link_seq_from', sql.raw(big), (c) => c.notNull())
      .addColumn('link_seq_to', sql.raw(big), (c) => c.notNull())
      .addColumn('message_count', sql.raw(big), (c) => c.notNull())
      .addColumn('made_at', 'text', (c) => c.notNull())
      .addColumn('available_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('file', 'text', (c) => c.notNull())
      .addColumn('file_name', 'text', (c) => c.notNull())
      .addColumn('size', sql.raw(big), (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('first_downloaded_at', 'text')
      .addColumn('first_downloaded_by', 'text')
      .addColumn('download_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted_at', 'text')
      .addColumn('deleted_by', 'text')
      .addUniqueConstraint('delivery_once_per_slot', ['organisation', 'kind', 'slot'])
      .execute();
    await db.schema.createIndex('delivery_expires_at').on('delivery').column('expires_at').execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', sql`${pk}`)
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('organisation', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .execute();
    await db.schema
      .createIndex('audit_log_organisation_at')
      .on('audit_log')
      .columns(['organisation', 'at'])
      .execute();

    await db.schema
      .createTable('job_run')
      .addColumn('job', 'text', (c) => c.notNull())
      .addColumn('slot', 'text', (c) => c.notNull())
      .addColumn('worker', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('claimed_at', 'text', (c) => c.notNull())
      .addColumn('lease_until', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('detail', 'text')
      .addPrimaryKeyConstraint('job_run_pk', ['job', 'slot'])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    for (const t of ['job_run', 'audit_log', 'delivery', 'organisation_member', 'organisation']) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};
