import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import * as OTPAuth from 'otpauth';
import { keyedDigest, type TotpKeys } from '../pseudonymise/keys.js';
import { rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { openTotpSecret, sealTotpSecret } from '../pseudonymise/totp-secret.js';
import {
  type ApiTokenRow,
  findToken,
  insertApiToken,
  listTokens,
  markTokenUsed,
  revokeToken,
} from '../store/api-tokens.js';
import { audit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { getOrganisation } from '../store/organisations.js';
import {
  clearLoginFailures,
  countLoginFailures,
  deletePendingSession,
  deleteSession,
  deleteSessionsOfUser,
  findLiveSession,
  insertSession,
  releaseLoginAttempts,
  reserveLoginAttempt,
  type SessionRow,
  touchSession,
} from '../store/sessions.js';
import type { UserRole } from '../store/tables/accounts.js';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  takeTotpStep,
  type UserRow,
  updateUser,
} from '../store/users.js';
import { AccountError } from './accounts-errors.js';

// @node-rs/argon2 exports Algorithm as an ambient const enum, which isolated modules cannot read: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Idle timeout of a portal session. */
export const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;
/**
 * However active, a session ends this long after its login (or its last password or second-factor step): a
 * session cookie someone took stays of use for a working day at most, not until the user logs out.
 */
export const SESSION_MAX_MS = 12 * 60 * 60 * 1000;
/**
 * Login throttling: this many failures in the window block further attempts for that e-mail, device cookie or
 * address (an IPv6 client by its /64, see `addressKey`). An attempt with a valid device cookie for its e-mail
 * counts against the cookie instead of the e-mail.
 */
export const THROTTLE = { window: 15 * 60 * 1000, perEmail: 5, perDevice: 5, perAddress: 50 } as const;
/** Lifetime of a device cookie. */
export const DEVICE_COOKIE_MS = 365 * 24 * 60 * 60 * 1000;

export interface PublicUser {
  readonly id: number;
  readonly email: string;
  readonly displayName: string;
  readonly role: UserRole;
  readonly organisationCode: string | null;
  readonly totpEnabled: boolean;
  /** The password is one an operator set: the user chooses an own one before using the portal. */
  readonly passwordTemporary: boolean;
}

export function publicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    organisationCode: row.organisation_code,
    totpEnabled: row.totp_enabled === 1,
    passwordTemporary: row.password_temporary === 1,
  };
}

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const iso = (d: Date): string => d.toISOString();

export function checkPassword(password: string): void {
  // Spaces inside a passphrase count; spaces around it (or nothing but spaces) do not.
  if (password.trim().length < 12) {
    throw new AccountError(
      'accounts.weak_password',
      'password too short: use at least 12 characters besides spaces at the start and end',
    );
  }
}

/** An account or token of an organisation is only of use when the organisation is registered. */
async function requireOrganisation(db: Kysely<Database>, code: string): Promise<void> {
  if (!(await getOrganisation(db, code))) {
    throw new AccountError(
      'organisation.not_found',
      `organisation ${code} is not registered (see: ketendata organisations list)`,
    );
  }
}

export interface CreateUserInput {
  readonly email: string;
  readonly displayName: string;
  readonly password: string;
  readonly role: UserRole;
  readonly organisationCode: string | null;
  /** An operator chose the password (the portal's form, `users add`): the user replaces it at the first login. */
  readonly temporaryPassword?: boolean;
}

export async function createUser(
  db: Kysely<Database>,
  input: CreateUserInput,
  now: Date,
): Promise<PublicUser> {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email))
    throw new AccountError('accounts.invalid_email', 'not an e-mail address');
  checkPassword(input.password);
  if (input.role === 'user' && !input.organisationCode) {
    throw new AccountError(
      'accounts.organisation_required',
      'a user belongs to one organisation: give its code',
    );
  }
  if (input.role === 'user' && input.organisationCode) await requireOrganisation(db, input.organisationCode);
  if (await findUserByEmail(db, email))
    throw new AccountError('accounts.email_taken', 'that e-mail already has an account');
  const row = await insertUser(db, {
    email,
    displayName: input.displayName,
    passwordHash: await hash(input.password, ARGON2_OPTIONS),
    passwordTemporary: input.temporaryPassword === true,
    role: input.role,
    organisationCode: input.role === 'operator' ? null : input.organisationCode,
    createdAt: iso(now),
  });
  return publicUser(row);
}

