import type { Kysely, Selectable } from 'kysely';
import type { Database } from './database.js';
import type { AppUserTable, UserRole } from './tables/accounts.js';

export type UserRow = Selectable<AppUserTable>;

export interface NewUser {
  readonly email: string;
  readonly displayName: string;
  readonly passwordHash: string;
  /** Set by an operator, not by the user: to be replaced at the first login. */
  readonly passwordTemporary?: boolean;
  readonly role: UserRole;
  readonly organisationCode: string | null;
  readonly createdAt: string;
}

export async function insertUser(db: Kysely<Database>, user: NewUser): Promise<UserRow> {
  return db
    .insertInto('app_user')
    .values({
      email: user.email.toLowerCase(),
      display_name: user.displayName,
      password_hash: user.passwordHash,
      password_temporary: user.passwordTemporary ? 1 : 0,
      role: user.role,
      organisation_code: user.organisationCode,
      totp_secret: null,
      totp_enabled: 0,
      created_at: user.createdAt,
      disabled_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('app_user').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
}

export async function findUserById(db: Kysely<Database>, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listUsers(db: Kysely<Database>): Promise<UserRow[]> {
  return db.selectFrom('app_user').selectAll().orderBy('organisation_code').orderBy('email').execute();
}

export async function updateUser(
  db: Kysely<Database>,
  id: number,
  patch: Partial<
    Pick<
      UserRow,
      | 'password_hash'
      | 'password_temporary'
      | 'totp_secret'
      | 'totp_enabled'
      | 'totp_last_step'
      | 'disabled_at'
      | 'display_name'
    >
  >,
): Promise<void> {
  await db.updateTable('app_user').set(patch).where('id', '=', id).execute();
}

/**
 * Records `step` as the last TOTP step accepted, with `patch`, only while no step that late was accepted yet:
 * of two requests with the same code, only one changes the row. Returns whether it did.
 */
export async function takeTotpStep(
  db: Kysely<Database>,
  id: number,
  step: number,
  patch: Partial<Pick<UserRow, 'totp_enabled'>> = {},
): Promise<boolean> {
  const res = await db
    .updateTable('app_user')
    .set({ ...patch, totp_last_step: step })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
