import { readGemeenten } from '../schema/codelists.js';
import { audit } from '../store/audit.js';
import type { Store } from '../store/open.js';
import {
  getOrganisation,
  insertOrganisation,
  listOrganisations as listOrganisationRows,
  type Organisation,
  replaceMembers,
  setActive,
  setHistoryRequested,
  setLeaveOutPersonalData,
} from '../store/organisations.js';
import { DeliveryError } from './deliveries-errors.js';

export type { Organisation } from '../store/organisations.js';

const CBS_CODE = /^\d{4}$/;
/** A municipality of the CBS code list the project ships (src/schema/codelijsten/gemeentecodes.csv). */
const isGemeente = (code: string): boolean => readGemeenten().some((g) => g.code === code);
const HEAD_CODE = /^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$/;

export interface AddOrganisation {
  /** A municipality's CBS code (4 digits), or a head organisation's own code when `members` is given. */
  readonly code: string;
  readonly name: string;
  /** CBS codes of the municipalities a head organisation acts for. */
  readonly members?: readonly string[];
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
  const members = isHead ? [...new Set(input.members)].sort() : [input.code];
  const bad = members.filter((m) => !isGemeente(m));
  if (bad.length > 0) {
    throw new DeliveryError(
      'organisation.invalid_members',
      `organisation ${input.code}: members must be CBS codes of municipalities; not: ${bad.join(', ')}`,
    );
  }
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
      ...(input.leaveOutPersonalData ? { personalData: 'leave-out' } : {}),
    },
  });
  return (await getOrganisation(store.db, input.code))!;
}

/**
 * Activates an organisation: from now on it receives weekly deliveries. A weekly holds all data not
 * delivered before (the contract), so the first one holds everything stored for it so far.
 */
export async function activateOrganisation(
  store: Store,
  input: { readonly code: string; readonly actor: string; readonly now: Date },
): Promise<Organisation> {
  const org = await requireOrganisation(store, input.code);
  if (org.active)
    throw new DeliveryError('organisation.already_active', `organisation ${input.code} is already active`);
  if (!(await setActive(store.db, input.code, input.now, { seq: 0, linkSeq: 0 }))) {
    throw new DeliveryError('organisation.already_active', `organisation ${input.code} is already active`);
  }
  await audit(store, {
    at: input.now,
    actor: input.actor,
    organisation: input.code,
    action: 'organisation.activate',
  });
  return (await getOrganisation(store.db, input.code))!;
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
  if (!org.active) {
    throw new DeliveryError(
      'organisation.inactive',
      `organisation ${input.code} is not active: activate it first (ketendata organisations activate ${input.code})`,
    );
  }
  if (!org.historyRequested) {
    await setHistoryRequested(store.db, input.code, true, input.now, input.actor);
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
 * Changes the municipalities a head organisation acts for. Its next weekly holds all data of a new member
 * stored so far (not delivered to it before); from then on the member follows the organisation's cursor.
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
  const members = [...new Set(input.members.map((m) => m.trim()).filter(Boolean))].sort();
  const bad = members.filter((m) => !isGemeente(m));
  if (members.length === 0 || bad.length > 0) {
    throw new DeliveryError(
      'organisation.invalid_members',
      `organisation ${input.code}: members must be one or more CBS codes of municipalities${bad.length ? `; not: ${bad.join(', ')}` : ''}`,
    );
  }
  await replaceMembers(store.db, input.code, members, input.now);
  await audit(store, {
    at: input.now,
    actor: input.actor,
    organisation: input.code,
    action: 'organisation.members',
    detail: { before: org.members, after: members },
  });
  return (await getOrganisation(store.db, input.code))!;
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
