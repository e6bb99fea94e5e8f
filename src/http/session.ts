import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { DEVICE_COOKIE_MS, resolveSession, SESSION_IDLE_MS } from '../usecases/accounts.js';
import { NO_TRUSTED_PROXIES, resolveClientAddress, resolveProtocol } from './client-address.js';
import type { AppEnv } from './env.js';
import { localPath } from './portal/layout.js';

/** `__Host-` binds the cookie to this host and path / and requires Secure; the demo on plain http cannot use it. */
export const sessionCookieName = (secure: boolean) => (secure ? '__Host-kd_session' : 'kd_session');

export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  const secure = c.var.deps.options.secureCookies;
  setCookie(c, sessionCookieName(secure), token, {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'Strict',
    maxAge: Math.floor(SESSION_IDLE_MS / 1000),
  });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  const secure = c.var.deps.options.secureCookies;
  deleteCookie(c, sessionCookieName(secure), { path: '/', secure });
}

/** The device cookie: this browser logged in as a user before (its own login limit, `login`). */
export const deviceCookieName = (secure: boolean) => (secure ? '__Host-kd_device' : 'kd_device');

export function deviceCookie(c: Context<AppEnv>): string | undefined {
  return getCookie(c, deviceCookieName(c.var.deps.options.secureCookies));
}

/** Kept at logout: it stands for the browser, not the session. Lax, as a link to the portal may start a login. */
export function setDeviceCookie(c: Context<AppEnv>, value: string): void {
  const secure = c.var.deps.options.secureCookies;
  setCookie(c, deviceCookieName(secure), value, {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'Lax',
    maxAge: Math.floor(DEVICE_COOKIE_MS / 1000),
  });
}

/** Looks up the session behind the cookie (if any) and puts it in `c.var.session`. */
export function loadSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { store, clock, options } = c.var.deps;
    const token = getCookie(c, sessionCookieName(options.secureCookies));
    const session = token ? await resolveSession(store.db, token, clock()) : undefined;
    c.set('session', session);
    // The idle timeout moved on: so does the cookie's lifetime, or the browser would drop it 8 hours after the
    // login however active the user is. Set before the handler runs, so a cookie it sets (a new login, a
    // logout) comes after this one and wins.
    if (token && session?.renewed) setSessionCookie(c, token);
    await next();
  };
}

/** What a user whose password an operator set (and so knows) can do: see Instellingen and choose an own one. */
const withTemporaryPassword = (c: Context<AppEnv>) =>
  (c.req.method === 'GET' && c.req.path === '/instellingen') ||
  (c.req.method === 'POST' && c.req.path === '/instellingen/wachtwoord');

/**
 * `to` with the page asked for as `next`, to go there after the login: only a page (a GET), as a form post is
 * not sent again, and not home, where the login leads anyway.
 */
function withDeepLink(c: Context<AppEnv>, to: string): string {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return to;
  const url = new URL(c.req.url);
  const asked = localPath(url.pathname + url.search);
  return asked && asked !== '/' && asked !== '/ophalen' ? `${to}?next=${encodeURIComponent(asked)}` : to;
}

/**
 * Pages for a logged-in organisation user or operator; everyone else goes to the login page. A user with a
 * temporary password goes to Instellingen to choose an own one first.
 */
export function requireLogin(role?: 'user' | 'operator'): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const s = c.var.session;
    if (!s) return c.redirect(withDeepLink(c, '/inloggen'), 303);
    if (s.pendingSecondFactor) return c.redirect(withDeepLink(c, '/inloggen/code'), 303);
    if (s.user.passwordTemporary && !withTemporaryPassword(c))
      return c.redirect(withDeepLink(c, '/instellingen'), 303);
    if (role && s.user.role !== role)
      return c.redirect(s.user.role === 'operator' ? '/beheer' : '/ophalen', 303);
    await next();
  };
}

/** The peer's address as @hono/node-server reports it; undefined without a socket (app.request in tests). */
const socketAddress = (c: Context<AppEnv>): string | undefined =>
  (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress;

/**
 * The client address for throttling: the socket's (from @hono/node-server), or behind a trusted proxy the
 * client it names in X-Forwarded-For.
 */
export function clientAddress(c: Context<AppEnv>): string {
  return resolveClientAddress(
    socketAddress(c),
    c.req.header('X-Forwarded-For'),
    c.var.deps.options.trustedProxies ?? NO_TRUSTED_PROXIES,
  );
}

/**
 * The portal's address as the client reaches it (`https://ketendata.example`), for the API example: the
 * protocol from `resolveProtocol`, the host from the request's Host header.
 */
export function publicOrigin(c: Context<AppEnv>): string {
  const url = new URL(c.req.url);
  const { options } = c.var.deps;
  const protocol = resolveProtocol(
    url.protocol,
    socketAddress(c),
    c.req.header('X-Forwarded-Proto'),
    options.trustedProxies ?? NO_TRUSTED_PROXIES,
    options.secureCookies,
  );
  return `${protocol}://${url.host}`;
}
