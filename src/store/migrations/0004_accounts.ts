import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import type { DialectMigration } from './index.js';

/** Accounts: users, sessions, API tokens, login failures (see tables/accounts.ts). */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>, dialect: Dialect) {
    const id = dialect === 'postgres' ? 'bigserial' : 'integer';
    const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
    await db.schema
      .createTable('app_user')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('organisation_code', 'text')
      .addColumn('totp_secret', 'text')
      .addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('disabled_at', 'text')
      .execute();
    await db.schema
      .createTable('user_session')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', bigint, (c) => c.notNull().references('app_user.id').onDelete('cascade'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('pending_second_factor', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('user_session_user').on('user_session').column('user_id').execute();
    await db.schema
      .createTable('api_token')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('organisation_code', 'text')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('created_by', bigint)
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema
      .createTable('login_failure')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('throttle_key', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('login_failure_key_at')
      .on('login_failure')
      .columns(['throttle_key', 'at'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const t of ['login_failure', 'api_token', 'user_session', 'app_user']) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};
