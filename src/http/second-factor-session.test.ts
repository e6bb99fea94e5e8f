import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import {
  addPortalUserWithSecondFactor,
  browserWithSession,
  expectLoginCookie,
  SESSION_COOKIE,
  sessionCookies,
} from '../../test/support/session-cookie.js';
import { listAudit } from '../store/audit.js';

/**
 * The session of the password step (waiting for the code) must not become the logged-in session: whoever saw
 * its cookie between password and code would be logged in too.
 */
for (const dialect of DIALECTS) {
  describe(`completing the second factor on ${dialect}`, () => {
    let h: Awaited<ReturnType<typeof portalHarness>>;
    let codeAt: (at: Date) => string;
    const EMAIL = 'tom@0363.example';

    beforeAll(async () => {
      h = await portalHarness(dialect);
      await h.seed();
      codeAt = await addPortalUserWithSecondFactor(h, EMAIL);
    });
    afterAll(async () => h.drop());

    const code = () => codeAt(h.clock.now);
    /** Not the code of this step nor of the ones on either side, which the window accepts too. */
    const wrong = () => {
      const valid = [-30_000, 0, 30_000].map((d) => codeAt(new Date(h.clock.now.getTime() + d)));
      return ['000000', '111111', '222222'].find((c) => !valid.includes(c))!;
    };
    const withCookie = (token: string) => browserWithSession(h.app, token);

    it('ends the half-logged-in session and sets a new cookie with a new CSRF token; a wrong code changes nothing', async () => {
      // The code of the enrolment is used up: log in at the next step.
      h.clock.now = new Date(h.clock.now.getTime() + 30_000);
      const b = new Browser(h.app);
      expect((await b.login(EMAIL)).headers.get('Location')).toBe('/inloggen/code');
      const pending = b.cookies.get(SESSION_COOKIE)!;
      expect(pending).toBeDefined();
      const form = await b.page('/inloggen/code');
      expect(form.csrf).toBeDefined();

      const refused = await b.post('/inloggen/code', { _csrf: form.csrf!, code: wrong() });
      expect(refused.status).toBe(400);
      expect(sessionCookies(refused)).toEqual([]);
      expect(b.cookies.get(SESSION_COOKIE)).toBe(pending);
      expect((await b.page('/inloggen/code')).csrf).toBe(form.csrf);
      expect((await withCookie(pending).fetch('/ophalen')).headers.get('Location')).toBe('/inloggen/code');

      // Past the minute after which a request renews the session (and its cookie) on the way in.
      h.clock.now = new Date(h.clock.now.getTime() + 2 * 60_000);
      const done = await b.post('/inloggen/code', { _csrf: form.csrf!, code: code() });
      expect(done.status).toBe(303);
      expect(done.headers.get('Location')).toBe('/');
      const full = b.cookies.get(SESSION_COOKIE)!;
      expect(full).toBeDefined();
      expect(full).not.toBe(pending);
      expectLoginCookie(done, full);

      // The old cookie gives nothing any more, not even the code page; the new one the portal.
      const old = withCookie(pending);
      expect((await old.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      expect((await old.fetch('/inloggen/code')).headers.get('Location')).toBe('/inloggen');
      const page = await withCookie(full).page('/instellingen');
      expect(page.res.status).toBe(200);
      expect(page.csrf).toBeDefined();
      expect(page.csrf).not.toBe(form.csrf);
      expect((await b.page('/ophalen')).res.status).toBe(200);

      const audit = (await listAudit(h.store.db)).filter((a) => a.actor === EMAIL).map((a) => a.action);
      expect(audit).toContain('auth.password_ok');
      expect(audit).toContain('auth.login');
      expect(audit).toContain('auth.login_failed');
    });

    it('keeps the CSRF token of the half-logged-in session from working after the code', async () => {
      h.clock.now = new Date(h.clock.now.getTime() + 30_000);
      const b = new Browser(h.app);
      await b.login(EMAIL);
      const form = await b.page('/inloggen/code');
      await b.post('/inloggen/code', { _csrf: form.csrf!, code: code() });
      const refused = await b.post('/uitloggen', { _csrf: form.csrf! });
      expect(refused.status).toBe(403);
      expect((await b.page('/ophalen')).res.status).toBe(200);
    });
  });
}

describe('completing the second factor with --insecure-cookies (plain http)', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite', { secureCookies: false });
    await h.seed();
  });
  afterAll(async () => h.drop());

  it('sets the new session cookie without __Host- and Secure, as the password login does', async () => {
    const codeAt = await addPortalUserWithSecondFactor(h, 'ria@0363.example');
    h.clock.now = new Date(h.clock.now.getTime() + 30_000);
    const b = new Browser(h.app);
    await b.login('ria@0363.example');
    const pending = b.cookies.get('kd_session');
    const form = await b.page('/inloggen/code');
    const done = await b.post('/inloggen/code', {
      _csrf: form.csrf!,
      code: codeAt(h.clock.now),
    });
    expect(done.headers.get('Location')).toBe('/');
    const cookie = done.headers.getSetCookie().find((c) => c.startsWith('kd_session='));
    expect(cookie).toBeDefined();
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).toMatch(/Max-Age=28800/);
    expect(b.cookies.get('kd_session')).not.toBe(pending);
    expect((await b.page('/ophalen')).res.status).toBe(200);
  });
});
