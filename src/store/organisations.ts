import type { Kysely, Transaction } from 'kysely';
import type { Database, Dialect } from './database.js';
import type { OrganisationKind, OrganisationTable } from './tables/deliveries.js';

export interface Organisation {
  readonly code: string;
  readonly name: string;
  readonly kind: OrganisationKind;
  readonly active: boolean;
  readonly createdAt: string;
  readonly activatedAt: string | null;
  /** CBS codes whose data it receives (a municipality: itself). */
  readonly members: readonly string[];
  readonly weeklySeq: number;
  readonly weeklyLinkSeq: number;
  readonly weeklySlot: string | null;
  readonly historyRequested: boolean;
  readonly historyRequestedAt: string | null;
  readonly historyRequestedBy: string | null;
}

function toOrganisation(row: OrganisationTable, members: readonly string[]): Organisation {
  return {
    code: row.code,
    name: row.name,
    kind: row.kind,
    active: Number(row.active) === 1,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    members,
    weeklySeq: Number(row.weekly_seq),
    weeklyLinkSeq: Number(row.weekly_link_seq),
    weeklySlot: row.weekly_slot,
    historyRequested: Number(row.history_requested) === 1,
    historyRequestedAt: row.history_requested_at,
    historyRequestedBy: row.history_requested_by,
  };
}

export async function insertOrganisation(
  db: Kysely<Database>,
  org: { code: string; name: string; kind: OrganisationKind; members: readonly string[]; createdAt: Date },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('organisation')
      .values({
        code: org.code,
        name: org.name,
        kind: org.kind,
        active: 0,
        created_at: org.createdAt.toISOString(),
        activated_at: null,
        weekly_seq: 0,
        weekly_link_seq: 0,
        weekly_slot: null,
        history_requested: 0,
        history_requested_at: null,
        history_requested_by: null,
      })
      .execute();
    await trx
      .insertInto('organisation_member')
      .values(org.members.map((gemeente) => ({ organisation: org.code, gemeente })))
      .execute();
  });
}

/** Replaces a head organisation's member municipalities. */
export async function replaceMembers(
  db: Kysely<Database>,
  code: string,
  members: readonly string[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('organisation_member').where('organisation', '=', code).execute();
    await trx
      .insertInto('organisation_member')
      .values(members.map((gemeente) => ({ organisation: code, gemeente })))
      .execute();
  });
}

async function membersOf(db: Kysely<Database>, codes: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (codes.length === 0) return out;
  const rows = await db
    .selectFrom('organisation_member')
    .select(['organisation', 'gemeente'])
    .where('organisation', 'in', codes)
    .orderBy('gemeente')
    .execute();
  for (const r of rows) {
    const list = out.get(r.organisation) ?? [];
    list.push(r.gemeente);
    out.set(r.organisation, list);
  }
  return out;
}

export async function getOrganisation(db: Kysely<Database>, code: string): Promise<Organisation | undefined> {
  const row = await db.selectFrom('organisation').selectAll().where('code', '=', code).executeTakeFirst();
  if (!row) return undefined;
  return toOrganisation(row, (await membersOf(db, [code])).get(code) ?? []);
}

export async function listOrganisations(
  db: Kysely<Database>,
  filter: { readonly activeOnly?: boolean } = {},
): Promise<Organisation[]> {
  let q = db.selectFrom('organisation').selectAll();
  if (filter.activeOnly) q = q.where('active', '=', 1);
  const rows = await q.orderBy('code').execute();
  const members = await membersOf(
    db,
    rows.map((r) => r.code),
  );
  return rows.map((r) => toOrganisation(r, members.get(r.code) ?? []));
}

/** Activates an organisation with the given weekly cursor; its weekly slot starts at the activation moment. */
export async function setActive(
  db: Kysely<Database>,
  code: string,
  at: Date,
  cursor: { readonly seq: number; readonly linkSeq: number },
): Promise<boolean> {
  const r = await db
    .updateTable('organisation')
    .set({
      active: 1,
      activated_at: at.toISOString(),
      weekly_seq: cursor.seq,
      weekly_link_seq: cursor.linkSeq,
      weekly_slot: at.toISOString(),
    })
    .where('code', '=', code)
    .where('active', '=', 0)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function setHistoryRequested(
  db: Kysely<Database>,
  code: string,
  requested: boolean,
  at: Date,
  by: string,
): Promise<void> {
  await db
    .updateTable('organisation')
    .set(
      requested
        ? { history_requested: 1, history_requested_at: at.toISOString(), history_requested_by: by }
        : { history_requested: 0, history_requested_at: null, history_requested_by: null },
    )
    .where('code', '=', code)
    .execute();
}

/** Reads an organisation inside a transaction, row-locked on PostgreSQL so two workers serialise on it. */
export async function lockOrganisation(
  trx: Transaction<Database>,
  dialect: Dialect,
  code: string,
): Promise<OrganisationTable | undefined> {
  let q = trx.selectFrom('organisation').selectAll().where('code', '=', code);
  if (dialect === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}
