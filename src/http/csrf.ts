import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from './env.js';
import { FormExpired, localPath } from './portal/layout.js';
import { page } from './portal/render.js';
import { publicOrigin } from './session.js';

export const CSRF_FIELD = '_csrf';
/** As `sessionCookieName`: `__Host-` keeps a sibling host or plain http from planting the double-submit value. */
export const loginCsrfCookieName = (secure: boolean) => (secure ? '__Host-kd_login_csrf' : 'kd_login_csrf');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * Every state-changing portal request must carry the session's synchronizer token in a form field. Before a
 * session exists (the login form) a double-submit cookie takes its place.
 */
export function csrfProtection(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const body = await c.req.parseBody({ all: true });
    const sent = typeof body[CSRF_FIELD] === 'string' ? (body[CSRF_FIELD] as string) : '';
    const cookie = loginCsrfCookieName(c.var.deps.options.secureCookies);
    const expected = c.var.session?.csrfToken ?? getCookie(c, cookie) ?? '';
    if (!same(sent, expected)) {
      // A form of a session that has ended (a tab left open past the idle time): log in again, told why.
      if (!c.var.session && !c.req.path.startsWith('/inloggen'))
        return c.redirect('/inloggen?melding=verlopen', 303);
      return page(c, FormExpired({ session: c.var.session, back: formPage(c) }), 403);
    }
    await next();
  };
}

/** The page the refused form was on: the Referer when it is a page of this portal, else Ophalen. */
function formPage(c: Context<AppEnv>): string {
  const referer = c.req.header('Referer');
  if (!referer || !URL.canParse(referer)) return '/ophalen';
  const url = new URL(referer);
  if (url.origin !== publicOrigin(c)) return '/ophalen';
  return localPath(`${url.pathname}${url.search}`) ?? '/ophalen';
}

/** The token to put in a form: the session's, or a fresh double-submit cookie on the login page. */
export function csrfTokenFor(c: Context<AppEnv>): string {
  const s = c.var.session;
  if (s) return s.csrfToken;
  const secure = c.var.deps.options.secureCookies;
  const existing = getCookie(c, loginCsrfCookieName(secure));
  if (existing) return existing;
  const token = randomBytes(24).toString('base64url');
  setCookie(c, loginCsrfCookieName(secure), token, { path: '/', httpOnly: true, secure, sameSite: 'Strict' });
  return token;
}
