import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import {
  addPortalUser,
  browserWithSession,
  enrolSecondFactor,
  expectLoginCookie,
  SESSION_COOKIE,
  sessionCookies,
} from '../../test/support/session-cookie.js';
import { listAudit } from '../store/audit.js';
import { resetPassword } from '../usecases/accounts.js';

/**
 * The session of a temporary password (one an operator set, and so knows) must not outlive its change: whoever
 * saw its cookie would reach the whole portal once the user chose an own password.
 */
for (const dialect of DIALECTS) {
  describe(`changing one's own password on ${dialect}`, () => {
    let h: Awaited<ReturnType<typeof portalHarness>>;
    const OWN = 'een eigen lang wachtwoord';

    beforeAll(async () => {
      h = await portalHarness(dialect);
      await h.seed();
    });
    afterAll(async () => h.drop());

    const addUser = (email: string, temporaryPassword: boolean) =>
      addPortalUser(h, email, { temporaryPassword });
    const withCookie = (token: string) => browserWithSession(h.app, token);

    it('ends the session of a temporary password and sets a new cookie with a new CSRF token; a failed change ends nothing', async () => {
      const EMAIL = 'tijs@0363.example';
      await addUser(EMAIL, true);
      const b = new Browser(h.app);
      expect((await b.login(EMAIL)).headers.get('Location')).toBe('/');
      const before = b.cookies.get(SESSION_COOKIE)!;
      expect(before).toBeDefined();
      const form = await b.page('/instellingen');
      expect(form.csrf).toBeDefined();

      for (const fields of [
        { current: 'geraden wachtwoord', next: OWN },
        { current: PASSWORD, next: 'kort' },
      ]) {
        const refused = await b.post('/instellingen/wachtwoord', { _csrf: form.csrf!, ...fields });
        expect(refused.status).toBe(400);
        expect(sessionCookies(refused)).toEqual([]);
      }
      expect(b.cookies.get(SESSION_COOKIE)).toBe(before);
      expect((await b.page('/instellingen')).csrf).toBe(form.csrf);
      expect((await withCookie(before).fetch('/ophalen')).headers.get('Location')).toBe('/instellingen');

      // Past the minute after which a request renews the session (and its cookie) on the way in.
      h.clock.now = new Date(h.clock.now.getTime() + 2 * 60_000);
      const done = await b.post('/instellingen/wachtwoord', {
        _csrf: form.csrf!,
        current: PASSWORD,
        next: OWN,
      });
      expect(done.status).toBe(303);
      expect(done.headers.get('Location')).toBe('/instellingen?melding=eigen-wachtwoord');
      const after = b.cookies.get(SESSION_COOKIE)!;
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      expectLoginCookie(done, after);

      // The old cookie gives nothing any more; the new one the portal, with a CSRF token of its own.
      const old = withCookie(before);
      expect((await old.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      expect((await old.fetch('/instellingen')).headers.get('Location')).toBe(
        '/inloggen?next=%2Finstellingen',
      );
      expect((await withCookie(after).page('/ophalen')).res.status).toBe(200);
      const page = await b.page('/instellingen');
      expect(page.res.status).toBe(200);
      expect(page.html).not.toContain('tijdelijk wachtwoord');
      expect(page.csrf).toBeDefined();
      expect(page.csrf).not.toBe(form.csrf);
      expect((await b.post('/uitloggen', { _csrf: form.csrf! })).status).toBe(403);

      const audit = (await listAudit(h.store.db)).filter((a) => a.actor === EMAIL);
      expect(audit.filter((a) => a.action === 'settings.change').map((a) => JSON.parse(a.detail!))).toEqual([
        { what: 'password' },
      ]);
    });

    it("does the same for a password of the user's own, ending the other sessions too", async () => {
      const EMAIL = 'ruud@0363.example';
      await addUser(EMAIL, false);
      const laptop = new Browser(h.app);
      const phone = new Browser(h.app);
      await laptop.login(EMAIL);
      await phone.login(EMAIL);
      const before = laptop.cookies.get(SESSION_COOKIE)!;
      const form = await laptop.page('/instellingen');
      const done = await laptop.post('/instellingen/wachtwoord', {
        _csrf: form.csrf!,
        current: PASSWORD,
        next: OWN,
      });
      expect(done.status).toBe(303);
      expect(laptop.cookies.get(SESSION_COOKIE)).not.toBe(before);
      expect((await withCookie(before).fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      expect((await phone.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      const page = await laptop.page('/ophalen');
      expect(page.res.status).toBe(200);
      expect(page.csrf).not.toBe(form.csrf);
    });

    it('gives a user with a second factor and a temporary password a full session, not one waiting for a code', async () => {
      const EMAIL = 'tess@0363.example';
      const u = await addUser(EMAIL, false);
      const codeAt = await enrolSecondFactor(h, u.id);
      const code = () => codeAt(h.clock.now);
      // An operator's new password keeps the second factor.
      await resetPassword(h.store.db, { email: EMAIL, password: PASSWORD, actor: 'test', now: h.clock.now });
      h.clock.now = new Date(h.clock.now.getTime() + 30_000);
      const b = new Browser(h.app);
      expect((await b.login(EMAIL)).headers.get('Location')).toBe('/inloggen/code');
      const codeForm = await b.page('/inloggen/code');
      expect((await b.post('/inloggen/code', { _csrf: codeForm.csrf!, code: code() })).status).toBe(303);
      expect((await b.fetch('/ophalen')).headers.get('Location')).toBe('/instellingen');
      const before = b.cookies.get(SESSION_COOKIE)!;
      const form = await b.page('/instellingen');
      const done = await b.post('/instellingen/wachtwoord', {
        _csrf: form.csrf!,
        current: PASSWORD,
        next: OWN,
      });
      expect(done.status).toBe(303);
      expect(b.cookies.get(SESSION_COOKIE)).not.toBe(before);
      expect((await withCookie(before).fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      expect((await b.page('/ophalen')).res.status).toBe(200);
    });
  });
}

describe('changing a temporary password with --insecure-cookies (plain http)', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite', { secureCookies: false });
    await h.seed();
  });
  afterAll(async () => h.drop());

  it('sets the new session cookie without __Host- and Secure, as the password login does', async () => {
    await addPortalUser(h, 'rik@0363.example', { temporaryPassword: true });
    const b = new Browser(h.app);
    await b.login('rik@0363.example');
    const before = b.cookies.get('kd_session');
    const form = await b.page('/instellingen');
    const done = await b.post('/instellingen/wachtwoord', {
      _csrf: form.csrf!,
      current: PASSWORD,
      next: 'een eigen lang wachtwoord',
    });
    expect(done.headers.get('Location')).toBe('/instellingen?melding=eigen-wachtwoord');
    const cookie = done.headers.getSetCookie().find((c) => c.startsWith('kd_session='));
    expect(cookie).toBeDefined();
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).toMatch(/Max-Age=28800/);
    expect(b.cookies.get('kd_session')).not.toBe(before);
    expect((await b.page('/ophalen')).res.status).toBe(200);
  });
});
