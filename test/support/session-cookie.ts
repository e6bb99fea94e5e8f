import * as OTPAuth from 'otpauth';
import { expect } from 'vitest';
import type { TotpKeys } from '../../src/pseudonymise/keys.js';
import type { Store } from '../../src/store/open.js';
import { beginTotp, confirmTotp, createUser, type PublicUser } from '../../src/usecases/accounts.js';
import { Browser, PASSWORD } from '../e2e/harness.js';

/** The portal's session cookie as `serve` sets it (secure cookies). */
export const SESSION_COOKIE = '__Host-kd_session';

/** The session cookies a response sets. */
export const sessionCookies = (res: Response): string[] =>
  res.headers.getSetCookie().filter((c) => c.startsWith(`${SESSION_COOKIE}=`));

/** A browser that sends only this session cookie: someone who saw it. */
export function browserWithSession(app: ConstructorParameters<typeof Browser>[0], token: string): Browser {
  const b = new Browser(app);
  b.cookies.set(SESSION_COOKIE, token);
  return b;
}

/**
 * The response leaves `token` as the session cookie, set as at a password login: the last cookie of that name
 * is the one a browser keeps (a request past the renewal minute also sends the old one first).
 */
export function expectLoginCookie(res: Response, token: string): void {
  const cookie = sessionCookies(res).at(-1);
  expect(cookie).toContain(`${SESSION_COOKIE}=${token};`);
  for (const attribute of [/Max-Age=28800/, /Path=\//, /HttpOnly/, /Secure/, /SameSite=Strict/])
    expect(cookie).toMatch(attribute);
}

/**
 * Turns the second factor on for a user, as the settings page does, at the harness clock's moment; returns the
 * code at any later moment.
 */
export async function enrolSecondFactor(
  h: { readonly store: Store; readonly deps: { readonly totpKeys: TotpKeys }; readonly clock: { now: Date } },
  userId: number,
): Promise<(at: Date) => string> {
  const { secret } = await beginTotp(h.store.db, h.deps.totpKeys, userId);
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  const code = (at: Date) => totp.generate({ timestamp: at.getTime() });
  await confirmTotp(h.store.db, h.deps.totpKeys, userId, code(h.clock.now), h.clock.now);
  return code;
}

/** A user of organisation 0363 with the harness password (a temporary one when asked), made at the clock's moment. */
export function addPortalUser(
  h: { readonly store: Store; readonly clock: { now: Date } },
  email: string,
  o: { readonly temporaryPassword?: boolean } = {},
): Promise<PublicUser> {
  return createUser(
    h.store.db,
    {
      email,
      displayName: email,
      password: PASSWORD,
      role: 'user',
      organisationCode: '0363',
      ...(o.temporaryPassword ? { temporaryPassword: true } : {}),
    },
    h.clock.now,
  );
}

/** `addPortalUser` with the second factor on; returns the code at any later moment. */
export async function addPortalUserWithSecondFactor(
  h: Parameters<typeof enrolSecondFactor>[0],
  email: string,
): Promise<(at: Date) => string> {
  return enrolSecondFactor(h, (await addPortalUser(h, email)).id);
}
