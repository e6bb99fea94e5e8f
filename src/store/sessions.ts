import type { Kysely, Selectable } from 'kysely';
import type { Database } from './database.js';
import type { UserSessionTable } from './tables/accounts.js';

export type SessionRow = Selectable<UserSessionTable>;

export async function insertSession(db: Kysely<Database>, session: SessionRow): Promise<void> {
  await db.insertInto('user_session').values(session).execute();
}

/** A session that has not expired at `now`. */
export async function findLiveSession(
  db: Kysely<Database>,
  id: string,
  now: string,
): Promise<SessionRow | undefined> {
  return db
    .selectFrom('user_session')
    .selectAll()
    .where('id', '=', id)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function touchSession(db: Kysely<Database>, id: string, lastSeenAt: string, expiresAt: string) {
  await db
    .updateTable('user_session')
    .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
    .where('id', '=', id)
    .execute();
}

/** Ends a session that waits for the second factor; false when there is none (ended, or completed already). */
export async function deletePendingSession(db: Kysely<Database>, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom('user_session')
    .where('id', '=', id)
    .where('pending_second_factor', '=', 1)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Ends a session; false when there was none (ended already). */
export async function deleteSession(db: Kysely<Database>, id: string): Promise<boolean> {
  const res = await db.deleteFrom('user_session').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Ends a user's sessions (all, or all but one); returns how many ended. */
export async function deleteSessionsOfUser(
  db: Kysely<Database>,
  userId: number,
  exceptId?: string,
): Promise<number> {
  let q = db.deleteFrom('user_session').where('user_id', '=', userId);
  if (exceptId) q = q.where('id', '!=', exceptId);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

export async function deleteExpiredSessions(db: Kysely<Database>, now: string): Promise<void> {
  await db.deleteFrom('user_session').where('expires_at', '<=', now).execute();
}

/**
 * Records an attempt under each key before it is checked, so that attempts made at the same time count each
 * other; returns the rows, for `releaseLoginAttempts` when the attempt turns out not to be a failure.
 */
export async function reserveLoginAttempt(
  db: Kysely<Database>,
  keys: readonly string[],
  at: string,
): Promise<number[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .insertInto('login_failure')
    .values(keys.map((k) => ({ throttle_key: k, at })))
    .returning('id')
    .execute();
  return rows.map((r) => Number(r.id));
}

export async function releaseLoginAttempts(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('login_failure').where('id', 'in', ids).execute();
}

/** Failures per key since `since` (ISO). */
export async function countLoginFailures(db: Kysely<Database>, key: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('login_failure')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('throttle_key', '=', key)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function clearLoginFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('login_failure').where('throttle_key', '=', key).execute();
}
