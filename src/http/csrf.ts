import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from './env.js';

export const CSRF_FIELD = '_csrf';
const LOGIN_COOKIE = 'kd_login_csrf';

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
    const expected = c.var.session?.csrfToken ?? getCookie(c, LOGIN_COOKIE) ?? '';
    if (!same(sent, expected)) {
      return c.html(
        '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Formulier verlopen — Ketendata</title></head><body><main><h1>Formulier verlopen</h1><p>Het formulier is verlopen of ongeldig. <a href="/">Ga terug</a> en probeer het opnieuw.</p></main></body></html>',
        403,
      );
    }
    await next();
  };
}

/** The token to put in a form: the session's, or a fresh double-submit cookie on the login page. */
export function csrfTokenFor(c: Context<AppEnv>): string {
  const s = c.var.session;
  if (s) return s.csrfToken;
  const existing = getCookie(c, LOGIN_COOKIE);
  if (existing) return existing;
  const token = randomBytes(24).toString('base64url');
  setCookie(c, LOGIN_COOKIE, token, {
    path: '/',
    httpOnly: true,
    secure: c.var.deps.options.secureCookies,
    sameSite: 'Strict',
  });
  return token;
}
