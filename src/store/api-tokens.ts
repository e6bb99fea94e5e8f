import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from './database.js';
import type { ApiTokenTable } from './tables/accounts.js';

export type ApiTokenRow = Selectable<ApiTokenTable>;

export async function insertApiToken(
  db: Kysely<Database>,
  token: Insertable<ApiTokenTable>,
): Promise<ApiTokenRow> {
  return db.insertInto('api_token').values(token).returningAll().executeTakeFirstOrThrow();
}

/** The token with this hash that is in force, or (`revoked`) one that was revoked. */
export async function findToken(
  db: Kysely<Database>,
  tokenHash: string,
  state: 'active' | 'revoked',
): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom('api_token')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', state === 'active' ? 'is' : 'is not', null)
    .executeTakeFirst();
}

export async function markTokenUsed(db: Kysely<Database>, id: number, at: string): Promise<void> {
  await db.updateTable('api_token').set({ last_used_at: at }).where('id', '=', id).execute();
}

/** Tokens of one organisation (or the operator tokens when `organisationCode` is null). */
export async function listTokens(
  db: Kysely<Database>,
  organisationCode: string | null,
): Promise<ApiTokenRow[]> {
  let q = db.selectFrom('api_token').selectAll().where('revoked_at', 'is', null);
  q =
    organisationCode === null
      ? q.where('scope', '=', 'operator')
      : q.where('organisation_code', '=', organisationCode);
  return q.orderBy('id').execute();
}

/** Revokes a token only within its owner's scope; returns false when there is no such token there. */
export async function revokeToken(
  db: Kysely<Database>,
  id: number,
  organisationCode: string | null,
  at: string,
): Promise<boolean> {
  let q = db
    .updateTable('api_token')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null);
  q =
    organisationCode === null
      ? q.where('scope', '=', 'operator')
      : q.where('organisation_code', '=', organisationCode);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