export type LoginResult =
  | {
      readonly ok: true;
      readonly user: PublicUser;
      readonly sessionToken: string;
      readonly pendingSecondFactor: boolean;
      /** A new device cookie for the browser, when the login was given `device`. */
      readonly deviceCookie?: string;
    }
  // `disabled`: the right password of a blocked account, for the audit log only (the page says what it says
  // of a wrong one, so a blocked address is not confirmed to whoever tries it).
  | { readonly ok: false; readonly reason: 'invalid' | 'disabled' | 'throttled' };

/** The browser's device cookie (if any) and the key that signs device cookies. */
export interface LoginDevice {
  readonly key: Buffer;
  readonly cookie: string | undefined;
}

/**
 * Checks a password and opens a session. Failures are counted per e-mail and per client address; past the
 * limit the attempt is refused before the password is even checked, so guessing stays slow. A browser with a
 * valid device cookie for the e-mail (OWASP "device cookies") is counted per cookie instead of per e-mail:
 * someone guessing the e-mail's password elsewhere does not lock its user out of a browser used before.
 */
export async function login(
  db: Kysely<Database>,
  input: {
    readonly email: string;
    readonly password: string;
    readonly address: string;
    readonly device?: LoginDevice;
  },
  now: Date,
): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase();
  const user = await findUserByEmail(db, email);
  const device = input.device && deviceKey(input.device.key, input.device.cookie, email);
  let blocked = false;
  const outcome = await limitedAttempt(
    db,
    [
      device ? [device, THROTTLE.perDevice] : [emailKey(email), THROTTLE.perEmail],
      [addressKey(input.address), THROTTLE.perAddress],
    ],
    now,
    // Verify against a dummy hash when the user is unknown, so timing does not reveal which e-mails exist.
    async () => {
      const right = (await verify(user?.password_hash ?? (await dummyHash()), input.password)) && !!user;
      blocked = right && !!user?.disabled_at;
      return right && !blocked;
    },
  );
  if (outcome !== 'ok')
    return { ok: false, reason: outcome === 'throttled' ? 'throttled' : blocked ? 'disabled' : 'invalid' };
  if (!user) throw new Error('unreachable: a login without a user succeeded');
  const sessionToken = await openSession(db, user.id, user.totp_enabled === 1, now);
  return {
    ok: true,
    user: publicUser(user),
    sessionToken,
    pendingSecondFactor: user.totp_enabled === 1,
    ...(input.device ? { deviceCookie: issueDeviceCookie(input.device.key, email) } : {}),
  };
}

const emailKey = (email: string) => `email:${sha256(email)}`;

/**
 * A device cookie names the e-mail it logged in with without showing it: `<nonce>.<HMAC of e-mail and
 * nonce>`. The random nonce makes each cookie its own throttle key, so a stolen one can be limited alone.
 */
export function issueDeviceCookie(key: Buffer, email: string): string {
  const nonce = randomBytes(16).toString('base64url');
  return `${nonce}.${deviceMac(key, nonce, email)}`;
}

const deviceMac = (key: Buffer, nonce: string, email: string) =>
  keyedDigest(key, ['device', nonce, email.trim().toLowerCase()]);

/** The throttle key of a device cookie signed for `email`; undefined for none, a forged one or another e-mail's. */
function deviceKey(key: Buffer, cookie: string | undefined, email: string): string | undefined {
  const parts = /^([A-Za-z0-9_-]{22})\.([0-9a-f]{64})$/.exec(cookie ?? '');
  if (!parts) return undefined;
  const [, nonce = '', mac = ''] = parts;
  const valid = timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(deviceMac(key, nonce, email), 'hex'));
  return valid ? `device:${sha256(nonce)}` : undefined;
}

/**
 * The throttle key of a client address. An IPv4 address is one client; an IPv6 client usually has a whole /64
 * (and picks new addresses in it at will), so the /64 counts as one. `::ffff:a.b.c.d` is the IPv4 address.
 */
