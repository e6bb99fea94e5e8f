import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';

/**
 * Who did something, as a person reads it: the recorded actor (`token:<id>`, a login e-mail, `cli:<user>`,
 * `system`) is a technical id; the portal shows the token's name, the user's name and e-mail, or the role.
 */
export async function describeActors(
  db: Kysely<Database>,
  actors: readonly string[],
): Promise<ReadonlyMap<string, string>> {
  const unique = [...new Set(actors)];
  const tokenIds = unique
    .map((a) => /^token:(\d+)$/.exec(a)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number);
  const emails = unique.filter((a) => a.includes('@') && !a.includes(':')).map((a) => a.toLowerCase());
  const tokens = tokenIds.length
    ? await db.selectFrom('api_token').select(['id', 'name']).where('id', 'in', tokenIds).execute()
    : [];
  const users = emails.length
    ? await db.selectFrom('app_user').select(['email', 'display_name']).where('email', 'in', emails).execute()
    : [];
  const tokenName = new Map(tokens.map((t) => [Number(t.id), t.name]));
  const userName = new Map(users.map((u) => [u.email, u.display_name]));
  const labels = new Map<string, string>();
  for (const a of unique) labels.set(a, label(a, tokenName, userName));
  return labels;
}

function label(actor: string, tokenName: Map<number, string>, userName: Map<string, string>): string {
  const token = /^token:(\d+)$/.exec(actor);
  if (token) {
    const name = tokenName.get(Number(token[1]));
    return name ? `API-token ‘${name}’` : 'API-token';
  }
  if (actor.startsWith('cli:')) return 'beheerder (opdrachtregel)';
  if (actor === 'system') return 'systeem';
  const name = userName.get(actor.toLowerCase());
  return name && name !== actor ? `${name} (${actor})` : actor;
}
