import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, Dialect } from './database.js';
import type { OrganisationKind, OrganisationTable } from './tables/deliveries.js';

export interface Organisation {
  readonly code: string;
  readonly name: string;
  readonly kind: OrganisationKind;
  readonly active: boolean;
  readonly createdAt: string;
  readonly activatedAt: string | null;
  /**
   * When it was deactivated, while it is inactive after having been active (the last `organisation.deactivate`
   * in the audit log); null while active or never activated.
   */
  readonly deactivatedAt: string | null;
  /** CBS codes whose data it receives (a municipality: itself), former municipalities it names included. */
  readonly members: readonly string[];
  /** Members that joined later with data it has not been sent: the next weekly sends it. */
  readonly catchUp: readonly string[];
  /** When members were added (members from its registration are not listed). */
  readonly joinedAt: Readonly<Record<string, string>>;
  readonly weeklySeq: number;
  readonly weeklyLinkSeq: number;
  readonly weeklySlot: string | null;
  readonly historyRequested: boolean;
  readonly historyRequestedAt: string | null;
  readonly historyRequestedBy: string | null;
  /** Its deliveries leave the columns with personal data in clear empty. */
  readonly leavesOutPersonalData: boolean;
}

interface Members {
  readonly members: string[];
  readonly catchUp: string[];
  readonly joinedAt: Record<string, string>;
}

const NO_MEMBERS = (): Members => ({ members: [], catchUp: [], joinedAt: {} });

function toOrganisation(
  row: OrganisationTable,
  { members, catchUp, joinedAt }: Members,
  deactivated: ReadonlyMap<string, string>,
): Organisation {
  return {
    code: row.code,
    name: row.name,
    kind: row.kind,
    active: Number(row.active) === 1,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    deactivatedAt: wasDeactivated(row) ? (deactivated.get(row.code) ?? null) : null,
    members,
    catchUp,
    joinedAt,
    weeklySeq: Number(row.weekly_seq),
    weeklyLinkSeq: Number(row.weekly_link_seq),
    weeklySlot: row.weekly_slot,
    historyRequested: Number(row.history_requested) === 1,
    historyRequestedAt: row.history_requested_at,
    historyRequestedBy: row.history_requested_by,
    leavesOutPersonalData: Number(row.leave_out_personal_data) === 1,
  };
}

export async function insertOrganisation(
  db: Kysely<Database>,
  org: {
    code: string;
    name: string;
    kind: OrganisationKind;
    members: readonly string[];
    createdAt: Date;
    leaveOutPersonalData?: boolean;
  },
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
        leave_out_personal_data: org.leaveOutPersonalData ? 1 : 0,
      })
      .execute();
    await trx
      .insertInto('organisation_member')
      .values(org.members.map((gemeente) => ({ organisation: org.code, gemeente })))
      .execute();
  });
}

/**
 * Replaces an organisation's members (a head organisation's municipalities; the former municipalities a
 * municipality or head organisation names). A member that was not one before joins `now` and is
 * marked to catch up: its data so far has not been sent to this organisation. A member that stays keeps
 * its mark and its moment of joining.
 */
export async function replaceMembers(
  db: Kysely<Database>,
  code: string,
  members: readonly string[],
  now: Date,
): Promise<void> {
  await db.transaction().execute((trx) => writeMembers(trx, code, members, now));
}

/**
 * Changes an organisation's members from what they are, in one transaction with the organisation's row locked
 * (PostgreSQL; SQLite writes one at a time): `next` gets the current members and returns the new ones, or
 * undefined for no change. Two changes at once (`members` and `former`) each see the other's result, so
 * neither drops a member the other kept. Returns the members before and after, or undefined.
 */
export async function updateMembers(
  db: Kysely<Database>,
  dialect: Dialect,
  code: string,
  now: Date,
  next: (current: readonly string[], trx: Transaction<Database>) => Promise<readonly string[] | undefined>,
): Promise<{ readonly before: readonly string[]; readonly after: readonly string[] } | undefined> {
  return db.transaction().execute(async (trx) => {
    await lockOrganisation(trx, dialect, code);
    const before = (
      await trx
        .selectFrom('organisation_member')
        .select('gemeente')
        .where('organisation', '=', code)
        .orderBy('gemeente')
        .execute()
    ).map((m) => m.gemeente);
    const after = await next(before, trx);
    if (!after) return undefined;
    await writeMembers(trx, code, after, now);
    return { before, after };
  });
}

async function writeMembers(
  trx: Transaction<Database>,
  code: string,
  members: readonly string[],
  now: Date,
): Promise<void> {
  const before = await trx
    .selectFrom('organisation_member')
    .select(['gemeente', 'catch_up', 'joined_at'])
    .where('organisation', '=', code)
    .execute();
  const kept = new Map(before.map((m) => [m.gemeente, m]));
  await trx.deleteFrom('organisation_member').where('organisation', '=', code).execute();
  await trx
    .insertInto('organisation_member')
    .values(
      members.map((gemeente) => {
        const k = kept.get(gemeente);
        return k
          ? { organisation: code, gemeente, catch_up: Number(k.catch_up), joined_at: k.joined_at }
          : { organisation: code, gemeente, catch_up: 1, joined_at: now.toISOString() };
      }),
    )
    .execute();
}