export function addressKey(address: string): string {
  const groups = isIP(address) === 6 ? ipv6Groups(address) : undefined;
  if (!groups) return `ip:${address}`;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = groups;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff)
    return `ip:${g >> 8}.${g & 255}.${h >> 8}.${h & 255}`;
  return `ip:${[a, b, c, d].map((x) => x.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail as two groups). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [p, q, r, t] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((p << 8) | q).toString(16)}:${((r << 8) | t).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((x) => Number.parseInt(x, 16));
}

/**
 * One attempt at a secret, limited per key (e-mail or device cookie, client address) over THROTTLE.window; a
 * key with an infinite limit only counts the failure.
 * Counted as a failure before `check` runs: attempts sent at the same time see each other, so no more than the
 * limit are ever checked. Past a limit the attempt is refused unchecked, and not counted. When `check` holds,
 * the failures of the first key are forgotten (with a device cookie the cookie's: the e-mail's, perhaps a
 * stranger's, stay).
 */
async function limitedAttempt(
  db: Kysely<Database>,
  limits: readonly (readonly [key: string, limit: number])[],
  now: Date,
  check: () => Promise<boolean>,
): Promise<'ok' | 'wrong' | 'throttled'> {
  const keys = limits.map(([key]) => key);
  const since = iso(new Date(now.getTime() - THROTTLE.window));
  const attempt = await reserveLoginAttempt(db, keys, iso(now));
  const counts = await Promise.all(keys.map((k) => countLoginFailures(db, k, since)));
  if (limits.some(([, limit], i) => (counts[i] ?? 0) > limit)) {
    await releaseLoginAttempts(db, attempt);
    return 'throttled';
  }
  if (!(await check())) return 'wrong';
  await clearLoginFailures(db, keys[0] as string);
  await releaseLoginAttempts(db, attempt);
  return 'ok';
}

let dummy: Promise<string> | undefined;
function dummyHash(): Promise<string> {
  dummy ??= hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS);
  return dummy;
}

async function openSession(
  db: Kysely<Database>,
  userId: number,
  pending: boolean,
  now: Date,
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await insertSession(db, {
    id: sha256(token),
    user_id: userId,
    csrf_token: randomBytes(32).toString('base64url'),
    pending_second_factor: pending ? 1 : 0,
    created_at: iso(now),
    last_seen_at: iso(now),
    expires_at: iso(new Date(now.getTime() + SESSION_IDLE_MS)),
  });
  return token;
}

export interface ActiveSession {
  readonly id: string;
  readonly csrfToken: string;
  readonly pendingSecondFactor: boolean;
  readonly user: PublicUser;
  /** The user's organisation as the portal names it; null for an operator. */
  readonly organisation: {
    readonly code: string;
    readonly name: string;
    readonly active: boolean;
    /** Activated once: inactive now means deactivated, not "not activated yet". */
    readonly wasActivated: boolean;
    /** Its deliveries leave personal data in clear out (the Ophalen page says so). */
    readonly leavesOutPersonalData: boolean;
  } | null;
  /** Its idle timeout was renewed by this request: the cookie's lifetime should be renewed too. */
  readonly renewed: boolean;
}

/** The live session behind a cookie value, its idle timeout renewed; undefined when unknown or expired. */
export async function resolveSession(
  db: Kysely<Database>,
  token: string,
  now: Date,
): Promise<ActiveSession | undefined> {
  const row: SessionRow | undefined = await findLiveSession(db, sha256(token), iso(now));
  if (!row) return undefined;
  // The organisation comes in the same query: every portal page shows its name and whether it is active.
  const user = await db
    .selectFrom('app_user')
    .leftJoin('organisation', 'organisation.code', 'app_user.organisation_code')
    .selectAll('app_user')
    .select([
      'organisation.name as organisation_name',
      'organisation.active as organisation_active',
      'organisation.activated_at as organisation_activated_at',
      'organisation.leave_out_personal_data as organisation_leaves_out_personal_data',
    ])
    .where('app_user.id', '=', row.user_id)
    .executeTakeFirst();
  if (!user || user.disabled_at) return undefined;
  // Renew at most once a minute: a page load should not always write.
  const renewed = now.getTime() - Date.parse(row.last_seen_at) > 60_000;
  if (renewed) {
    const until = Math.min(now.getTime() + SESSION_IDLE_MS, Date.parse(row.created_at) + SESSION_MAX_MS);
    await touchSession(db, row.id, iso(now), iso(new Date(until)));
  }
  return {
    id: row.id,
    csrfToken: row.csrf_token,
    pendingSecondFactor: row.pending_second_factor === 1,
    user: publicUser(user),
    organisation:
      user.organisation_code && user.organisation_name !== null
        ? {
            code: user.organisation_code,
            name: user.organisation_name,
            active: Number(user.organisation_active) === 1,
            wasActivated: user.organisation_activated_at !== null,
            leavesOutPersonalData: Number(user.organisation_leaves_out_personal_data) === 1,
          }
        : null,
    renewed,
  };
}

export async function logout(db: Kysely<Database>, sessionId: string): Promise<void> {
  await deleteSession(db, sessionId);
}

function totpFor(user: { email: string }, secret: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: 'Ketendata',
    label: user.email,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
}

const TOTP_PERIOD_MS = 30_000;

/**
 * The clear TOTP secret of a user, or undefined when none is stored. A secret stored in clear (before
 * secrets were encrypted) is sealed on this first use. One sealed under a key the current secret does not
 * give is refused with `accounts.totp_key_unknown`: the operator has to run raw-rekey.
 */
async function readTotpSecret(
  db: Kysely<Database>,
  keys: TotpKeys,
  user: UserRow,
): Promise<string | undefined> {
  if (!user.totp_secret) return undefined;
  const opened = openTotpSecret(rawKeyRing(keys.totpEncryption), user.id, user.totp_secret);
  if (opened.kind === 'unknown_key') {
    throw new AccountError(
      'accounts.totp_key_unknown',
      `the second factor of user ${user.id} is encrypted with key ${opened.keyId}, which KETENDATA_SECRET does not provide: run ketendata raw-rekey --previous-secret-file <file>, or, with that secret lost, ketendata users reset-second-factor <email> (docs/keys.md)`,
    );
  }
  if (opened.kind === 'plain') {
    // Only while it is still that clear value: a concurrent enrolment or switch-off wins.
    await db
      .updateTable('app_user')
      .set({ totp_secret: sealTotpSecret(keys, user.id, opened.secret) })
      .where('id', '=', user.id)
      .where('totp_secret', '=', user.totp_secret)
      .execute();
  }
  return opened.secret;
}

/**
 * The step of a valid code not used before (one step of clock drift either way), or undefined. A code is
 * taken once: its step must lie after the last one accepted.
 */
function totpStep(user: UserRow, secret: string, code: string, now: Date): number | undefined {
  const delta = totpFor(user, secret).validate({
    token: code.replace(/\s/g, ''),
    timestamp: now.getTime(),
    window: 1,
  });
  if (delta === null) return undefined;
  const step = Math.floor(now.getTime() / TOTP_PERIOD_MS) + delta;
  const last = user.totp_last_step === null ? undefined : Number(user.totp_last_step);
  return last !== undefined && step <= last ? undefined : step;
}

export type SecondFactorResult =
  | { readonly ok: true; readonly sessionToken: string }
  /** `used`: a right code, but taken already (at enrolment, or by another login): the next one will do. */
  | { readonly ok: false; readonly reason: 'invalid' | 'used' | 'throttled' };

/**
 * Completes a login that waits for the second factor: the half-logged-in session ends and a fresh one (new
 * cookie value, new CSRF token) takes its place, so whoever saw the first cookie does not get a full session.
 */
export async function verifySecondFactor(
  db: Kysely<Database>,
  keys: TotpKeys,
  session: ActiveSession,
  code: string,
  address: string,
  now: Date,
): Promise<SecondFactorResult> {
  const key = `totp:${session.user.id}`;
  const since = iso(new Date(now.getTime() - THROTTLE.window));
  // As in `login`: the attempt counts before the code is checked.
  const attempt = await reserveLoginAttempt(db, [key, addressKey(address)], iso(now));
  if ((await countLoginFailures(db, key, since)) > THROTTLE.perEmail) {
    await releaseLoginAttempts(db, attempt);
    return { ok: false, reason: 'throttled' };
  }
  const user = await findUserById(db, session.user.id);
  let secret: string | undefined;
  try {
    secret = user ? await readTotpSecret(db, keys, user) : undefined;
  } catch (err) {
    // The operator's to fix, not a wrong guess: it must not lock the user out.
    await releaseLoginAttempts(db, attempt);
    throw err;
  }
  const step = user && secret ? totpStep(user, secret, code, now) : undefined;
  // Taken only if no request with the same code took it meanwhile. A used code is a failure that counts like
  // any wrong code; only the words for the user differ.
  if (!user || step === undefined || !(await takeTotpStep(db, user.id, step))) {
    const used =
      user && secret && totpStep({ ...user, totp_last_step: null }, secret, code, now) !== undefined;
    return { ok: false, reason: used ? 'used' : 'invalid' };
  }
  await clearLoginFailures(db, key);
  await releaseLoginAttempts(db, attempt);
  // Only in place of a session still waiting (not one logged out meanwhile): one pending session, one new one.
  const sessionToken = await db
    .transaction()
    .execute(async (trx) =>
      (await deletePendingSession(trx, session.id)) ? openSession(trx, user.id, false, now) : undefined,
    );
  return sessionToken ? { ok: true, sessionToken } : { ok: false, reason: 'invalid' };
}

/** Starts TOTP enrolment: stores a fresh secret (not yet active, encrypted) and returns it with its otpauth URI. */
export async function beginTotp(
  db: Kysely<Database>,
  keys: TotpKeys,
  userId: number,
): Promise<{ secret: string; uri: string }> {
  const user = await findUserById(db, userId);
  if (!user) throw new AccountError('accounts.not_found', 'no such user');
  // A new secret would switch the active one off: that takes the password (disableTotp) first.
  if (user.totp_enabled === 1)
    throw new AccountError('accounts.totp_active', 'the second factor is on: switch it off first');
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  await updateUser(db, userId, {
    totp_secret: sealTotpSecret(keys, userId, secret),
    totp_enabled: 0,
    totp_last_step: null,
  });
  return { secret, uri: totpFor(user, secret).toString() };
}

/**
 * Stops an enrolment that was started but not confirmed: its pending secret goes. An active second factor is
 * left alone (switching that off takes the password, `disableTotp`).
 */
export async function cancelTotpEnrolment(db: Kysely<Database>, userId: number): Promise<boolean> {
  const res = await db
    .updateTable('app_user')
    .set({ totp_secret: null, totp_last_step: null })
    .where('id', '=', userId)
    .where('totp_enabled', '=', 0)
    .where('totp_secret', 'is not', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Shows the pending enrolment secret again (e.g. after a wrong code), or undefined. */
export async function pendingTotp(
  db: Kysely<Database>,
  keys: TotpKeys,
  userId: number,
): Promise<{ secret: string; uri: string } | undefined> {
  const user = await findUserById(db, userId);
  if (!user?.totp_secret || user.totp_enabled === 1) return undefined;
  // A pending secret under a key since replaced was never in use: the user simply starts again.
  if (openTotpSecret(rawKeyRing(keys.totpEncryption), user.id, user.totp_secret).kind === 'unknown_key')
    return undefined;
  const secret = await readTotpSecret(db, keys, user);
  return secret ? { secret, uri: totpFor(user, secret).toString() } : undefined;
}

/**
 * Turns the second factor on with a first code. The user's other sessions end (all of them without
 * `keepSessionId`): someone who had the password and a session of their own must not stay logged in past it.
 */
export async function confirmTotp(
  db: Kysely<Database>,
  keys: TotpKeys,
  userId: number,
  code: string,
  now: Date,
  keepSessionId?: string,
): Promise<void> {
  const user = await findUserById(db, userId);
  const secret = user ? await readTotpSecret(db, keys, user) : undefined;
  const step = user && secret ? totpStep(user, secret, code, now) : undefined;
  if (!user || step === undefined || !(await takeTotpStep(db, userId, step, { totp_enabled: 1 })))
    throw new AccountError('accounts.totp_invalid', 'the code is not valid');
  await deleteSessionsOfUser(db, userId, keepSessionId);
}

export interface TotpRekeyResult {
  /** Secrets now under the current key that were under a previous one. */
  readonly reencrypted: number;
  /** Secrets that were still stored in clear, now under the current key. */
  readonly sealed: number;
  /** Secrets under a key none of the given secrets provides: left as they are. */
  readonly unreadable: number;
  readonly unreadableKeyIds: readonly string[];
  /** Secrets that cannot be read at all (damaged, or bound to another user): why, per user; left as they are. */
  readonly damaged: readonly string[];
}

/**
 * Re-encrypts every TOTP secret not under the current key, reading it with the previous keys (rotation,
 * `ketendata raw-rekey`), so users with a second factor are not locked out. Safe to run again.
 */
export async function reencryptTotpSecrets(
  db: Kysely<Database>,
  keys: TotpKeys,
  previousTotpKeys: readonly Buffer[],
): Promise<TotpRekeyResult> {
  const ring = rawKeyRing(keys.totpEncryption, ...previousTotpKeys);
  const rows = await db
    .selectFrom('app_user')
    .select(['id', 'totp_secret'])
    .where('totp_secret', 'is not', null)
    .orderBy('id')
    .execute();
  let reencrypted = 0;
  let sealed = 0;
  const unknown: string[] = [];
  const damaged: string[] = [];
  for (const row of rows) {
    const stored = row.totp_secret as string;
    let opened: ReturnType<typeof openTotpSecret>;
    try {
      opened = openTotpSecret(ring, row.id, stored);
    } catch (err) {
      // One damaged row must not keep every other user under the old key: the rest goes on.
      damaged.push((err as Error).message);
      continue;
    }
    if (opened.kind === 'unknown_key') {
      unknown.push(opened.keyId);
      continue;
    }
    if (opened.kind === 'sealed' && opened.keyId === keys.totpKeyId) continue;
    await db
      .updateTable('app_user')
      .set({ totp_secret: sealTotpSecret(keys, row.id, opened.secret) })
      .where('id', '=', row.id)
      .where('totp_secret', '=', stored)
      .execute();
    if (opened.kind === 'plain') sealed++;
    else reencrypted++;
  }
  return {
    reencrypted,
    sealed,
    unreadable: unknown.length,
    unreadableKeyIds: [...new Set(unknown)].sort(),
    damaged,
  };
}

/**
 * A signed-in user's own password, asked again before a change that needs it. Wrong guesses are limited per
 * user as the login is per e-mail (past the limit refused unchecked), and count with the login failures of that
 * e-mail too, so they close the login page as well. The e-mail's failures do not limit it: strangers failing
 * the login of that e-mail must not keep the user from changing the password they are after. Someone holding a
 * session may so guess at twice the login page's rate (there and here), no faster.
 */
export async function confirmPassword(
  db: Kysely<Database>,
  userId: number,
  password: string,
  now: Date,
): Promise<UserRow> {
  const user = await findUserById(db, userId);
  if (!user) throw new AccountError('accounts.wrong_password', 'the current password is not correct');
  const outcome = await limitedAttempt(
    db,
    [
      [`confirm:${user.id}`, THROTTLE.perEmail],
      [emailKey(user.email), Number.POSITIVE_INFINITY],
    ],
    now,
    () => verify(user.password_hash, password),
  );
  if (outcome === 'throttled')
    throw new AccountError('accounts.throttled', 'too many wrong passwords: try again in 15 minutes');
  if (outcome === 'wrong')
    throw new AccountError('accounts.wrong_password', 'the current password is not correct');
  return user;
}

export async function disableTotp(
  db: Kysely<Database>,
  userId: number,
  password: string,
  now = new Date(),
): Promise<void> {
  await confirmPassword(db, userId, password, now);
  await updateUser(db, userId, { totp_enabled: 0, totp_secret: null });
}

/**
 * Changes a signed-in user's own password. All sessions of the user end, the current one too: a fresh one (new
 * cookie value, new CSRF token) takes its place, so whoever saw the old cookie (of a temporary password, say)
 * is locked out as well. Returns the new session's cookie value; undefined when the current session ended
 * meanwhile (logged out, ended by an operator), in which case nothing changed.
 */
export async function changePassword(
  db: Kysely<Database>,
  session: ActiveSession,
  current: string,
  next: string,
  now = new Date(),
): Promise<string | undefined> {
  const user = await confirmPassword(db, session.user.id, current, now);
  checkPassword(next);
  // A temporary password is known to the operator who set it: keeping it would change nothing.
  if (next === current)
    throw new AccountError('accounts.same_password', 'the new password is the current one: choose another');
  const passwordHash = await hash(next, ARGON2_OPTIONS);
  return db.transaction().execute(async (trx) => {
    if (!(await deleteSession(trx, session.id))) return undefined;
    await updateUser(trx, user.id, { password_hash: passwordHash, password_temporary: 0 });
    await deleteSessionsOfUser(trx, user.id);
    return openSession(trx, user.id, session.pendingSecondFactor, now);
  });
}

/** An operator's change to someone's account: who acts (`cli:<user>` or an e-mail), and from the portal as whom. */
export interface AccountChange {
  readonly email: string;
  readonly actor: string;
  /** The acting operator's own id (portal); an operator cannot lock themself out. */
  readonly actingUserId?: number;
  readonly now: Date;
}

export interface AccountChangeResult {
  readonly user: PublicUser;
  /** When the account was disabled; null when it is enabled. */
  readonly disabledAt: string | null;
  /** false when the account already was as asked: nothing was changed or audited. */
  readonly changed: boolean;
  readonly sessionsEnded: number;
  /**
   * Tokens in force that this user made. They belong to the organisation and stay: whether the organisation
   * should keep them is the operator's call (`tokens revoke`).
   */
  readonly tokensMade: readonly ApiTokenRow[];
}

async function requireUser(db: Kysely<Database>, email: string): Promise<UserRow> {
  const user = await findUserByEmail(db, email.trim().toLowerCase());
  if (!user)
    throw new AccountError(
      'users.not_found',
      `no user with e-mail ${email.trim()} (see: ketendata users list)`,
    );
  return user;
}

async function tokensMadeBy(db: Kysely<Database>, user: UserRow): Promise<ApiTokenRow[]> {
  return (await listTokens(db, user.organisation_code)).filter((t) => t.created_by === user.id);
}

/**
 * One audited change of a user's account, in one transaction: the patch (none: only the sessions end), the
 * e-mail's login failures cleared if asked, the audit entry, and the user's sessions ended if asked.
 * Returns how many sessions ended.
 */
async function changeAccount(
  db: Kysely<Database>,
  user: UserRow,
  input: AccountChange,
  change: {
    readonly action: string;
    readonly patch?: Parameters<typeof updateUser>[2];
    readonly clearFailures?: boolean;
    readonly endSessions?: boolean;
  },
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    if (change.patch) {
      await updateUser(trx, user.id, change.patch);
      if (change.clearFailures) await clearLoginFailures(trx, emailKey(user.email));
      await audit(trx, {
        at: input.now,
        actor: input.actor,
        organisation: user.organisation_code,
        action: change.action,
        detail: { user: user.email },
      });
    }
    return change.endSessions ? deleteSessionsOfUser(trx, user.id) : 0;
  });
}

/**
 * Cuts off a user's access: login and every session are refused from now on, and the sessions open now end
 * at once (not only at their next request).
 */
export async function disableUser(db: Kysely<Database>, input: AccountChange): Promise<AccountChangeResult> {
  const user = await requireUser(db, input.email);
  if (user.id === input.actingUserId)
    throw new AccountError('users.cannot_disable_self', 'an operator cannot disable their own account');
  const disabledAt = user.disabled_at ?? iso(input.now);
  const sessionsEnded = await changeAccount(db, user, input, {
    action: 'user.disable',
    // Disabled already: nothing to change or audit, but any session left still ends.
    ...(user.disabled_at ? {} : { patch: { disabled_at: disabledAt } }),
    endSessions: true,
  });
  return {
    user: publicUser(user),
    disabledAt,
    changed: !user.disabled_at,
    sessionsEnded,
    tokensMade: await tokensMadeBy(db, user),
  };
}

/** Gives a disabled user access again (with the same password and second factor). */
export async function enableUser(db: Kysely<Database>, input: AccountChange): Promise<AccountChangeResult> {
  const user = await requireUser(db, input.email);
  // Attempts while disabled counted as failures; they should not hold the user back now.
  if (user.disabled_at)
    await changeAccount(db, user, input, {
      action: 'user.enable',
      patch: { disabled_at: null },
      clearFailures: true,
    });
  return {
    user: publicUser(user),
    disabledAt: null,
    changed: user.disabled_at !== null,
    sessionsEnded: 0,
    tokensMade: [],
  };
}

/**
 * Takes a user's second factor away (a lost phone, or a secret under a key no longer known): the user logs in
 * with the password alone and can set up a new one; the user's sessions end.
 */
export async function resetSecondFactor(
  db: Kysely<Database>,
  input: AccountChange,
): Promise<AccountChangeResult> {
  const user = await requireUser(db, input.email);
  const sessionsEnded = await changeAccount(db, user, input, {
    action: 'user.reset_second_factor',
    patch: { totp_enabled: 0, totp_secret: null, totp_last_step: null },
    endSessions: true,
  });
  return {
    user: publicUser(user),
    disabledAt: user.disabled_at,
    changed: user.totp_secret !== null,
    sessionsEnded,
    tokensMade: [],
  };
}

/** Sets a new password for a user (e.g. one who forgot it) and ends the sessions opened with the old one. */
export async function resetPassword(
  db: Kysely<Database>,
  input: AccountChange & { readonly password: string },
): Promise<AccountChangeResult> {
  const user = await requireUser(db, input.email);
  // One's own password changes with the current one (changePassword), not by an operator's reset.
  if (user.id === input.actingUserId)
    throw new AccountError(
      'users.cannot_reset_self',
      'an operator changes their own password with the current one',
    );
  checkPassword(input.password);
  const sessionsEnded = await changeAccount(db, user, input, {
    action: 'user.reset_password',
    // The operator knows it: the user chooses an own one at the next login.
    patch: { password_hash: await hash(input.password, ARGON2_OPTIONS), password_temporary: 1 },
    clearFailures: true,
    endSessions: true,
  });
  return {
    user: publicUser(user),
    disabledAt: user.disabled_at,
    changed: true,
    sessionsEnded,
    tokensMade: [],
  };
}

export interface TokenOwner {
  readonly scope: 'organisation' | 'operator';
  /** null for operator tokens */
  readonly organisationCode: string | null;
}

export async function createApiToken(
  db: Kysely<Database>,
  owner: TokenOwner,
  name: string,
  createdBy: number | null,
  now: Date,
): Promise<{ token: string; row: ApiTokenRow }> {
  // The name is how a person tells tokens apart in listings, the portal and "Gedownload door".
  if (!name.trim())
    throw new AccountError('accounts.token_name_required', 'a token needs a name (what uses it)');
  if (owner.scope === 'organisation') {
    if (!owner.organisationCode)
      throw new AccountError('accounts.owner_required', 'an organisation token needs the organisation code');
    await requireOrganisation(db, owner.organisationCode);
  }
  const token = `kd_${randomBytes(32).toString('base64url')}`;
  const row = await insertApiToken(db, {
    organisation_code: owner.scope === 'operator' ? null : owner.organisationCode,
    scope: owner.scope,
    name: name.trim().slice(0, 80),
    token_hash: sha256(token),
    prefix: token.slice(0, 10),
    created_by: createdBy,
    created_at: iso(now),
    last_used_at: null,
    revoked_at: null,
  });
  return { token, row };
}

/** How stale a token's `last_used_at` may be: it is written at most once per this time. */
export const TOKEN_USE_RESOLUTION_MS = 60_000;

/** The owner of a bearer token, or undefined when it is unknown or revoked. */
export async function verifyApiToken(
  db: Kysely<Database>,
  token: string,
  now: Date,
): Promise<(TokenOwner & { id: number }) | undefined> {
  const row = await findToken(db, sha256(token), 'active');
  if (!row) return undefined;
  // Not on every request: a script's calls would each be a write, which on SQLite waits for any other
  // writer (a delivery run) and blocks the server meanwhile. "Last used" to the minute is what is shown.
  const since =
    row.last_used_at === null ? Number.POSITIVE_INFINITY : now.getTime() - Date.parse(row.last_used_at);
  if (!(since >= 0 && since < TOKEN_USE_RESOLUTION_MS)) await markTokenUsed(db, row.id, iso(now));
  return { id: row.id, scope: row.scope, organisationCode: row.organisation_code };
}

/**
 * The revoked token a refused request presented, for the log: a script nobody stopped when its token was
 * revoked keeps failing, and the operator should hear of it. Undefined for an unknown token.
 */
export async function revokedApiToken(
  db: Kysely<Database>,
  token: string,
): Promise<{ id: number; name: string; organisationCode: string | null; revokedAt: string } | undefined> {
  const row = await findToken(db, sha256(token), 'revoked');
  return row
    ? { id: row.id, name: row.name, organisationCode: row.organisation_code, revokedAt: row.revoked_at ?? '' }
    : undefined;
}

export function listApiTokens(db: Kysely<Database>, organisationCode: string | null): Promise<ApiTokenRow[]> {
  return listTokens(db, organisationCode);
}

export function revokeApiToken(
  db: Kysely<Database>,
  id: number,
  organisationCode: string | null,
  now: Date,
): Promise<boolean> {
  return revokeToken(db, id, organisationCode, iso(now));
}
