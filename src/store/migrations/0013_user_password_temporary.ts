import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * `app_user.password_temporary`: 1 while the password is one an operator set (a new account, a reset), which the
 * operator knows; the user is sent to choose an own one before anything else (types in ../tables/accounts.ts).
 * Existing accounts keep their password as it is (0).
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('app_user')
      .addColumn('password_temporary', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('app_user').dropColumn('password_temporary').execute();
  },
};
