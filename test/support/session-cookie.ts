import { expect } from 'vitest';
import { Browser } from '../e2e/harness.js';

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
