import type { Kysely } from 'kysely';
import { readGemeenten } from '../schema/codelists.js';
import { audit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import type { Store } from '../store/open.js';
import {
  getOrganisation,
  insertOrganisation,
  listOrganisations as listOrganisationRows,
  type Organisation,
  setActive,
  setHistoryRequested,
  setInactive,
  setLeaveOutPersonalData,
  updateMembers,
} from '../store/organisations.js';
import { DeliveryError } from './deliveries-errors.js';

export type { Organisation } from '../store/organisations.js';

const CBS_CODE = /^\d{4}$/;
/** A municipality of the CBS code list the project ships (src/schema/codelijsten/gemeentecodes.csv). */
const isGemeente = (code: string): boolean => readGemeenten().some((g) => g.code === code);
/**
 * A former municipality: 4 digits that the code list (the 2026 indeling) no longer has, e.g. Weesp 0457,
 * merged into Amsterdam in 2022. Messages carry the code valid on their date, so its history is stored under
 * it. There is no list of former codes to check against; `organisations list` shows what was named.
 */
export const isFormerGemeente = (code: string): boolean => CBS_CODE.test(code) && !isGemeente(code);

/** The former municipalities among an organisation's members (its own code never: it was checked at add). */
export const formerMembers = (org: Pick<Organisation, 'code' | 'members'>): string[] =>
  org.members.filter((m) => m !== org.code && isFormerGemeente(m));

const codeList = (codes: readonly string[]): string[] =>
  [...new Set(codes.map((c) => c.trim()).filter(Boolean))].sort();

/** Checks codes named as former municipalities; refuses a current one (that is a member) with a hint. */
function checkFormer(code: string, former: readonly string[]): string[] {
  const codes = codeList(former);
  const notCbs = codes.filter((c) => !CBS_CODE.test(c));
  if (notCbs.length > 0) {
    throw new DeliveryError(
      'organisation.invalid_members',
      `organisation ${code}: a former municipality is named by its 4-digit CBS code (e.g. 0457, Weesp); not: ${notCbs.join(', ')}`,
    );
  }
  const current = codes.filter(isGemeente);
  if (current.length > 0) {
    throw new DeliveryError(
      'organisation.invalid_members',
      `organisation ${code}: ${current.join(', ')} ${current.length === 1 ? 'is a municipality' : 'are municipalities'} of the code list (2026 indeling): a current code is a member, not a former one`,
    );
  }
  return codes;
}

const HEAD_CODE = /^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$/;

export interface AddOrganisation {
  /** A municipality's CBS code (4 digits), or a head organisation's own code when `members` is given. */
  readonly code: string;
  readonly name: string;
  /** CBS codes of the municipalities a head organisation acts for. */
  readonly members?: readonly string[];
  /**
   * CBS codes of former municipalities (merged since, no longer in the code list) whose messages it receives
   * too: they become members like the others.
   */
  readonly former?: readonly string[];
  /** Its deliveries leave the columns with personal data in clear empty (default: deliver them). */
  readonly leaveOutPersonalData?: boolean;
  readonly actor: string;
  readonly now: Date;
}

/** Registers a municipality (receives its own data) or a head organisation (receives its members' data). */
export async function addOrganisation(store: Store, input: AddOrganisation): Promise<Organisation> {
  const name = input.name.trim();
  if (!name)
    throw new DeliveryError('organisation.invalid_name', `organisation ${input.code}: the name is empty`);
  const isHead = input.members !== undefined && input.members.length > 0;
  if (!isHead && !CBS_CODE.test(input.code)) {
    throw new DeliveryError(
      'organisation.invalid_code',
      `organisation ${input.code}: a municipality is registered by its 4-digit CBS code (e.g. 0363); a head organisation needs --members`,
    );
  }
  if (!isHead && !isGemeente(input.code)) {
    throw new DeliveryError(
      'organisation.invalid_code',
      `organisation ${input.code}: no municipality has this CBS code (code list gemeentecodes)`,
    );
  }
  // A 4-digit code is a municipality's: as a head organisation's it would read as that municipality.
  if (isHead && (!HEAD_CODE.test(input.code) || CBS_CODE.test(input.code))) {
    throw new DeliveryError(
      'organisation.invalid_code',
      `organisation ${input.code}: use 2–32 letters, digits, '-' or '_' for a head organisation's code, not a municipality's 4-digit CBS code`,
    );
  }
  const current = isHead ? [...new Set(input.members)].sort() : [input.code];
  const bad = current.filter((m) => !isGemeente(m));
  if (bad.length > 0) {
    const hint = bad.some(isFormerGemeente) ? ' (a former municipality is named with --former)' : '';
    throw new DeliveryError(
      'organisation.invalid_members',
      `organisation ${input.code}: members must be CBS codes of municipalities; not: ${bad.join(', ')}${hint}`,
    );
  }
  const former = checkFormer(input.code, input.former ?? []);
  const members = codeList([...current, ...former]);
  // Codes are exact, but two that differ only in case would be told apart by nobody.
  const same = (await listOrganisations(store)).find(
    (o) => o.code.toLowerCase() === input.code.toLowerCase(),
  );
  if (same) {
    throw new DeliveryError('organisation.exists', `organisation ${same.code} is already registered`);
  }
  await insertOrganisation(store.db, {
    code: input.code,
    name,
    kind: isHead ? 'hoofdorganisatie' : 'gemeente',
    members,
    createdAt: input.now,
    leaveOutPersonalData: input.leaveOutPersonalData ?? false,
  });
  await audit(store, {
    at: input.now,
    actor: input.actor,
    organisation: input.code,
    action: 'organisation.add',
    detail: {
      kind: isHead ? 'hoofdorganisatie' : 'gemeente',
      members,
      ...(former.length > 0 ? { former } : {}),
      ...(input.leaveOutPersonalData ? { personalData: 'leave-out' } : {}),
    },
  });
  return (await getOrganisation(store.db, input.code))!;
}

/**
 * Activates an organisation: from now on it receives weekly deliveries. A weekly holds all data not
 * delivered before (the contract), so the first one holds everything stored for it so far. A re-activation
 * (after `deactivateOrganisation`) keeps the weekly cursor: its next weekly holds what came in meanwhile, and
 * nothing delivered before.
 */
export async function activateOrganisation(
  store: Store,
  input: { readonly code: string; readonly actor: string; readonly now: Date },
): Promise<Organisation> {
  const org = await requireOrganisation(store, input.code);
  if (org.active)
    throw new DeliveryError('organisation.already_active', `organisation ${input.code} is already active`);
  const first = org.activatedAt === null;
  if (!(await setActive(store.db, input.code, input.now, first ? { seq: 0, linkSeq: 0 } : undefined))) {
    throw new DeliveryError('organisation.already_active', `organisation ${input.code} is already active`);
  }
  await audit(store, {
    at: input.now,
    actor: input.actor,
    organisation: input.code,
    action: 'organisation.activate',
    ...(first ? {} : { detail: { deactivatedAt: org.deactivatedAt } }),
  });
  return (await getOrganisation(store.db, input.code))!;
}

export interface Deactivated {
  readonly organisation: Organisation;
  /** The history request that was pending and is withdrawn with the deactivation (its moment and who). */
  readonly historyWithdrawn: {
    readonly requestedAt: string | null;
    readonly requestedBy: string | null;
  } | null;
}

/**
 * Deactivates an organisation (a region that dissolves, a municipality that leaves the service): from now on
 * the weekly run makes no delivery for it. Its deliveries made so far stay downloadable until they expire
 * (60 days). A history request not served yet is withdrawn: a new activation does not serve an old request
 * (asked again, it is). The weekly cursor stays, so a re-activation's next weekly has no gap and no repeat.
 */
export async function deactivateOrganisation(
  store: Store,
  input: { readonly code: string; readonly actor: string; readonly now: Date },
): Promise<Deactivated> {
  const org = await requireOrganisation(store, input.code);
  const notActive = () =>
    new DeliveryError(
      'organisation.not_active',
      `organisation ${input.code} is not active${org.activatedAt === null ? ' (it was never activated)' : ''}: there is nothing to deactivate`,
    );
  if (!org.active) throw notActive();
  if (!(await setInactive(store.db, input.code))) throw notActive();
  const historyWithdrawn = org.historyRequested
    ? { requestedAt: org.historyRequestedAt, requestedBy: org.historyRequestedBy }
    : null;
  await audit(store, {
    at: input.now,
    actor: input.actor,
    organisation: input.code,
    action: 'organisation.deactivate',
    ...(historyWithdrawn ? { detail: { historyWithdrawn: historyWithdrawn.requestedAt } } : {}),
  });
  return { organisation: (await getOrganisation(store.db, input.code))!, historyWithdrawn };
}

/**
 * Whether the organisation's deliveries leave the columns with personal data in clear empty (names, birth
 * dates, addresses, contact details, free text), from the next delivery it gets on. Deliveries made before
 * stay as they are. Recorded in the audit log when it changes.
 */
export async function setPersonalData(
  store: Store,
  input: { readonly code: string; readonly leaveOut: boolean; readonly actor: string; readonly now: Date },
): Promise<Organisation> {
  const org = await requireOrganisation(store, input.code);
  if (org.leavesOutPersonalData === input.leaveOut) return org;
  await setLeaveOutPersonalData(store.db, input.code, input.leaveOut);
  await audit(store, {
    at: input.now,
    actor: input.actor,
    organisation: input.code,
    action: 'organisation.personal_data',
    detail: { personalData: input.leaveOut ? 'leave-out' : 'deliver' },
  });
  return (await getOrganisation(store.db, input.code))!;
}

/** Ticks "Historie opvragen": the next weekly run also makes a delivery of everything since 1-1-2021. */
export async function requestHistory(
  store: Store,
  input: { readonly code: string; readonly actor: string; readonly now: Date },
): Promise<Organisation> {
  const org = await requireOrganisation(store, input.code);
  const inactive = () =>
    new DeliveryError(
      'organisation.inactive',
      `organisation ${input.code} is not active: activate it first (ketendata organisations activate ${input.code})`,
    );
  if (!org.active) throw inactive();
  if (!org.historyRequested) {
    // Deactivated since it was read: no request is left for a later activation to serve.
    if (!(await setHistoryRequested(store.db, input.code, true, input.now, input.actor))) throw inactive();
    await audit(store, {
      at: input.now,
      actor: input.actor,
      organisation: input.code,
      action: 'organisation.request_history',
    });
  }
  return (await getOrganisation(store.db, input.code))!;
}

/**
 * Changes the municipalities a head organisation acts for: the whole list, as `organisations list` and the
 * operator page show it, former municipalities included (4 digits no longer in the code list). Its next
 * weekly holds all data of a new member stored so far (not delivered to it before); from then on the member
 * follows the organisation's cursor.
 */
export async function setMembers(
  store: Store,
  input: {
    readonly code: string;
    readonly members: readonly string[];
    readonly actor: string;
    readonly now: Date;
  },
): Promise<Organisation> {
  const org = await requireOrganisation(store, input.code);
  if (org.kind !== 'hoofdorganisatie') {
    throw new DeliveryError(
      'organisation.not_head',
      `organisation ${input.code} is a municipality: only a head organisation has member municipalities`,
    );
  }
  const members = codeList(input.members);
  if (members.length === 0) throw invalidMembers(input.code, []);
  return changeMembers(store, input.code, 'organisation.members', input, async (current, trx) => {
    // A code outside the list is taken as a former municipality when it is one already (the list and the
    // operator page show the whole list) or when messages of it are stored; so a typo such as 0364 is
    // refused. `organisations former` names one before its messages come.
    const named = formerMembers({ code: input.code, members: current });
    const unlisted = members.filter((m) => !isGemeente(m) && !named.includes(m));
    const stored = await storedGemeenten(trx, unlisted.filter(isFormerGemeente));
    const bad = unlisted.filter((m) => !stored.has(m));
    if (bad.length > 0) throw invalidMembers(input.code, bad);
    return { members, detail: { before: current, after: members } };
  });
}

function invalidMembers(code: string, bad: readonly string[]): DeliveryError {
  const hint = bad.some(isFormerGemeente)
    ? ' (a former municipality no longer in the code list is taken here once messages of it are stored; before that, name it with `organisations former`)'
    : '';
  return new DeliveryError(
    'organisation.invalid_members',
    `organisation ${code}: members must be one or more CBS codes of municipalities (code list, 2026 indeling)${bad.length ? `; not: ${bad.join(', ')}` : ''}${hint}`,
  );
}

/** Of these gemeente codes, those that stored messages carry. */
async function storedGemeenten(db: Kysely<Database>, codes: readonly string[]): Promise<Set<string>> {
  if (codes.length === 0) return new Set();
  const rows = await db
    .selectFrom('message')
    .select('gemeente')
    .distinct()
    .where('gemeente', 'in', codes)
    .execute();
  return new Set(rows.map((r) => r.gemeente));
}

/**
 * Names the former municipalities whose messages an organisation (a municipality or a head organisation)
 * receives, replacing those named before; its other members stay. They are members like the others: the
 * next weekly holds all stored data of one newly named, once, and a history delivery holds it too.
 */
export async function setFormerMunicipalities(
  store: Store,
  input: {
    readonly code: string;
    readonly former: readonly string[];
    readonly actor: string;
    readonly now: Date;
  },
): Promise<Organisation> {
  await requireOrganisation(store, input.code);
  const former = checkFormer(input.code, input.former);
  return changeMembers(store, input.code, 'organisation.former', input, async (current) => {
    const before = formerMembers({ code: input.code, members: current });
    if (before.join(',') === former.join(',')) return undefined;
    const kept = current.filter((m) => !before.includes(m));
    // The audit line names the former codes; `members` is the whole list they are now part of.
    const members = codeList([...kept, ...former]);
    return { members, detail: { before, after: former, members } };
  });
}

/**
 * Changes an organisation's members from the ones it has at that moment (`updateMembers`: locked, so two
 * changes at once do not drop each other's), and logs it.
 */
async function changeMembers(
  store: Store,
  code: string,
  action: 'organisation.members' | 'organisation.former',
  input: { readonly actor: string; readonly now: Date },
  next: (
    current: readonly string[],
    trx: Kysely<Database>,
  ) => Promise<{ members: readonly string[]; detail: Record<string, unknown> } | undefined>,
): Promise<Organisation> {
  let detail: Record<string, unknown> | undefined;
  const changed = await updateMembers(store.db, store.dialect, code, input.now, async (current, trx) => {
    const change = await next(current, trx);
    detail = change?.detail;
    return change?.members;
  });
  if (changed && detail)
    await audit(store, { at: input.now, actor: input.actor, organisation: code, action, detail });
  return (await getOrganisation(store.db, code))!;
}

/** Withdraws a history request that has not been served yet. */
export async function cancelHistoryRequest(
  store: Store,
  input: { readonly code: string; readonly actor: string; readonly now: Date },
): Promise<Organisation> {
  const org = await requireOrganisation(store, input.code);
  if (org.historyRequested) {
    await setHistoryRequested(store.db, input.code, false, input.now, input.actor);
    await audit(store, {
      at: input.now,
      actor: input.actor,
      organisation: input.code,
      action: 'organisation.cancel_history',
    });
  }
  return (await getOrganisation(store.db, input.code))!;
}

export async function listOrganisations(
  store: Store,
  filter: { activeOnly?: boolean } = {},
): Promise<Organisation[]> {
  return listOrganisationRows(store.db, filter);
}

export async function findOrganisation(store: Store, code: string): Promise<Organisation | undefined> {
  return getOrganisation(store.db, code);
}

export async function requireOrganisation(store: Store, code: string): Promise<Organisation> {
  const org = await getOrganisation(store.db, code);
  if (!org) {
    throw new DeliveryError(
      'organisation.not_found',
      `organisation ${code} is not registered (see: ketendata organisations list)`,
    );
  }
  return org;
}

/** The municipalities (CBS codes) whose data an organisation receives. */
export async function membersOf(store: Store, code: string): Promise<readonly string[]> {
  return (await requireOrganisation(store, code)).members;
}
