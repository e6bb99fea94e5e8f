import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `app_user.totp_last_step`: the 30-second step of the last TOTP code accepted, so a code works once
 * (RFC 6238 §5.2): one seen over a shoulder or in a log cannot be used again (types in ../tables/accounts.ts).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('app_user').addColumn('totp_last_step', 'bigint').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('app_user').dropColumn('totp_last_step').execute();
  },
};
