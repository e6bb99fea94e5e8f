import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { enrolSecondFactor } from '../../test/support/session-cookie.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { createUser, issueDeviceCookie, THROTTLE } from '../usecases/accounts.js';

/** The device cookie as `serve` sets it (secure cookies). */
const DEVICE_COOKIE = '__Host-kd_device';
const WRONG = 'fout wachtwoord';

/**
 * OWASP "device cookies": a stranger who types wrong passwords for someone's e-mail must not lock that user
 * out of a browser they logged in with before; everyone else stays throttled per e-mail as before.
 */
for (const dialect of DIALECTS) {
  describe(`login with a device cookie on ${dialect}`, () => {
    let h: Awaited<ReturnType<typeof portalHarness>>;
    let n = 0;
    let stranger: Browser;
    beforeAll(async () => {
      h = await portalHarness(dialect);
      await h.seed();
      stranger = browser();
    });
    afterAll(async () => h.drop());

    /** A user of its own per test, so one test's failures do not hold back another's. */
    async function user(name: string): Promise<string> {
      return (await newUser(name)).email;
    }
    const newUser = (name: string) =>
      createUser(
        h.store.db,
        {
          email: `${name}@0363.example`,
          displayName: name,
          password: PASSWORD,
          role: 'user',
          organisationCode: '0363',
        },
        h.clock.now,
      );
    /** A browser at a client address of its own, so the per-address limit stays out of the way. */
    const browser = (cookie?: string) => {
      n += 1;
      const b = new Browser(h.app, { remoteAddress: `198.51.100.${n}` });
      if (cookie !== undefined) b.cookies.set(DEVICE_COOKIE, cookie);
      return b;
    };
    /** Logs in with the right password in a new browser and returns the device cookie it got. */
    async function deviceOf(email: string): Promise<string> {
      const b = browser();
      expect((await b.login(email)).headers.get('Location')).toBe('/');
      const cookie = b.cookies.get(DEVICE_COOKIE);
      expect(cookie).toBeDefined();
      return cookie!;
    }
    async function hammer(email: string) {
      for (let i = 0; i < THROTTLE.perEmail; i++)
        expect((await stranger.login(email, WRONG)).status).toBe(400);
      expect((await stranger.login(email, WRONG)).status).toBe(429);
    }

    it('sets a long-lived, HttpOnly, SameSite=Lax device cookie at the password step, kept at logout', async () => {
      const email = await user('dirk');
      const b = browser();
      const res = await b.login(email);
      const set = res.headers.getSetCookie().find((c) => c.startsWith(`${DEVICE_COOKIE}=`));
      expect(set).toBeDefined();
      for (const attribute of [/Max-Age=31536000/, /Path=\//, /HttpOnly/, /Secure/, /SameSite=Lax/])
        expect(set).toMatch(attribute);
      const cookie = b.cookies.get(DEVICE_COOKIE)!;
      // Names the user to the server only: the e-mail is not in it.
      expect(cookie).not.toContain('dirk');
      const { csrf } = await b.page('/ophalen');
      const out = await b.post('/uitloggen', { _csrf: csrf! });
      expect(out.status).toBe(303);
      expect(out.headers.getSetCookie().some((c) => c.startsWith(`${DEVICE_COOKIE}=`))).toBe(false);
      expect(b.cookies.get(DEVICE_COOKIE)).toBe(cookie);
      // Every login gives a new one (a new nonce).
      expect(await deviceOf(email)).not.toBe(cookie);
    });

    it('lets the user in from a browser used before while a stranger hammers the e-mail; a new browser stays throttled', async () => {
      const email = await user('alice');
      const device = await deviceOf(email);
      await hammer(email);
      // A browser the user never logged in with: today's per-e-mail limit, even with the right password.
      expect((await browser().login(email)).status).toBe(429);
      // The browser with the device cookie: its own limit, untouched by the stranger.
      const home = browser(device);
      expect((await home.login(email)).headers.get('Location')).toBe('/');
      expect((await home.page('/ophalen')).res.status).toBe(200);
      // Its success did not forget the stranger's failures: the e-mail stays throttled for everyone else.
      expect((await stranger.login(email)).status).toBe(429);
      expect((await browser().login(email)).status).toBe(429);
      // A wrong password with the device cookie is still refused, and the right one still checked.
      expect((await browser(home.cookies.get(DEVICE_COOKIE)).login(email, WRONG)).status).toBe(400);
    });

    it('throttles a device cookie on its own after five wrong passwords', async () => {
      const email = await user('bram');
      const stolen = await deviceOf(email);
      const laptop = await deviceOf(email);
      const thief = browser(stolen);
      for (let i = 0; i < THROTTLE.perDevice; i++) expect((await thief.login(email, WRONG)).status).toBe(400);
      expect((await thief.login(email, WRONG)).status).toBe(429);
      expect((await browser(stolen).login(email)).status).toBe(429);
      // The user's other browser and a new one are not held back by that cookie's failures.
      expect((await browser(laptop).login(email)).headers.get('Location')).toBe('/');
      expect((await browser().login(email)).headers.get('Location')).toBe('/');
      // After the window the cookie may try again.
      const start = h.clock.now;
      try {
        h.clock.now = new Date(start.getTime() + THROTTLE.window + 1000);
        expect((await browser(stolen).login(email)).headers.get('Location')).toBe('/');
      } finally {
        h.clock.now = start;
      }
    });

    it('gives a forged cookie, or one of another e-mail, no way past the per-e-mail limit', async () => {
      const email = await user('carla');
      const device = await deviceOf(email);
      const otherUsers = await deviceOf('bas@0599.example');
      await hammer(email);
      const [nonce = '', mac = ''] = device.split('.');
      const flipped = `${mac.slice(0, -1)}${mac.endsWith('0') ? '1' : '0'}`;
      const forged = [
        otherUsers,
        `${nonce}.${flipped}`,
        `${otherUsers.split('.')[0]}.${mac}`,
        issueDeviceCookie(deriveKeys('another-secret-another-secret-another!').loginDevice!, email),
        `${device}x`,
        'garbage',
      ];
      for (const cookie of forged) expect((await browser(cookie).login(email)).status, cookie).toBe(429);
      expect((await browser(device).login(email)).headers.get('Location')).toBe('/');
    });

    it("counts a forged cookie's wrong passwords against the e-mail", async () => {
      const email = await user('daan');
      const forged = issueDeviceCookie(
        deriveKeys('another-secret-another-secret-another!').loginDevice!,
        email,
      );
      const b = browser(forged);
      for (let i = 0; i < THROTTLE.perEmail; i++) expect((await b.login(email, WRONG)).status).toBe(400);
      expect((await browser().login(email)).status).toBe(429);
    });

    it('keeps the per-address limit for a browser with a device cookie', async () => {
      const email = await user('eva');
      const device = await deviceOf(email);
      const address = '192.0.2.77';
      for (let i = 0; i < THROTTLE.perAddress; i++) {
        const b = new Browser(h.app, { remoteAddress: address });
        expect((await b.login(`niemand-${i}@example.org`, WRONG)).status).toBe(400);
      }
      const home = new Browser(h.app, { remoteAddress: address });
      home.cookies.set(DEVICE_COOKIE, device);
      expect((await home.login(email)).status).toBe(429);
    });

    it('lets a user with a second factor reach the code step from a browser used before; the code keeps its own limit', async () => {
      const { email, id } = await newUser('fleur');
      const codeAt = await enrolSecondFactor(h, id);
      h.clock.now = new Date(h.clock.now.getTime() + 30_000);
      const first = browser();
      expect((await first.login(email)).headers.get('Location')).toBe('/inloggen/code');
      const device = first.cookies.get(DEVICE_COOKIE);
      expect(device).toBeDefined();
      await hammer(email);
      const home = browser(device);
      expect((await home.login(email)).headers.get('Location')).toBe('/inloggen/code');
      const { csrf } = await home.page('/inloggen/code');
      for (let i = 0; i < THROTTLE.perEmail; i++)
        expect((await home.post('/inloggen/code', { _csrf: csrf!, code: 'abcdef' })).status).toBe(400);
      const code = codeAt(h.clock.now);
      expect((await home.post('/inloggen/code', { _csrf: csrf!, code })).status).toBe(429);
    });
  });
}

describe('the device cookie without Secure cookies', () => {
  it('is kd_device, without Secure, for the demo on plain http', async () => {
    const h = await portalHarness('sqlite', { secureCookies: false });
    try {
      await h.seed();
      const res = await new Browser(h.app).login('ana@0363.example');
      const set = res.headers.getSetCookie().find((c) => c.startsWith('kd_device='));
      expect(set).toBeDefined();
      expect(set).not.toMatch(/Secure/);
      expect(set).toMatch(/SameSite=Lax/);
    } finally {
      await h.drop();
    }
  });
});