/** Whether the organisation's deliveries from now on leave the columns with personal data in clear empty. */
export async function setLeaveOutPersonalData(
  db: Kysely<Database>,
  code: string,
  leaveOut: boolean,
): Promise<void> {
  await db
    .updateTable('organisation')
    .set({ leave_out_personal_data: leaveOut ? 1 : 0 })
    .where('code', '=', code)
    .execute();
}

/** The members a weekly delivery has caught up: from now on they follow the organisation's cursor. */
export async function clearCatchUp(
  trx: Transaction<Database>,
  code: string,
  gemeenten: readonly string[],
): Promise<void> {
  if (gemeenten.length === 0) return;
  await trx
    .updateTable('organisation_member')
    .set({ catch_up: 0 })
    .where('organisation', '=', code)
    .where('gemeente', 'in', gemeenten)
    .execute();
}

async function membersOf(db: Kysely<Database>, codes: readonly string[]): Promise<Map<string, Members>> {
  const out = new Map<string, Members>();
  if (codes.length === 0) return out;
  const rows = await db
    .selectFrom('organisation_member')
    .select(['organisation', 'gemeente', 'catch_up', 'joined_at'])
    .where('organisation', 'in', codes)
    .orderBy('gemeente')
    .execute();
  for (const r of rows) {
    let m = out.get(r.organisation);
    if (!m) {
      m = NO_MEMBERS();
      out.set(r.organisation, m);
    }
    m.members.push(r.gemeente);
    if (Number(r.catch_up) === 1) m.catchUp.push(r.gemeente);
    if (r.joined_at) m.joinedAt[r.gemeente] = r.joined_at;
  }
  return out;
}

export async function getOrganisation(db: Kysely<Database>, code: string): Promise<Organisation | undefined> {
  const row = await db.selectFrom('organisation').selectAll().where('code', '=', code).executeTakeFirst();
  if (!row) return undefined;
  return toOrganisation(
    row,
    (await membersOf(db, [code])).get(code) ?? NO_MEMBERS(),
    await deactivatedAt(db, wasDeactivated(row) ? [code] : []),
  );
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
  const deactivated = await deactivatedAt(
    db,
    rows.filter(wasDeactivated).map((r) => r.code),
  );
  return rows.map((r) => toOrganisation(r, members.get(r.code) ?? NO_MEMBERS(), deactivated));
}

/**
 * Activates an organisation. A first activation passes its weekly cursor (`restart`) and its weekly slot starts
 * at the activation moment. A re-activation passes none: the cursor stays where its last weekly left it, so its
 * next weekly holds exactly what was not delivered before; the slot of that weekly stays too (the next one's
 * period starts there), unless it never had a weekly.
 */
export async function setActive(
  db: Kysely<Database>,
  code: string,
  at: Date,
  restart?: { readonly seq: number; readonly linkSeq: number },
): Promise<boolean> {
  const now = at.toISOString();
  const r = await db
    .updateTable('organisation')
    .set(
      restart
        ? {
            active: 1,
            activated_at: now,
            weekly_seq: restart.seq,
            weekly_link_seq: restart.linkSeq,
            weekly_slot: now,
          }
        : {
            active: 1,
            activated_at: now,
            // The old row's values: still at its former activation moment, it never had a weekly.
            weekly_slot: sql<string>`case when weekly_slot is null or weekly_slot = activated_at then ${now} else weekly_slot end`,
          },
    )
    .where('code', '=', code)
    .where('active', '=', 0)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Deactivates an organisation: the weekly run makes nothing for it any more. Its cursor and weekly slot stay
 * for a re-activation; a history request not served yet is withdrawn with it.
 */
export async function setInactive(db: Kysely<Database>, code: string): Promise<boolean> {
  const r = await db
    .updateTable('organisation')
    .set({ active: 0, history_requested: 0, history_requested_at: null, history_requested_by: null })
    .where('code', '=', code)
    .where('active', '=', 1)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Inactive after having been active: it was deactivated (a new organisation has no activation moment). */
const wasDeactivated = (row: OrganisationTable): boolean =>
  Number(row.active) !== 1 && row.activated_at !== null;

/** When each of these organisations was last deactivated (from the audit log; nothing there: not listed). */
async function deactivatedAt(db: Kysely<Database>, codes: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (codes.length === 0) return out;
  const rows = await db
    .selectFrom('audit_log')
    .select(['organisation', (eb) => eb.fn.max('at').as('at')])
    .where('action', '=', 'organisation.deactivate')
    .where('organisation', 'in', codes)
    .groupBy('organisation')
    .execute();
  for (const r of rows) if (r.organisation && r.at) out.set(r.organisation, String(r.at));
  return out;
}

/**
 * Sets or clears the history request. A request is set only while the organisation is active (in the same
 * statement, so a deactivation at that moment cannot leave one behind for a later activation); returns
 * whether the row changed.
 */
export async function setHistoryRequested(
  db: Kysely<Database>,
  code: string,
  requested: boolean,
  at: Date,
  by: string,
): Promise<boolean> {
  let q = db
    .updateTable('organisation')
    .set(
      requested
        ? { history_requested: 1, history_requested_at: at.toISOString(), history_requested_by: by }
        : { history_requested: 0, history_requested_at: null, history_requested_by: null },
    )
    .where('code', '=', code);
  if (requested) q = q.where('active', '=', 1);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
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
