import { readFileSync } from 'node:fs';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { examples } from '../../test/support/examples.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { sealTotpSecret } from '../pseudonymise/totp-secret.js';
import { listAudit } from '../store/audit.js';
import { findUserByEmail } from '../store/users.js';
import { createApiToken, createUser, listApiTokens, THROTTLE } from '../usecases/accounts.js';
import type { IndicatorValues } from '../usecases/indicators.js';
import { addOrganisation } from '../usecases/organisations.js';
import { formatDateTime } from './format.js';

// Sunday 1 March 2026 07:00 Amsterdam: the weekly slot of that morning has passed.
const AFTER_FIRST_RUN = new Date('2026-03-01T06:30:00Z');
const MONDAY = new Date('2026-03-02T08:00:00Z');

for (const dialect of DIALECTS) {
  describe(`portal and API on ${dialect}`, () => {
    let h: Awaited<ReturnType<typeof portalHarness>>;
    let ids: { [org: string]: number[] };

    beforeAll(async () => {
      h = await portalHarness(dialect);
      await h.seed();
      const report = await h.deliver(AFTER_FIRST_RUN);
      h.clock.now = MONDAY;
      ids = {};
      for (const d of report.made) ids[d.organisation] = [...(ids[d.organisation] ?? []), d.id];
    });
    afterAll(async () => h.drop());
    /** The password gea@0014.example chooses in place of the one the operator gave her. */
    const GEA_OWN = 'gea kiest een eigen wachtwoord';

    /**
     * Makes an API token on Instellingen as a browser does: the POST redirects (303) to the page that shows
     * the new token's secret, once.
     */
    const makeToken = async (b: Browser, name: string, csrf: string) => {
      const res = await b.post('/instellingen/tokens', { _csrf: csrf, name, password: PASSWORD });
      expect(res.status).toBe(303);
      const { html } = await b.page(res.headers.get('Location')!);
      return /data-testid="nieuw-token">([^<]+)</.exec(html)?.[1];
    };

    /**
     * A Beheer form's answer as a browser follows it (Post/Redirect/Get): a 303 to `to`, whose page shows
     * the message once; a second showing does not have it. Returns the first showing's HTML.
     */
    const followed = async (b: Browser, res: Response, to: string, message: string) => {
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe(to);
      const { html } = await b.page(to);
      expect(html).toContain(message);
      expect((await b.page(to)).html).not.toContain(message);
      return html;
    };

    /** A user of 0599 who logs in with PASSWORD, for the tests of the operator's account actions. */
    const add0599User = (email: string, displayName: string) =>
      createUser(
        h.store.db,
        { email, displayName, password: PASSWORD, role: 'user', organisationCode: '0599' },
        h.clock.now,
      );

    it('made one weekly delivery per organisation to test with', () => {
      expect(Object.keys(ids).sort()).toEqual(['0363', '0599', 'REGIO01']);
    });

    it('shows the operator, per organisation, when its latest delivery was made and how many nobody fetched yet', async () => {
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const html = (await op.page('/beheer')).html;
      expect(html).toContain('<th class="utrecht-table__header-cell" scope="col">Laatste levering</th>');
      const made = await h.store.db.selectFrom('delivery').select(['organisation', 'made_at']).execute();
      for (const org of ['0363', '0599', 'REGIO01']) {
        const at = made.find((d) => d.organisation === org)!.made_at;
        const row = new RegExp(`<td class="utrecht-table__cell">${org}</td>.*?</tr>`).exec(html)?.[0] ?? '';
        expect(row, org).toContain(
          `<td class="utrecht-table__cell">${formatDateTime(at)}<span class="utrecht-paragraph--small kd-block">1 nog niet gedownload</span></td>`,
        );
      }
    });

    it('serves the login page in Dutch with a strict content security policy and no caching', async () => {
      const res = await h.app.request('/inloggen');
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toMatch(/^<!doctype html><html lang="nl"/);
      expect(html).toContain('Inloggen');
      expect(html).toContain('Wachtwoord vergeten of de telefoon met de tweede factor kwijt?');
      const csp = res.headers.get('Content-Security-Policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('script-src');
      expect(res.headers.get('X-Frame-Options')).toBe('DENY');
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      expect(res.headers.get('Strict-Transport-Security')).toContain('max-age');
    });

    it('serves the NL Design System CSS from the app itself', async () => {
      const res = await h.app.request('/assets/utrecht.css');
      expect(res.headers.get('Content-Type')).toContain('text/css');
      expect(await res.text()).toContain('.utrecht-button');
    });

    it('has a tab icon that every page links to and /favicon.ico leads to, so a browser gets no 404 per page', async () => {
      const html = await (await h.app.request('/inloggen')).text();
      expect(html).toContain('<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml"/>');
      const icon = await h.app.request('/assets/favicon.svg');
      expect(icon.status).toBe(200);
      expect(icon.headers.get('Content-Type')).toBe('image/svg+xml');
      expect(await icon.text()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      const ico = await h.app.request('/favicon.ico');
      expect(ico.status).toBe(301);
      expect(ico.headers.get('Location')).toBe('/assets/favicon.svg');
    });

    it('sends the anonymous visitor to the login page, saying which page to go to after', async () => {
      for (const path of ['/', '/ophalen', '/dashboard', '/historie', '/instellingen', '/beheer']) {
        const res = await h.app.request(path);
        expect(res.status, path).toBe(303);
        expect(res.headers.get('Location'), path).toBe(
          path === '/' || path === '/ophalen' ? '/inloggen' : `/inloggen?next=${encodeURIComponent(path)}`,
        );
      }
    });

    it('logs in with a secure, HttpOnly, SameSite session cookie and shows only the own deliveries', async () => {
      const b = new Browser(h.app);
      const res = await b.login('ANA@0363.example');
      expect(res.status).toBe(303);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-kd_session='));
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/Secure/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const { html } = await b.page('/ophalen');
      for (const id of ids['0363']!) expect(html).toContain(`/ophalen/${id}/bestand`);
      for (const id of [...ids['0599']!, ...ids.REGIO01!])
        expect(html).not.toContain(`/ophalen/${id}/bestand`);
      expect(html).toContain('Alle nieuwe leveringen downloaden');
    });

    it('renews the session cookie with the idle timeout, so an active user is not logged out 8 hours after logging in', async () => {
      const b = new Browser(h.app);
      await b.login('ana@0363.example');
      const token = b.cookies.get('__Host-kd_session');
      const sessionCookie = (res: Response) =>
        res.headers.getSetCookie().find((c) => c.startsWith('__Host-kd_session='));
      const start = h.clock.now;
      try {
        // Within the minute the session is not written again, and no cookie is sent.
        expect(sessionCookie((await b.page('/ophalen')).res)).toBeUndefined();
        // Active all day: a page every 2 hours, 10 hours after the login still logged in.
        for (let hours = 2; hours <= 10; hours += 2) {
          h.clock.now = new Date(start.getTime() + hours * 3_600_000);
          const { res } = await b.page('/ophalen');
          expect(res.status, `after ${hours} hours`).toBe(200);
          const cookie = sessionCookie(res);
          expect(cookie, `after ${hours} hours`).toContain(`__Host-kd_session=${token};`);
          expect(cookie).toMatch(/Max-Age=28800/);
          expect(cookie).toMatch(/HttpOnly/);
          expect(cookie).toMatch(/SameSite=Strict/);
        }
        // A logout's clearing cookie still wins over the renewal in the same response.
        h.clock.now = new Date(start.getTime() + 11 * 3_600_000);
        const { csrf } = await b.page('/ophalen');
        h.clock.now = new Date(start.getTime() + 11.5 * 3_600_000);
        const out = await b.post('/uitloggen', { _csrf: csrf! });
        expect(out.status).toBe(303);
        expect(b.cookies.has('__Host-kd_session')).toBe(false);
      } finally {
        h.clock.now = start;
      }
    });

    it('ends a session 12 hours after the login however active it is: a taken cookie is of use a working day at most', async () => {
      const b = new Browser(h.app);
      await b.login('ana@0363.example');
      const start = h.clock.now;
      try {
        for (let hours = 3; hours <= 11; hours += 4) {
          h.clock.now = new Date(start.getTime() + hours * 3_600_000);
          expect((await b.page('/ophalen')).res.status, `after ${hours} hours`).toBe(200);
        }
        h.clock.now = new Date(start.getTime() + 12 * 3_600_000);
        const ended = (await b.page('/ophalen')).res;
        expect(ended.status).toBe(303);
        expect(ended.headers.get('Location')).toMatch(/^\/inloggen/);
        // Logging in again gives a new working day.
        await b.login('ana@0363.example');
        h.clock.now = new Date(start.getTime() + 19 * 3_600_000);
        expect((await b.page('/ophalen')).res.status).toBe(200);
      } finally {
        h.clock.now = start;
      }
    });

    it('keeps the e-mail address after a wrong password, so only the password is typed again', async () => {
      const b = new Browser(h.app);
      const { csrf } = await b.page('/inloggen');
      const res = await b.post('/inloggen', {
        _csrf: csrf!,
        email: 'Ana@0363.example',
        password: 'fout wachtwoord!!',
      });
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toContain('E-mailadres of wachtwoord is onjuist.');
      expect(html).toMatch(/<input[^>]*name="email"[^>]*value="ana@0363.example"/);
      expect(html).not.toContain('fout wachtwoord');
    });

    it("refuses a form of more than 256 KB unread, but for the operator's corrected message (up to 10 MB)", async () => {
      const big = `_csrf=x&a=${'1'.repeat(300 * 1024)}`;
      const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const login = await h.app.request('/inloggen', { method: 'POST', body: big, headers });
      expect(login.status).toBe(413);
      expect(await login.text()).toContain('Wat u verstuurde is te groot voor dit formulier.');
      // The upload address is no way around it without an operator's session.
      const upload = await h.app.request('/beheer/quarantaine/vervangen', {
        method: 'POST',
        body: big,
        headers,
      });
      expect(upload.status).toBe(413);
      // A form of normal size reaches the CSRF check.
      expect(
        (await h.app.request('/inloggen', { method: 'POST', body: '_csrf=x&a=1', headers })).status,
      ).toBe(403);
    });

    it('refuses a login form without its CSRF token', async () => {
      const b = new Browser(h.app);
      await b.page('/inloggen');
      const res = await b.post('/inloggen', { email: 'ana@0363.example', password: PASSWORD });
      expect(res.status).toBe(403);
      expect(b.cookies.has('__Host-kd_session')).toBe(false);
    });

    it('sends a form of a session that has ended to the login page, saying the session expired', async () => {
      const b = new Browser(h.app);
      await b.login('ana@0363.example');
      const { csrf } = await b.page('/ophalen');
      await b.post('/uitloggen', { _csrf: csrf! });
      // The tab still shows the page: its form comes without a session.
      const res = await b.post('/ophalen/alle-nieuwe', { _csrf: csrf! });
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe('/inloggen?melding=verlopen');
      expect((await b.page('/inloggen?melding=verlopen')).html).toContain(
        'Uw sessie is verlopen. Log opnieuw in.',
      );
    });

    it("names the login form's CSRF cookie __Host- with secure cookies, so a cookie set from elsewhere does not pass", async () => {
      const res = await h.app.request('/inloggen');
      const cookie = res.headers.getSetCookie().find((c) => c.includes('kd_login_csrf='));
      expect(cookie).toMatch(/^__Host-kd_login_csrf=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
      // A sibling host or plain http can set kd_login_csrf, not the __Host- one: its value is not believed.
      const planted = await h.app.request('/inloggen', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: 'kd_login_csrf=geplant' },
        body: new URLSearchParams({ _csrf: 'geplant', email: 'ana@0363.example', password: PASSWORD }),
      });
      expect(planted.status).toBe(403);
    });

    it('refuses every state-changing form without a CSRF token or with a wrong one', async () => {
      const posts = h.app.routes.filter((r) => r.method === 'POST' && !r.path.startsWith('/api'));
      const paths = [
        ...new Set(posts.map((r) => r.path.replace(':id', String(ids['0363']![0])).replace(':code', '0363'))),
      ];
      expect(paths.length).toBeGreaterThanOrEqual(12);
      const user = new Browser(h.app);
      await user.login('ana@0363.example');
      const operator = new Browser(h.app);
      await operator.login('beheer@example');
      for (const b of [user, operator]) {
        for (const path of paths) {
          expect(
            (await b.post(path, { ids: String(ids['0363']![0]), totaalbestand: 'ja', name: 'x' })).status,
            path,
          ).toBe(403);
          expect((await b.post(path, { _csrf: 'wrong', totaalbestand: 'ja', name: 'x' })).status, path).toBe(
            403,
          );
        }
      }
      // Nothing happened: still logged in, no history requested.
      expect((await user.page('/ophalen')).res.status).toBe(200);
      expect((await user.page('/historie')).html).toContain('Niet aangevraagd');
    });

    it("answers 'not found' for every delivery of another organisation: download, delete and API", async () => {
      const b = new Browser(h.app);
      await b.login('bas@0599.example');
      const { csrf } = await b.page('/instellingen');
      const nameless = await b.post('/instellingen/tokens', { _csrf: csrf!, name: '  ' });
      expect(nameless.status).toBe(400);
      expect(await nameless.text()).toContain('Geef het token een naam');
      const token = await makeToken(b, 'BI', csrf!);
      expect(token).toMatch(/^kd_/);
      const api = (path: string, method = 'GET') =>
        h.app.request(path, { method, headers: { Authorization: `Bearer ${token}` } });

      const others = [...ids['0363']!, ...ids.REGIO01!];
      const max = Math.max(...Object.values(ids).flat());
      for (const id of [...others, max + 1, max + 1000]) {
        expect((await b.fetch(`/ophalen/${id}/bestand`)).status, `download ${id}`).toBe(404);
        const { csrf: c } = await b.page('/ophalen');
        expect(
          (await b.post('/ophalen/verwijderen', { _csrf: c!, ids: String(id) })).status,
          `delete ${id}`,
        ).toBe(404);
        expect((await api(`/api/v1/deliveries/${id}`)).status).toBe(404);
        expect((await api(`/api/v1/deliveries/${id}/file`)).status).toBe(404);
        expect((await api(`/api/v1/deliveries/${id}`, 'DELETE')).status).toBe(404);
      }
      const list = (await (await api('/api/v1/deliveries')).json()) as { deliveries: { id: number }[] };
      expect(list.deliveries.map((d) => d.id).sort()).toEqual([...ids['0599']!].sort());
      // The other organisations' files are untouched and were not counted as downloaded.
      const rows = await h.store.db
        .selectFrom('delivery')
        .select(['id', 'first_downloaded_at', 'deleted_at'])
        .execute();
      for (const r of rows.filter((r) => others.includes(Number(r.id))))
        expect([r.first_downloaded_at, r.deleted_at]).toEqual([null, null]);
    });

    it('downloads one file, then all new ones as one ZIP, and deletes a downloaded file', async () => {
      const b = new Browser(h.app);
      await b.login('cor@regio.example');
      const [id] = ids.REGIO01!;
      const one = await b.fetch(`/ophalen/${id}/bestand`);
      expect(one.status).toBe(200);
      expect(one.headers.get('Content-Disposition')).toMatch(/^attachment; filename="[\w.-]+\.zip"$/);
      expect(
        Buffer.from(await one.arrayBuffer())
          .subarray(0, 2)
          .toString(),
      ).toBe('PK');
      const listing = (await b.page('/ophalen')).html;
      expect(listing).toContain('cor@regio.example');
      const { csrf } = await b.page('/ophalen');
      const none = await b.post('/ophalen/alle-nieuwe', { _csrf: csrf! });
      expect(none.status).toBe(303);
      expect(none.headers.get('Location')).toBe('/ophalen?melding=geen-nieuwe');
      const del = await b.post('/ophalen/verwijderen', { _csrf: csrf!, ids: String(id) });
      expect(del.status).toBe(303);
      expect((await b.fetch(`/ophalen/${id}/bestand`)).status).toBe(404);
      const audit = await h.store.db
        .selectFrom('audit_log')
        .select(['action', 'actor'])
        .where('organisation', '=', 'REGIO01')
        .execute();
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining(['auth.login', 'delivery.download', 'delivery.delete']),
      );
    });

    it('names who downloaded a file as a person reads it: token name, user, or the command line', async () => {
      const [id] = ids['0599']!;
      const reset = () =>
        h.store.db
          .updateTable('delivery')
          .set({ first_downloaded_at: null, first_downloaded_by: null })
          .where('id', '=', id!)
          .execute();
      const b = new Browser(h.app);
      await b.login('bas@0599.example');
      const gedownloadDoor = async () => {
        const html = (await b.page('/ophalen')).html;
        expect(html).not.toMatch(/token:\d|cli:/);
        return html;
      };
      await reset();
      const { token } = await createApiToken(
        h.store.db,
        { scope: 'organisation', organisationCode: '0599' },
        'BI-omgeving',
        null,
        h.clock.now,
      );
      const res = await h.app.request(`/api/v1/deliveries/${id}/file`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(await gedownloadDoor()).toContain('API-token ‘BI-omgeving’');
      await reset();
      await h.store.db
        .updateTable('delivery')
        .set({ first_downloaded_at: h.clock.now.toISOString(), first_downloaded_by: 'cli:root' })
        .where('id', '=', id!)
        .execute();
      expect(await gedownloadDoor()).toContain('beheerder (opdrachtregel)');
      await reset();
      await (await b.fetch(`/ophalen/${id}/bestand`)).arrayBuffer();
      expect(await gedownloadDoor()).toContain('Bas (bas@0599.example)');
    });

    it('requests history with the tick, shows the Monday it will be ready, and clears the tick once made', async () => {
      // The tick of the contract ('Aanmaken totaalbestand' on the tab 'Historie opvragen'): set while requested.
      const withdrawButton = /id="totaalbestand"[^>]*checked/;
      const requestButton = /id="totaalbestand"(?![^>]*checked)[^>]*>/;
      const b = new Browser(h.app);
      await b.login('ana@0363.example');
      const { csrf } = await b.page('/historie');
      expect((await b.post('/historie', { _csrf: csrf!, totaalbestand: 'ja' })).status).toBe(303);
      const requested = (await b.page('/historie')).html;
      expect(requested).toMatch(/Aangevraagd op .*Klaar op maandag 9 maart 2026/);
      expect(requested).toMatch(withdrawButton);
      expect(requested).not.toMatch(requestButton);
      // Ophalen says it is on its way.
      expect((await b.page('/ophalen')).html).toContain(
        'Totaalbestand aangevraagd, klaar op maandag 9 maart 2026.',
      );
      // The tick taken away (a post without the field) withdraws the request; ticking again renews it.
      expect((await b.post('/historie', { _csrf: csrf! })).headers.get('Location')).toBe(
        '/historie?melding=ingetrokken',
      );
      const withdrawn = (await b.page('/historie?melding=ingetrokken')).html;
      expect(withdrawn).toContain('Niet aangevraagd');
      expect(withdrawn).toContain('Uw aanvraag voor een totaalbestand is ingetrokken.');
      expect(withdrawn).toMatch(requestButton);
      expect((await b.page('/ophalen')).html).not.toContain('Totaalbestand aangevraagd');
      await b.post('/historie', { _csrf: csrf!, totaalbestand: 'ja' });
      await h.deliver(new Date('2026-03-08T06:30:00Z'));
      // Made on Sunday, listed from Monday: meanwhile the page says it is on its way, not that nothing is.
      h.clock.now = new Date('2026-03-08T09:00:00Z');
      expect((await b.fetch('/historie')).status, 'the session has expired a week later').toBe(303);
      await b.login('ana@0363.example');
      const sunday = (await b.page('/historie')).html;
      expect(sunday).toMatch(requestButton);
      expect(sunday).toMatch(/Totaalbestand gemaakt op .*Het staat vanaf maandag 9 maart 2026 onder Ophalen/);
      const ophalenSunday = (await b.page('/ophalen')).html;
      expect(ophalenSunday).not.toContain('ketendata-0363-historie-');
      expect(ophalenSunday).toContain('Het totaalbestand is gemaakt en staat maandag 9 maart 2026 klaar.');
      h.clock.now = new Date('2026-03-09T08:00:00Z');
      await b.login('ana@0363.example');
      const after = (await b.page('/historie')).html;
      expect(after).not.toContain('Het staat vanaf');
      expect(after).toMatch(requestButton);
      expect(after).toContain('Laatste totaalbestand gemaakt op');
      expect((await b.page('/ophalen')).html).toContain('ketendata-0363-historie-');
      h.clock.now = MONDAY;
    });

    it('throttles login after repeated failures, even with the right password', async () => {
      const b = new Browser(h.app);
      for (let i = 0; i < 5; i++)
        expect((await b.login('bas@0599.example', 'wrong password')).status).toBe(400);
      const res = await b.login('bas@0599.example');
      expect(res.status).toBe(429);
      expect(await res.text()).toContain('Te veel mislukte pogingen');
    });

    it('keeps organisation users out of the operator pages and operators out of Ophalen', async () => {
      const user = new Browser(h.app);
      await user.login('ana@0363.example');
      expect((await user.fetch('/beheer/gebruikers')).headers.get('Location')).toBe('/ophalen');
      const op = new Browser(h.app);
      await op.login('beheer@example');
      expect((await op.fetch('/ophalen')).headers.get('Location')).toBe('/beheer');
      for (const path of [
        '/beheer',
        '/beheer/gebruikers',
        '/beheer/taken',
        '/beheer/inlezen',
        '/beheer/quarantaine',
      ]) {
        expect((await op.page(path)).res.status, path).toBe(200);
      }
      const taken = (await op.page('/beheer/taken')).html;
      expect(taken).not.toContain('weekly-delivery');
      expect(taken).toContain('Klaar — 3 organisaties');
      expect(taken).toContain('Wekelijkse leveringen en aangevraagde historie');
      // What to do when one failed, on the page that shows it.
      expect(taken).toContain(
        '<code>ketendata deliver --retry-now</code> op de server probeert het dan meteen.',
      );
      const audit = (await op.page('/beheer/audit')).html;
      expect(audit).toContain('auth.login');
      expect(audit).toContain('organisation.activate');
      // Details in Dutch: labels, values and moments in Dutch time, not the stored keys and ISO UTC.
      expect(audit).toContain('soort: wekelijks; moment: 1 mrt 2026, 06:00');
      expect(audit).not.toContain('kind: weekly');
      expect(audit).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      // The scheduled jobs are "systeem".
      expect(audit).toContain('<td class="utrecht-table__cell">systeem</td>');
      expect(audit).not.toContain('<td class="utrecht-table__cell">system</td>');
    });

    it('lets the operator register and activate an organisation and add its user', async () => {
      const op = new Browser(h.app);
      await op.login('beheer@example');
      let { csrf } = await op.page('/beheer');
      const registered = await op.post('/beheer/organisaties', {
        _csrf: csrf!,
        code: '0014',
        name: 'Groningen',
        members: '',
      });
      expect(registered.status).toBe(303);
      // The page after the redirect says what happened and what comes next, not just "Opgeslagen.".
      expect((await op.page(registered.headers.get('Location')!)).html).toContain(
        'Organisatie Groningen (0014) is geregistreerd; activeer haar om leveringen te starten.',
      );
      const activated = await op.post('/beheer/organisaties/0014/activeren', { _csrf: csrf! });
      expect(activated.status).toBe(303);
      expect((await op.page(activated.headers.get('Location')!)).html).toMatch(
        /Organisatie Groningen \(0014\) is geactiveerd: de eerste wekelijkse levering komt zondag \d+ \w+ \d{4} om 06:00\./,
      );
      // The use case writes the one audit line of each; the page adds none (no "Instelling gewijzigd").
      expect((await listAudit(h.store.db, { organisation: '0014' })).map((a) => a.action).sort()).toEqual([
        'organisation.activate',
        'organisation.add',
      ]);
      const html = (await op.page('/beheer')).html;
      expect(html).toMatch(/0014<\/td><td class="utrecht-table__cell">Groningen/);
      ({ csrf } = await op.page('/beheer/gebruikers'));
      const gea0014 = { email: 'gea@0014.example', name: 'Gea', organisation: '0014', password: PASSWORD };
      // Only with the operator's own password: a session alone sets no one's password.
      const unconfirmed = await op.post('/beheer/gebruikers', {
        _csrf: csrf!,
        ...gea0014,
        own_password: 'niet mijn wachtwoord',
      });
      expect(unconfirmed.status).toBe(400);
      const refused = await unconfirmed.text();
      expect(refused).toContain('Uw eigen wachtwoord is onjuist.');
      // The form comes back as typed, but for the passwords.
      expect(refused).toMatch(/id="u-email" name="email" type="email" required="" value="gea@0014\.example"/);
      expect(refused).toMatch(/id="u-org" name="organisation" type="text" value="0014"/);
      expect(refused).not.toContain(PASSWORD);
      expect(await findUserByEmail(h.store.db, 'gea@0014.example')).toBeUndefined();
      // The role is chosen: a forgotten organisation code no longer makes a beheerder.
      const forgotten = await op.post('/beheer/gebruikers', {
        _csrf: csrf!,
        ...gea0014,
        organisation: '',
        own_password: PASSWORD,
      });
      expect(forgotten.status).toBe(400);
      expect(await forgotten.text()).toContain(
        'Vul de code van de organisatie in, of kies de rol Beheerder.',
      );
      const both = await op.post('/beheer/gebruikers', {
        _csrf: csrf!,
        ...gea0014,
        rol: 'beheerder',
        own_password: PASSWORD,
      });
      expect(both.status).toBe(400);
      const bothText = await both.text();
      expect(bothText).toContain('Een beheerder hoort bij geen organisatie');
      expect(bothText).toMatch(/id="u-rol-beheerder" name="rol" value="beheerder" checked=""/);
      expect(await findUserByEmail(h.store.db, 'gea@0014.example')).toBeUndefined();
      const beheerder = await op.post('/beheer/gebruikers', {
        _csrf: csrf!,
        email: 'hans@beheer.example',
        name: 'Hans',
        organisation: '',
        rol: 'beheerder',
        password: PASSWORD,
        own_password: PASSWORD,
      });
      expect(beheerder.status).toBe(303);
      expect((await findUserByEmail(h.store.db, 'hans@beheer.example'))?.role).toBe('operator');
      const before = (await listAudit(h.store.db)).length;
      const added = await op.post('/beheer/gebruikers', { _csrf: csrf!, ...gea0014, own_password: PASSWORD });
      const addedPage = await followed(
        op,
        added,
        '/beheer/gebruikers',
        'Gebruiker gea@0014.example is toegevoegd bij organisatie 0014.',
      );
      expect(addedPage).not.toContain(PASSWORD);
      // Exactly one audit line for adding a user, saying what it was.
      const all = await listAudit(h.store.db);
      const lines = all.slice(0, all.length - before);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ actor: 'beheer@example', organisation: '0014', action: 'user.add' });
      expect(JSON.parse(lines[0]!.detail!)).toEqual({ user: 'gea@0014.example' });
      expect(await listAudit(h.store.db, { actionPrefix: 'settings.change' })).toEqual([]);
      const userAudit = (await op.page('/beheer/audit')).html;
      expect(userAudit).toContain('Gebruiker toegevoegd <code>user.add</code>');
      expect(userAudit).toContain('gebruiker: gea@0014.example');
      const tempRow = /gea@0014\.example<\/td>(?:(?!<\/tr>).)*Actief, nog met tijdelijk wachtwoord/;
      expect((await op.page('/beheer/gebruikers')).html).toMatch(tempRow);
      // The operator knows the password: Gea chooses her own before anything else.
      const gea = new Browser(h.app);
      expect((await gea.login('gea@0014.example')).headers.get('Location')).toBe('/');
      for (const path of ['/', '/ophalen', '/dashboard', '/historie'])
        expect((await gea.fetch(path)).headers.get('Location'), path).toBe(
          path === '/' || path === '/ophalen'
            ? '/instellingen'
            : `/instellingen?next=${encodeURIComponent(path)}`,
        );
      const settings = await gea.page('/instellingen');
      expect(settings.html).toContain('U bent ingelogd met een tijdelijk wachtwoord');
      // Whoever knows the temporary password sets up no second factor or API token with it.
      expect(settings.html).not.toContain('Tweede factor instellen');
      expect(settings.html).not.toContain('Token aanmaken');
      for (const path of ['/instellingen/tweede-factor/start', '/instellingen/tokens']) {
        const refused = await gea.post(path, { _csrf: settings.csrf!, name: 'stiekem', password: PASSWORD });
        expect(refused.headers.get('Location'), path).toBe('/instellingen');
      }
      expect(await listApiTokens(h.store.db, '0014')).toEqual([]);
      const same = await gea.post('/instellingen/wachtwoord', {
        _csrf: settings.csrf!,
        current: PASSWORD,
        next: PASSWORD,
      });
      expect(same.status).toBe(400);
      expect(await same.text()).toContain('Kies een ander wachtwoord dan het huidige.');
      expect((await gea.fetch('/ophalen')).headers.get('Location')).toBe('/instellingen');
      const own = await gea.post('/instellingen/wachtwoord', {
        _csrf: settings.csrf!,
        current: PASSWORD,
        next: GEA_OWN,
      });
      expect(own.headers.get('Location')).toBe('/instellingen?melding=eigen-wachtwoord');
      expect((await gea.page('/instellingen')).html).not.toContain('tijdelijk wachtwoord');
      expect((await gea.page('/ophalen')).res.status).toBe(200);
      expect((await new Browser(h.app).login('gea@0014.example', GEA_OWN)).status).toBe(303);
      expect((await op.page('/beheer/gebruikers')).html).not.toMatch(tempRow);
    });

    it("lets the operator change a head organisation's municipalities, and not a municipality's", async () => {
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const { csrf, html } = await op.page('/beheer');
      expect(html).toContain('action="/beheer/organisaties/REGIO01/gemeenten"');
      expect(html).not.toContain('action="/beheer/organisaties/0363/gemeenten"');
      const changed = await op.post('/beheer/organisaties/REGIO01/gemeenten', {
        _csrf: csrf!,
        members: '0363',
      });
      expect(changed.status).toBe(303);
      const changedPage = (await op.page(changed.headers.get('Location')!)).html;
      expect(changedPage).toMatch(/De gemeenten van [^<]* \(REGIO01\) zijn nu: 0363\./);
      expect(changedPage).toMatch(/id="leden-REGIO01"[^>]*value="0363"/);
      const refused = await op.post('/beheer/organisaties/0363/gemeenten', { _csrf: csrf!, members: '0599' });
      expect(refused.status).toBe(400);
      // Said in Dutch, with the code for support; not the use case's English message.
      const said = await refused.text();
      expect(said).toContain(
        'Niet gelukt: alleen een hoofdorganisatie heeft gemeenten. (foutcode organisation.not_head)',
      );
      expect(said).not.toContain('only a head organisation');
      expect(
        await op.post('/beheer/organisaties/REGIO01/gemeenten', { _csrf: csrf!, members: '0363, 0599' }),
      ).toHaveProperty('status', 303);
      const again = (await op.page('/beheer')).html;
      expect(again).toMatch(/id="leden-REGIO01"[^>]*value="0363, 0599"/);
      // 0599 came back: the next weekly sends all its data so far.
      expect(again).toContain(
        'Nieuw: 0599. De volgende wekelijkse levering bevat alle gegevens van deze gemeente tot nu toe.',
      );
      const auditPage = (await op.page('/beheer/audit')).html;
      expect(auditPage).toContain(
        'Gemeenten van hoofdorganisatie gewijzigd <code>organisation.members</code>',
      );
      // Details as `sleutel: waarde`, not raw JSON.
      expect(auditPage).toContain('voor: 0363; na: 0363, 0599');
    });

    it('asks for the authenticator code after the password once the second factor is on', async () => {
      // gea@0014.example was added by the operator in the test above.
      const u = new Browser(h.app);
      expect((await u.login('gea@0014.example', GEA_OWN)).headers.get('Location')).toBe('/');
      // A session of hers elsewhere (or of whoever had her password) ends when the second factor goes on.
      const elsewhere = new Browser(h.app);
      await elsewhere.login('gea@0014.example', GEA_OWN);
      expect((await elsewhere.fetch('/ophalen')).status).toBe(200);
      let { csrf, html } = await u.page('/instellingen');
      expect(html).toContain('Tweede factor instellen');
      await u.post('/instellingen/tweede-factor/start', { _csrf: csrf!, password: GEA_OWN });
      ({ csrf, html } = await u.page('/instellingen'));
      // Shown in groups of four; the app takes it without the spaces.
      const secret = /Sleutel: <code class="kd-code kd-key">([A-Z2-7 ]+)</
        .exec(html)?.[1]
        ?.replaceAll(' ', '');
      expect(secret).toBeDefined();
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret!) });
      const code = () => totp.generate({ timestamp: h.clock.now.getTime() });
      // Not a code of the step before, this one or the next: the window accepts all three.
      const wrong = () => {
        const valid = [-30_000, 0, 30_000].map((d) =>
          totp.generate({ timestamp: h.clock.now.getTime() + d }),
        );
        return ['000000', '111111', '222222'].find((c) => !valid.includes(c))!;
      };
      // Enrol at a step whose next step has another code (equal 1 in a million): the enrolment's code
      // would pass for the login's below.
      while (totp.generate({ timestamp: h.clock.now.getTime() + 30_000 }) === code())
        h.clock.now = new Date(h.clock.now.getTime() + 30_000);
      expect(
        (
          await u.post('/instellingen/tweede-factor/bevestigen', {
            _csrf: csrf!,
            code: wrong(),
            password: GEA_OWN,
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await u.post('/instellingen/tweede-factor/bevestigen', {
            _csrf: csrf!,
            code: code(),
            password: GEA_OWN,
          })
        ).status,
      ).toBe(303);
      expect((await elsewhere.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      // On, it cannot be set up anew (which would switch it off), even with the password.
      ({ csrf } = await u.page('/instellingen'));
      expect(csrf).toBeDefined();
      const anew = await u.post('/instellingen/tweede-factor/start', { _csrf: csrf!, password: GEA_OWN });
      expect(anew.status).toBe(400);
      expect(await anew.text()).toContain('Tweede factor instellen: de tweede factor staat aan.');

      // A code is taken once: the login uses the next one.
      const enrolled = code();
      h.clock.now = new Date(h.clock.now.getTime() + 30_000);
      const again = new Browser(h.app);
      expect((await again.login('gea@0014.example', GEA_OWN)).headers.get('Location')).toBe('/inloggen/code');
      expect((await again.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen/code');
      const form = await again.page('/inloggen/code');
      expect(
        (
          await again.post('/inloggen/code', {
            _csrf: form.csrf!,
            code: wrong(),
          })
        ).status,
      ).toBe(400);
      expect((await again.post('/inloggen/code', { _csrf: form.csrf!, code: enrolled })).status).toBe(400);
      expect(
        (await again.post('/inloggen/code', { _csrf: form.csrf!, code: code() })).headers.get('Location'),
      ).toBe('/');
      expect((await again.page('/ophalen')).res.status).toBe(200);
      h.clock.now = MONDAY;
    });

    it('tells a user whose second factor is under another key that the code cannot be checked, and the operator to run raw-rekey', async () => {
      // gea@0014.example switched the second factor on in the test above.
      const user = (await findUserByEmail(h.store.db, 'gea@0014.example'))!;
      const other = deriveKeys('another-secret-another-secret-another!');
      await h.store.db
        .updateTable('app_user')
        .set({ totp_secret: sealTotpSecret(other, user.id, 'JBSWY3DPEHPK3PXP') })
        .where('id', '=', user.id)
        .execute();
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const u = new Browser(h.app);
        expect((await u.login('gea@0014.example', GEA_OWN)).headers.get('Location')).toBe('/inloggen/code');
        const form = await u.page('/inloggen/code');
        const res = await u.post('/inloggen/code', { _csrf: form.csrf!, code: '123456' });
        expect(res.status).toBe(500);
        expect(await res.text()).toContain('Inlogcode: uw code kan nu niet worden gecontroleerd');
        const logged = errors.mock.calls.map((c) => String(c[0])).join('\n');
        expect(logged).toContain(
          `accounts.totp_key_unknown: the second factor of user ${user.id} is encrypted with key ${other.totpKeyId}`,
        );
        expect(logged).toContain('ketendata raw-rekey');
        expect((await listAudit(h.store.db, { limit: 1 }))[0]).toMatchObject({
          action: 'auth.login_failed',
          detail: expect.stringContaining('totp_key_unknown'),
        });
      } finally {
        errors.mockRestore();
        await h.store.db
          .updateTable('app_user')
          .set({ totp_secret: user.totp_secret })
          .where('id', '=', user.id)
          .execute();
      }
    });

    it('serves the API to an organisation token: list, download all new, delete, history request', async () => {
      const b = new Browser(h.app);
      await b.login('ana@0363.example');
      const { csrf } = await b.page('/instellingen');
      const token = await makeToken(b, 'BI', csrf!);
      const api = (path: string, method = 'GET') =>
        h.app.request(path, { method, headers: { Authorization: `Bearer ${token}` } });
      const list = (await (await api('/api/v1/deliveries')).json()) as {
        deliveries: { id: number; firstDownloadedAt: string | null }[];
      };
      expect(list.deliveries.length).toBeGreaterThan(0);
      const fresh = list.deliveries.filter((d) => !d.firstDownloadedAt).map((d) => d.id);
      const bundle = await api('/api/v1/deliveries/download-new', 'POST');
      if (fresh.length === 0) expect(bundle.status).toBe(204);
      else {
        expect(bundle.status).toBe(200);
        // It names the deliveries it holds, so a script can fetch them again one by one.
        const held = bundle.headers.get('Ketendata-Deliveries')?.split(',').map(Number);
        expect(held?.sort((x, y) => x - y)).toEqual([...fresh].sort((x, y) => x - y));
        expect(
          Buffer.from(await bundle.arrayBuffer())
            .subarray(0, 2)
            .toString(),
        ).toBe('PK');
      }
      expect((await api('/api/v1/deliveries/download-new', 'POST')).status).toBe(204);
      const id = list.deliveries[0]!.id;
      expect((await api(`/api/v1/deliveries/${id}`, 'DELETE')).status).toBe(204);
      expect((await api(`/api/v1/deliveries/${id}/file`)).status).toBe(410);
      // Only the id as written; a method the API does not have is a JSON 405, not the portal's form check.
      expect((await api(`/api/v1/deliveries/${list.deliveries.at(-1)!.id}.0/file`)).status).toBe(404);
      const put = await api(`/api/v1/deliveries/${id}`, 'PUT');
      expect(put.status).toBe(405);
      expect(await put.json()).toMatchObject({ error: { code: 'api.method_not_allowed' } });
      const history = await api('/api/v1/history-request');
      expect(await history.json()).toHaveProperty('requestedAt');
      expect((await api('/api/v1/quarantine')).status).toBe(403);
      const tokenRow = await h.store.db
        .selectFrom('api_token')
        .select('id')
        .where('organisation_code', '=', '0363')
        .executeTakeFirstOrThrow();
      const audit = await h.store.db
        .selectFrom('audit_log')
        .select('actor')
        .where('action', '=', 'delivery.delete')
        .where('organisation', '=', '0363')
        .execute();
      expect(audit.map((a) => a.actor)).toContain(`token:${tokenRow.id}`);
    });

    it('takes a history request with no body or {}, refuses unknown fields, and withdraws it with DELETE', async () => {
      const { token, row } = await createApiToken(
        h.store.db,
        { scope: 'organisation', organisationCode: '0599' },
        'Historie',
        null,
        h.clock.now,
      );
      const api = (method: string, body?: string) =>
        h.app.request('/api/v1/history-request', {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body }),
        });
      const pending = async () =>
        ((await (await api('GET')).json()) as { requestedAt: string | null }).requestedAt !== null;
      for (const body of ['{"x":1}', '{"from":"2021-01-01","kind":"history"}', '[]', 'nee', '"x"']) {
        const res = await api('POST', body);
        expect(res.status, body).toBe(400);
        expect(await res.json(), body).toMatchObject({ error: { code: 'api.bad_request' } });
      }
      expect(await (await api('POST', '{"x":1}')).json()).toMatchObject({
        error: { message: expect.stringContaining('"x"') },
      });
      expect(await pending()).toBe(false);

      const withdrawNothing = await api('DELETE');
      expect(withdrawNothing.status).toBe(404);
      expect(await withdrawNothing.json()).toMatchObject({ error: { code: 'api.not_found' } });

      expect((await api('POST')).status).toBe(202);
      expect((await api('POST', '{}')).status).toBe(202);
      expect(await pending()).toBe(true);
      const withdrawn = await api('DELETE');
      expect(withdrawn.status).toBe(200);
      expect(await withdrawn.json()).toMatchObject({ requestedAt: null });
      expect(await pending()).toBe(false);
      expect((await api('DELETE')).status).toBe(404);
      const log = await listAudit(h.store.db, { actionPrefix: 'organisation.cancel_history' });
      expect(log.filter((a) => a.organisation === '0599').map((a) => a.actor)).toEqual([`token:${row.id}`]);
    });

    it('lists the quarantine to an operator token only', async () => {
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const { csrf } = await op.page('/instellingen');
      const token = await makeToken(op, 'hub', csrf!);
      const res = await h.app.request('/api/v1/quarantine', {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ quarantine: [] });
      expect(
        (await h.app.request('/api/v1/deliveries', { headers: { Authorization: `Bearer ${token}` } })).status,
      ).toBe(403);
    });

    it('takes exchanges from the hub on POST /api/v1/exchanges with an operator token only', async () => {
      const xml = readFileSync('test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml');
      const post = (token: string) =>
        h.app.request('/api/v1/exchanges?moment=2026-03-02T07:00:00Z', {
          method: 'POST',
          body: xml,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/xml' },
        });
      const org = await createApiToken(
        h.store.db,
        { scope: 'organisation', organisationCode: '0363' },
        'BI',
        null,
        MONDAY,
      );
      const refused = await post(org.token);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: 'api.operator_token_required' } });
      expect((await post('kd_nope')).status).toBe(401);
      const op = await createApiToken(
        h.store.db,
        { scope: 'operator', organisationCode: null },
        'hub',
        null,
        MONDAY,
      );
      const first = await post(op.token);
      expect([201, 202]).toContain(first.status);
      expect((await post(op.token)).status).toBe(200);
    });

    /** A broken exchange posted by the hub with an operator token: quarantined. */
    async function postBroken(tokenName: string, hubId: string, moment: string) {
      const op = await createApiToken(
        h.store.db,
        { scope: 'operator', organisationCode: null },
        tokenName,
        null,
        MONDAY,
      );
      const res = await h.app.request(`/api/v1/exchanges?moment=${moment}&hubId=${hubId}`, {
        method: 'POST',
        body: '<Bericht><niet-af>',
        headers: { Authorization: `Bearer ${op.token}`, 'Content-Type': 'application/xml' },
      });
      expect(res.status).toBe(202);
      return op;
    }

    it('lists a quarantined exchange to the operator, with its reason, and re-tries it from the page', async () => {
      const op = await postBroken('hub2', 'KAPOT1', '2026-03-02T07:05:00Z');
      const listed = (await (
        await h.app.request('/api/v1/quarantine', { headers: { Authorization: `Bearer ${op.token}` } })
      ).json()) as {
        quarantine: { id: number; code: string; ingestSource: string | null }[];
      };
      const entry = listed.quarantine.find((q) => q.code === 'ingest.unknown_type');
      expect(entry, JSON.stringify(listed)).toBeDefined();
      expect(entry!.ingestSource).toMatch(/^http:/);
      const b = new Browser(h.app);
      await b.login('beheer@example');
      const { html, csrf } = await b.page('/beheer/quarantaine');
      expect(html).toContain('ingest.unknown_type');
      // What the code means in Dutch, then the validator's own message.
      expect(html).toContain('Geen bericht van iJw of iWmo release 3.2. <span');
      expect(html).toContain(`ingelezen uit ${entry!.ingestSource}`);
      const retried = await b.post('/beheer/quarantaine/opnieuw', { _csrf: csrf!, ids: String(entry!.id) });
      await followed(
        b,
        retried,
        '/beheer/quarantaine',
        '1 opnieuw geprobeerd: 0 opgelost, 1 nog in quarantaine (ingest.unknown_type; de reden staat hieronder bij het bericht).',
      );
      // Nothing selected: the page again, at once, saying so.
      const none = await b.post('/beheer/quarantaine/opnieuw', { _csrf: csrf! });
      expect(none.status).toBe(400);
      expect(await none.text()).toContain('Selecteer eerst een of meer berichten.');

      // The sender delivered a corrected message: the operator uploads it in place of the kept one.
      const corrected = examples().find((e) => e.name === 'ijw-voorbeelden-gecorrigeerd/JW315.xml')!;
      const form = new FormData();
      form.set('_csrf', csrf!);
      form.set('id', String(entry!.id));
      form.set('bestand', new Blob([corrected.text], { type: 'application/xml' }), 'gecorrigeerd.xml');
      const replaced = await b.fetch('/beheer/quarantaine/vervangen', { method: 'POST', body: form });
      await followed(
        b,
        replaced,
        '/beheer/quarantaine',
        '1 opnieuw geprobeerd: 1 opgelost (1 opgeslagen, 0 als dubbel), 0 nog in quarantaine.',
      );
      const q = await h.store.db
        .selectFrom('quarantine')
        .select(['status', 'resolved_message_seq'])
        .where('id', '=', entry!.id)
        .executeTakeFirstOrThrow();
      expect(q.status).toBe('resolved');
      // No longer open, still findable: under Afgehandeld, with what it became.
      const after = (await b.page('/beheer/quarantaine')).html;
      expect(after).toMatch(
        new RegExp(
          `<td class="utrecht-table__cell">${entry!.id}</td><td class="utrecht-table__cell kd-wrap">[^<]*</td><td class="utrecht-table__cell"><code>ingest.unknown_type</code></td><td class="utrecht-table__cell">Opgeslagen \\(bericht ${q.resolved_message_seq}\\)</td>`,
        ),
      );
      const m = await h.store.db
        .selectFrom('message')
        .select(['code', 'first_moment', 'hub_id'])
        .where('seq', '=', Number(q.resolved_message_seq))
        .executeTakeFirstOrThrow();
      expect(m).toEqual({ code: 'JW315', first_moment: '2026-03-02T07:05:00.000Z', hub_id: 'KAPOT1' });
      const log = await listAudit(h.store.db, { actionPrefix: 'quarantine.replace' });
      expect(log.map((a) => [a.actor, JSON.parse(a.detail!).resolved])).toEqual([['beheer@example', 1]]);
      // A body larger than any form is refused before it is read.
      const huge = new FormData();
      huge.set('_csrf', csrf!);
      huge.set('id', String(entry!.id));
      huge.set('bestand', new Blob([new Uint8Array(11 * 1024 * 1024)]), 'groot.xml');
      const tooLarge = await b.fetch('/beheer/quarantaine/vervangen', { method: 'POST', body: huge });
      expect(tooLarge.status).toBe(413);
      expect(await tooLarge.text()).toContain('te groot');
      const again = await b.fetch('/beheer/quarantaine/vervangen', { method: 'POST', body: form });
      await followed(
        b,
        again,
        '/beheer/quarantaine',
        `Quarantainenummer ${entry!.id} staat niet (meer) open.`,
      );
      const noFile = new FormData();
      noFile.set('_csrf', csrf!);
      noFile.set('id', String(entry!.id));
      const missing = await b.fetch('/beheer/quarantaine/vervangen', { method: 'POST', body: noFile });
      expect(missing.status).toBe(400);
      expect(await missing.text()).toContain('Kies een quarantainenummer en een XML-bestand.');
      const two = new URLSearchParams([
        ['_csrf', csrf!],
        ['ids', String(entry!.id)],
        ['ids', '999999'],
      ]);
      const both = await b.fetch('/beheer/quarantaine/opnieuw', { method: 'POST', body: two });
      await followed(
        b,
        both,
        '/beheer/quarantaine',
        `Quarantainenummers ${entry!.id}, 999999 staan niet (meer) open.`,
      );
    });

    it('refuses a corrected file that is another message than the item, naming both, and keeps the item', async () => {
      const op = await createApiToken(
        h.store.db,
        { scope: 'operator', organisationCode: null },
        'hub3',
        null,
        MONDAY,
      );
      const published = examples().find((e) => e.name === 'ijw-voorbeelden/JW315.xml')!;
      const posted = await h.app.request('/api/v1/exchanges?moment=2026-03-02T08:00:00Z&hubId=ANDER1', {
        method: 'POST',
        body: published.text,
        headers: { Authorization: `Bearer ${op.token}`, 'Content-Type': 'application/xml' },
      });
      expect(posted.status).toBe(202);
      const item = await h.store.db
        .selectFrom('quarantine')
        .select('id')
        .where('hub_id', '=', 'ANDER1')
        .executeTakeFirstOrThrow();
      const b = new Browser(h.app);
      await b.login('beheer@example');
      const { csrf, html: listed } = await b.page('/beheer/quarantaine');
      // Its message as received, to correct it: a download from the row, in the audit log.
      expect(listed).toContain(
        `href="/beheer/quarantaine/${item.id}/bericht" download="quarantaine-${item.id}.xml"`,
      );
      const message = await b.fetch(`/beheer/quarantaine/${item.id}/bericht`);
      expect(message.status).toBe(200);
      expect(message.headers.get('Content-Disposition')).toBe(
        `attachment; filename="quarantaine-${item.id}.xml"`,
      );
      expect(message.headers.get('Cache-Control')).toBe('no-store');
      expect(await message.text()).toBe(published.text);
      const exported = await listAudit(h.store.db, { actionPrefix: 'quarantine.export' });
      expect(exported.map((a) => [a.actor, a.detail])).toEqual([
        ['beheer@example', JSON.stringify({ ids: [item.id] })],
      ]);
      expect((await b.fetch('/beheer/quarantaine/999999/bericht')).status).toBe(404);
      const other = examples().find((e) => e.name === 'ijw-voorbeelden/JW301.xml')!;
      const form = new FormData();
      form.set('_csrf', csrf!);
      form.set('id', String(item.id));
      form.set('bestand', new Blob([other.text], { type: 'application/xml' }), 'verkeerd.xml');
      const res = await b.fetch('/beheer/quarantaine/vervangen', { method: 'POST', body: form });
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toMatch(
        new RegExp(
          `Het bestand is een ander bericht \\(JW301 [^)]*\\) dan quarantainenummer ${item.id} \\(JW315 [^)]*\\): er is niets veranderd\\.`,
        ),
      );
      expect(html).toContain(`value="${item.id}"`);
      const still = await h.store.db
        .selectFrom('quarantine')
        .select('status')
        .where('id', '=', item.id)
        .executeTakeFirstOrThrow();
      expect(still.status).toBe('open');
    });

    it('lets the operator close a quarantined exchange without storing it, with a note', async () => {
      await postBroken('hub3', 'KAPOT2', '2026-03-02T07:06:00Z');
      const { id } = (await h.store.db
        .selectFrom('quarantine')
        .select('id')
        .where('hub_id', '=', 'KAPOT2')
        .executeTakeFirstOrThrow()) as { id: number };
      const b = new Browser(h.app);
      await b.login('beheer@example');
      const { html, csrf } = await b.page('/beheer/quarantaine');
      expect(html).toContain('formaction="/beheer/quarantaine/afhandelen"');
      expect(html).toContain('<textarea');
      const withoutNote = await b.post('/beheer/quarantaine/afhandelen', { _csrf: csrf!, ids: String(id) });
      expect(withoutNote.status).toBe(400);
      expect(await withoutNote.text()).toContain('Geef een toelichting');
      const noCsrf = await b.post('/beheer/quarantaine/afhandelen', { ids: String(id), toelichting: 'x' });
      expect(noCsrf.status).toBe(403);
      const done = await b.post('/beheer/quarantaine/afhandelen', {
        _csrf: csrf!,
        ids: String(id),
        toelichting: 'Aanbieder stuurde een nieuw bericht',
      });
      const page = await followed(b, done, '/beheer/quarantaine', '1 bericht afgehandeld zonder opslaan.');
      // Out of the open items, into Afgehandeld, pointing to the note.
      const [open, handled] = page.split('<h2 class="utrecht-heading-2">Afgehandeld</h2>');
      expect(open).not.toContain('KAPOT2');
      expect(handled).toMatch(
        new RegExp(
          `<td class="utrecht-table__cell">${id}</td><td class="utrecht-table__cell kd-wrap">[^<]*KAPOT2[^<]*</td>.*?Afgehandeld zonder opslaan; de toelichting staat in de <a class="utrecht-link" href="/beheer/audit\\?soort=quarantine\\.">Auditlog</a>`,
        ),
      );
      const q = await h.store.db
        .selectFrom('quarantine')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(q.status).toBe('dismissed');
      const log = await listAudit(h.store.db, { actionPrefix: 'quarantine.dismiss' });
      expect(log.map((a) => [a.actor, JSON.parse(a.detail!).note])).toEqual([
        ['beheer@example', 'Aanbieder stuurde een nieuw bericht'],
      ]);
      const audit = await (await b.fetch('/beheer/audit')).text();
      expect(audit).toContain('Quarantaine afgehandeld zonder opslaan');
    });

    it('tells the user of an organisation not yet activated that history cannot be requested', async () => {
      await addOrganisation(h.store, { code: '0050', name: 'Nog Niet', actor: 'test', now: MONDAY });
      await createUser(
        h.store.db,
        {
          email: 'nina@0050.example',
          displayName: 'Nina',
          password: PASSWORD,
          role: 'user',
          organisationCode: '0050',
        },
        MONDAY,
      );
      const b = new Browser(h.app);
      await b.login('nina@0050.example');
      const NOT_ACTIVE =
        'Uw organisatie is nog niet geactiveerd; u ontvangt nog geen leveringen. Neem contact op met de beheerder.';
      const ophalen = (await b.page('/ophalen')).html;
      expect(ophalen).toContain('Er zijn nog geen leveringen.');
      expect(ophalen).toContain(NOT_ACTIVE);
      expect(ophalen).not.toContain('Elke maandagochtend');
      const historie = (await b.page('/historie')).html;
      expect(historie).toContain(NOT_ACTIVE);
      expect(historie).not.toContain('name="totaalbestand"');
      const dashboard = (await b.page('/dashboard')).html;
      expect(dashboard).toContain(NOT_ACTIVE);
      expect(dashboard).toContain('Er zijn nog geen berichten ontvangen.');
      // An active organisation is not told so.
      const ana = new Browser(h.app);
      await ana.login('ana@0363.example');
      for (const path of ['/ophalen', '/historie', '/dashboard'])
        expect((await ana.page(path)).html, path).not.toContain('nog niet geactiveerd');
      const { csrf } = await b.page('/historie');
      const res = await b.post('/historie', { _csrf: csrf!, totaalbestand: 'ja' });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('nog niet geactiveerd');
      const { token } = await createApiToken(
        h.store.db,
        { scope: 'organisation', organisationCode: '0050' },
        'BI',
        null,
        MONDAY,
      );
      const api = await h.app.request('/api/v1/history-request', {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(api.status).toBe(409);
      // Meant for the municipality's client, not for the operator's command line.
      expect(await api.json()).toEqual({
        error: {
          code: 'organisation.inactive',
          message:
            'organisation 0050 is not active (not activated yet, or deactivated), so it receives no new deliveries and cannot request history: contact the operator of Ketendata',
        },
      });
    });

    it('names the organisation with its code in the header, on Ophalen and in Instellingen', async () => {
      const b = new Browser(h.app);
      await b.login('cor@regio.example');
      const ophalen = (await b.page('/ophalen')).html;
      expect(ophalen).toContain('organisatie Regio Een (REGIO01)');
      // A head organisation's files hold several municipalities: named (audit: only the region was).
      expect(ophalen).toContain(
        'Leveringen voor organisatie Regio Een (REGIO01), met de gegevens van de gemeenten Amsterdam (0363), Rotterdam (0599).',
      );
      const own = new Browser(h.app);
      await own.login('ana@0363.example');
      expect((await own.page('/ophalen')).html).toContain('Leveringen voor organisatie Amsterdam (0363).');
      const instellingen = (await b.page('/instellingen')).html;
      expect(instellingen).toMatch(/Organisatie<\/dt><dd[^>]*>Regio Een \(REGIO01\)<\/dd>/);
      const beheer = new Browser(h.app);
      await beheer.login('beheer@example');
      expect((await beheer.page('/instellingen')).html).toMatch(
        /Organisatie<\/dt><dd[^>]*>— \(beheerder\)<\/dd>/,
      );
    });

    it('asks before revoking an API token, keeps the CSRF check, and shows how to use a token', async () => {
      const { row } = await createApiToken(
        h.store.db,
        { scope: 'organisation', organisationCode: '0599' },
        'Rapportage',
        null,
        h.clock.now,
      );
      const other = await createApiToken(
        h.store.db,
        { scope: 'organisation', organisationCode: '0363' },
        'Van Amsterdam',
        null,
        h.clock.now,
      );
      const active = async () => (await listApiTokens(h.store.db, '0599')).some((t) => t.id === row.id);
      await add0599User('rik@0599.example', 'Rik');
      const b = new Browser(h.app);
      await b.login('rik@0599.example');
      const list = (await b.page('/instellingen')).html;
      expect(list).toContain(`href="/instellingen?intrekken=${row.id}#intrekken-bevestigen"`);
      // No one-click revoke: the only form that revokes is on the question.
      expect(list).not.toContain(`action="/instellingen/tokens/${row.id}/intrekken"`);
      expect(list).not.toContain('Weet u zeker');
      expect(list).toContain(
        'curl -H &quot;Authorization: Bearer &lt;token&gt;&quot; https://localhost/api/v1/deliveries',
      );

      // A token of another organisation is not asked about.
      expect((await b.page(`/instellingen?intrekken=${other.row.id}`)).html).not.toContain('Weet u zeker');

      const ask = await b.page(`/instellingen?intrekken=${row.id}`);
      expect(ask.html).toContain(
        'Weet u zeker dat u token ‘Rapportage’ wilt intrekken? Wie het token gebruikt, kan daarna niets meer ophalen.',
      );
      expect(ask.html).toContain(`action="/instellingen/tokens/${row.id}/intrekken"`);
      expect(ask.html).toContain('Ja, intrekken');
      expect(ask.html).toMatch(/<a class="utrecht-link" href="\/instellingen#api-tokens">Annuleren<\/a>/);
      expect(await active()).toBe(true);

      const forged = await b.post(`/instellingen/tokens/${row.id}/intrekken`, {});
      expect(forged.status).toBe(403);
      expect(await active()).toBe(true);
      const res = await b.post(`/instellingen/tokens/${row.id}/intrekken`, { _csrf: ask.csrf! });
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe('/instellingen?melding=ingetrokken');
      expect(await active()).toBe(false);
    });

    it('writes failed logins to the audit log without the address typed when no such user exists', async () => {
      const b = new Browser(h.app);
      await b.login('geheim-wachtwoord-per-ongeluk', 'x');
      await b.login('ana@0363.example', 'wrong password');
      const rows = await h.store.db
        .selectFrom('audit_log')
        .select(['actor'])
        .where('action', '=', 'auth.login_failed')
        .execute();
      const actors = rows.map((r) => r.actor);
      expect(actors).toContain('onbekend');
      expect(actors).toContain('ana@0363.example');
      expect(actors.join()).not.toContain('geheim');
    });

    it('ends the other sessions of a user who changes the password', async () => {
      const laptop = new Browser(h.app);
      const phone = new Browser(h.app);
      await laptop.login('nina@0050.example');
      await phone.login('nina@0050.example');
      const { csrf } = await laptop.page('/instellingen');
      const next = 'een heel ander wachtwoord';
      expect(
        (await laptop.post('/instellingen/wachtwoord', { _csrf: csrf!, current: 'fout', next })).status,
      ).toBe(400);
      expect(
        (await laptop.post('/instellingen/wachtwoord', { _csrf: csrf!, current: PASSWORD, next })).status,
      ).toBe(303);
      expect((await laptop.page('/instellingen')).res.status).toBe(200);
      expect((await phone.fetch('/instellingen')).headers.get('Location')).toBe(
        '/inloggen?next=%2Finstellingen',
      );
      expect((await new Browser(h.app).login('nina@0050.example', next)).status).toBe(303);
    });

    it('asks for the current password before making an API token or enrolling a second factor, counting wrong ones', async () => {
      const tia = await add0599User('tia@0599.example', 'Tia');
      const b = new Browser(h.app);
      await b.login('tia@0599.example');
      let { csrf, html } = await b.page('/instellingen');
      expect(html.match(/Uw huidige wachtwoord/g)).toHaveLength(2);
      const madeByTia = async () =>
        (await listApiTokens(h.store.db, '0599')).filter((t) => t.created_by === tia.id);
      const refused = async (res: Response, text = 'Uw huidige wachtwoord is onjuist.') => {
        expect(res.status).toBe(400);
        expect(await res.text()).toContain(text);
      };
      // A session alone (taken over, left open) makes no token and enrols no authenticator of its own.
      await refused(await b.post('/instellingen/tokens', { _csrf: csrf!, name: 'stil' }));
      await refused(
        await b.post('/instellingen/tokens', { _csrf: csrf!, name: 'stil', password: 'geraden' }),
      );
      expect(await madeByTia()).toEqual([]);
      await refused(await b.post('/instellingen/tweede-factor/start', { _csrf: csrf! }));
      expect((await findUserByEmail(h.store.db, 'tia@0599.example'))?.totp_secret).toBeNull();
      const start = await b.post('/instellingen/tweede-factor/start', { _csrf: csrf!, password: PASSWORD });
      expect(start.status).toBe(303);
      ({ csrf, html } = await b.page('/instellingen'));
      const shown = /Sleutel: <code class="kd-code kd-key">([A-Z2-7 ]+)</.exec(html)?.[1];
      // 32 characters in eight groups of four: display only, the otpauth link below keeps them whole.
      expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
      const secret = shown?.replaceAll(' ', '');
      // The QR code of the same secret, as inline SVG with a name; the key stays for typing it in.
      expect(html).toMatch(
        /<svg class="kd-qr" role="img" aria-label="QR-code voor uw authenticator-app" xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*><path [^<]*\/><path [^<]*\/><\/svg>/,
      );
      expect(html).toContain(`secret=${secret}`);
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret!) });
      const code = () => totp.generate({ timestamp: h.clock.now.getTime() });
      // The pending secret is on the page: with it alone, the session does not switch the factor on.
      await refused(await b.post('/instellingen/tweede-factor/bevestigen', { _csrf: csrf!, code: code() }));
      expect((await findUserByEmail(h.store.db, 'tia@0599.example'))?.totp_enabled).toBe(0);
      // Wrong guesses count with the failed logins of the e-mail (the right one above cleared them): past the
      // limit even the right one is refused.
      for (let i = 1; i < THROTTLE.perEmail; i++) {
        const guess = { _csrf: csrf!, name: 'stil', password: `gok ${i}` };
        await refused(await b.post('/instellingen/tokens', guess));
      }
      await refused(
        await b.post('/instellingen/tokens', { _csrf: csrf!, name: 'stil', password: PASSWORD }),
        'Te veel mislukte pogingen',
      );
      expect((await new Browser(h.app).login('tia@0599.example')).status).toBe(429);
      try {
        h.clock.now = new Date(MONDAY.getTime() + 16 * 60 * 1000);
        const on = await b.post('/instellingen/tweede-factor/bevestigen', {
          _csrf: csrf!,
          code: code(),
          password: PASSWORD,
        });
        expect(on.headers.get('Location')).toBe('/instellingen?melding=tweede-factor-aan');
        expect(await makeToken(b, 'BI', csrf!)).toMatch(/^kd_/);
        expect((await madeByTia()).map((t) => t.name)).toEqual(['BI']);
      } finally {
        h.clock.now = MONDAY;
      }
    });

    it('lets the operator block a user, which ends their sessions at once, and unblock them; not themself', async () => {
      await add0599User('fien@0599.example', 'Fien');
      const fien = new Browser(h.app);
      expect((await fien.login('fien@0599.example')).status).toBe(303);
      expect((await fien.page('/ophalen')).res.status).toBe(200);
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const { csrf, html } = await op.page('/beheer/gebruikers');
      expect(html).toContain('aria-label="Blokkeren fien@0599.example"');
      expect(html).not.toContain('aria-label="Blokkeren beheer@example"');

      const blocked = await op.post('/beheer/gebruikers/blokkeren', {
        _csrf: csrf!,
        email: 'fien@0599.example',
      });
      const page = await followed(
        op,
        blocked,
        '/beheer/gebruikers',
        'Account van fien@0599.example is geblokkeerd.',
      );
      expect(page).toMatch(/fien@0599\.example<\/td>(?:(?!<\/tr>).)*Geblokkeerd sinds 2 mrt 2026/);
      expect(page).toContain('aria-label="Deblokkeren fien@0599.example"');
      // The open session is gone now, not at its next idle timeout; a new login is refused.
      expect((await fien.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      expect((await new Browser(h.app).login('fien@0599.example')).status).toBe(400);
      const [entry] = await listAudit(h.store.db, { actionPrefix: 'user.disable' });
      expect(entry).toMatchObject({ actor: 'beheer@example', organisation: '0599' });
      const auditPage = (await op.page('/beheer/audit')).html;
      expect(auditPage).toContain('Account geblokkeerd');
      // The refused login: told apart from a wrong password for the operator (the page said the same to fien).
      expect(auditPage).toContain('juist wachtwoord, maar het account is geblokkeerd');

      const self = await op.post('/beheer/gebruikers/blokkeren', { _csrf: csrf!, email: 'beheer@example' });
      expect(self.status).toBe(400);
      expect(await self.text()).toContain(
        'U kunt uw eigen account niet blokkeren. (foutcode users.cannot_disable_self)',
      );
      const unknown = await op.post('/beheer/gebruikers/blokkeren', {
        _csrf: csrf!,
        email: 'niemand@example',
      });
      expect(unknown.status).toBe(400);
      expect(await unknown.text()).toContain('(foutcode users.not_found)');

      const unblocked = await op.post('/beheer/gebruikers/deblokkeren', {
        _csrf: csrf!,
        email: 'fien@0599.example',
      });
      await followed(op, unblocked, '/beheer/gebruikers', 'Account van fien@0599.example is weer actief.');
      expect((await new Browser(h.app).login('fien@0599.example')).status).toBe(303);
    });

    it("lets the operator turn a user's lost second factor off, which ends their sessions; not their own", async () => {
      const user = await add0599User('gijs@0599.example', 'Gijs');
      await h.store.db
        .updateTable('app_user')
        .set({ totp_enabled: 1, totp_secret: 'v1:x:y' })
        .where('id', '=', user.id)
        .execute();
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const { csrf, html } = await op.page('/beheer/gebruikers');
      expect(html).toContain('aria-label="Tweede factor uitzetten gijs@0599.example"');
      // A question first, as for blocking: one stray click would lower the user's security.
      expect(html).toContain(`href="/beheer/gebruikers?tweede-factor=${user.id}#tweede-factor-bevestigen"`);
      expect(html).not.toContain('Ja, tweede factor uitzetten');
      const asked = (await op.page(`/beheer/gebruikers?tweede-factor=${user.id}`)).html;
      expect(asked).toContain('Weet u zeker dat u de tweede factor van gijs@0599.example wilt uitzetten?');
      expect(asked).toContain('Ja, tweede factor uitzetten');
      const off = await op.post('/beheer/gebruikers/tweede-factor', {
        _csrf: csrf!,
        email: 'gijs@0599.example',
      });
      const page = await followed(
        op,
        off,
        '/beheer/gebruikers',
        'De tweede factor van gijs@0599.example staat uit',
      );
      expect(page).not.toContain('aria-label="Tweede factor uitzetten gijs@0599.example"');
      const row = await h.store.db
        .selectFrom('app_user')
        .select(['totp_enabled', 'totp_secret'])
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ totp_enabled: 0, totp_secret: null });
      const gijs = new Browser(h.app);
      expect((await gijs.login('gijs@0599.example')).headers.get('Location')).not.toBe('/inloggen/code');
      expect(await listAudit(h.store.db, { actionPrefix: 'user.reset_second_factor' })).toMatchObject([
        { actor: 'beheer@example', organisation: '0599' },
      ]);
      const self = await op.post('/beheer/gebruikers/tweede-factor', {
        _csrf: csrf!,
        email: 'beheer@example',
      });
      expect(self.status).toBe(400);
      expect(await self.text()).toContain('Zet uw eigen tweede factor uit onder Instellingen');
    });

    it("lets the operator set a forgotten password anew, which ends the user's sessions; not their own", async () => {
      const hannaId = (await add0599User('hanna@0599.example', 'Hanna')).id;
      const hanna = new Browser(h.app);
      expect((await hanna.login('hanna@0599.example')).status).toBe(303);
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const list = await op.page('/beheer/gebruikers');
      expect(list.html).toContain(`href="/beheer/gebruikers?wachtwoord=${hannaId}#wachtwoord-instellen"`);
      expect(list.html).not.toContain('aria-label="Wachtwoord opnieuw instellen beheer@example"');
      // The user's link fills in the form.
      const { csrf, html } = await op.page(`/beheer/gebruikers?wachtwoord=${hannaId}`);
      expect(html).toMatch(/id="w-email" name="email" type="email" required="" value="hanna@0599\.example"/);
      /** The form sent by `by`, with the form's token `token` (none: without one). */
      const setPassword = (email: string, password: string, by = op, token = csrf, own = PASSWORD) =>
        by.post('/beheer/gebruikers/wachtwoord', {
          ...(token ? { _csrf: token } : {}),
          email,
          password,
          own_password: own,
        });

      const weak = await setPassword('hanna@0599.example', 'te kort');
      const unconfirmed = await setPassword(
        'hanna@0599.example',
        'paard batterij nietje 42',
        op,
        csrf,
        'fout',
      );
      expect(unconfirmed.status).toBe(400);
      expect(await unconfirmed.text()).toContain('Uw eigen wachtwoord is onjuist.');
      expect(weak.status).toBe(400);
      expect(await weak.text()).toContain('Het wachtwoord moet minstens 12 tekens hebben.');
      const unknown = await setPassword('niemand@example', 'een tijdelijk wachtwoord');
      expect(unknown.status).toBe(400);
      expect(await unknown.text()).toContain('(foutcode users.not_found)');
      expect((await hanna.page('/ophalen')).res.status).toBe(200);

      const fresh = 'paard batterij nietje 42';
      const set = await setPassword('Hanna@0599.example', fresh);
      const page = await followed(
        op,
        set,
        '/beheer/gebruikers',
        'Het wachtwoord van hanna@0599.example is opnieuw ingesteld',
      );
      expect(page).not.toContain(fresh);
      // The open session ends now; the old password no longer logs in, the new one does.
      expect((await hanna.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
      expect((await new Browser(h.app).login('hanna@0599.example')).status).toBe(400);
      const again = new Browser(h.app);
      expect((await again.login('hanna@0599.example', fresh)).status).toBe(303);
      // The operator knows it: Hanna is sent to choose her own first.
      expect((await again.fetch('/ophalen')).headers.get('Location')).toBe('/instellingen');
      expect(await listAudit(h.store.db, { actionPrefix: 'user.reset_password' })).toMatchObject([
        { actor: 'beheer@example', organisation: '0599' },
      ]);
      expect((await op.page('/beheer/audit')).html).toContain('Wachtwoord opnieuw ingesteld');

      const self = await setPassword(' Beheer@Example ', 'een ander wachtwoord');
      expect(self.status).toBe(400);
      expect(await self.text()).toContain('Wijzig uw eigen wachtwoord onder Instellingen');
      expect((await new Browser(h.app).login('beheer@example')).status).toBe(303);
      // Not for an organisation's user, nor without the form's token.
      const ana = new Browser(h.app);
      await ana.login('ANA@0363.example');
      const { csrf: anaCsrf } = await ana.page('/ophalen');
      const byUser = await setPassword('hanna@0599.example', 'door een gebruiker gezet', ana, anaCsrf);
      expect(byUser.headers.get('Location')).toBe('/ophalen');
      const noToken = await setPassword('hanna@0599.example', 'zonder formuliertoken', op, '');
      expect(noToken.status).toBe(403);
      expect((await new Browser(h.app).login('hanna@0599.example', fresh)).status).toBe(303);
    });

    it('sends an operator with a temporary password to Instellingen as well, whatever the request', async () => {
      await createUser(
        h.store.db,
        {
          email: 'nieuw@beheer.example',
          displayName: 'Nieuwe beheerder',
          password: PASSWORD,
          role: 'operator',
          organisationCode: null,
          temporaryPassword: true,
        },
        h.clock.now,
      );
      const op = new Browser(h.app);
      expect((await op.login('nieuw@beheer.example')).status).toBe(303);
      for (const [method, path] of [
        ['GET', '/beheer'],
        ['HEAD', '/beheer/gebruikers'],
        ['GET', '/beheer/gebruikers/'],
        ['GET', '/instellingen/'],
      ] as const)
        expect((await op.fetch(path, { method })).headers.get('Location'), `${method} ${path}`).toBe(
          `/instellingen?next=${encodeURIComponent(path)}`,
        );
      expect((await op.page('/instellingen')).res.status).toBe(200);
    });

    it('shows a Dutch not-found page and a JSON 404 under /api', async () => {
      const page = await h.app.request('/bestaat-niet');
      expect(page.status).toBe(404);
      expect(await page.text()).toContain('Pagina niet gevonden');
      const api = await h.app.request('/api/v1/bestaat-niet');
      expect(api.status).toBe(404);
      expect(await api.json()).toMatchObject({ error: { code: 'api.no_such_endpoint' } });
    });

    it('says "1 werkdag" and "1 dag" on the dashboard, not "1 werkdagen" or "1 dagen"', async () => {
      const ana = new Browser(h.app);
      await ana.login('ana@0363.example');
      await ana.page('/dashboard');
      const row = await h.store.db
        .selectFrom('indicator_snapshot')
        .select('data')
        .where('organisation', '=', '0363')
        .executeTakeFirstOrThrow();
      const data = JSON.parse(row.data);
      // As if messages had come: without them the page shows no figures at all.
      data.latestDagtekening = '2026-02-20';
      const alle = data.scopes.alle;
      alle.leadTime.median = 1;
      alle.startDelay.median = 1;
      if (alle.changeRequests) alle.changeRequests.leadTime.median = 2;
      await h.store.db
        .updateTable('indicator_snapshot')
        .set({ data: JSON.stringify(data) })
        .where('organisation', '=', '0363')
        .execute();
      const html = (await ana.page('/dashboard')).html;
      expect(html).toContain('>1 werkdag<');
      expect(html).toContain('>1 dag<');
      expect(html).not.toMatch(/>1 (werk)?dagen</);
      if (alle.changeRequests) expect(html).toContain('>2 werkdagen<');
    });

    it('says once per section the period its lead-time tiles cover, in the dashboard date format', async () => {
      const ana = new Browser(h.app);
      await ana.login('ana@0363.example');
      await ana.page('/dashboard');
      const stored = async (edit: (alle: IndicatorValues) => void) => {
        const row = await h.store.db
          .selectFrom('indicator_snapshot')
          .select('data')
          .where('organisation', '=', '0363')
          .executeTakeFirstOrThrow();
        const data = JSON.parse(row.data);
        data.latestDagtekening = '2026-02-20';
        edit(data.scopes.alle);
        await h.store.db
          .updateTable('indicator_snapshot')
          .set({ data: JSON.stringify(data) })
          .where('organisation', '=', '0363')
          .execute();
      };
      const labels = (html: string) =>
        [...html.matchAll(/<dt class="kd-tile__label">([^<]*)<\/dt>/g)].map((m) => m[1]);
      await stored((alle) => {
        Object.assign(alle.leadTime, { period: { from: '2026-01-05', to: '2026-02-20' } });
        Object.assign(alle.changeRequests!.leadTime, { period: { from: '2026-02-10', to: '2026-02-10' } });
        Object.assign(alle.startDelay, { period: { from: '2025-12-29', to: '2026-02-23' } });
      });
      const html = (await ana.page('/dashboard')).html;
      const aanvragen = 'aanvragen van maandag 5 januari 2026 t/m vrijdag 20 februari 2026';
      const starts = 'starts van maandag 29 december 2025 t/m maandag 23 februari 2026';
      const section = (id: string) =>
        new RegExp(`<section aria-labelledby="${id}">([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
      const periods = (id: string) =>
        [...section(id).matchAll(/<p class="utrecht-paragraph kd-period">([^<]*)<\/p>/g)].map((m) => m[1]);
      // Once, above the tiles, not in each tile's label.
      expect(periods('doorlooptijd')).toEqual([`Periode: ${aanvragen}.`]);
      expect(periods('wijziging')).toEqual(['Periode: verzoeken op dinsdag 10 februari 2026.']);
      expect(periods('start')).toEqual([`Periode: ${starts}.`]);
      expect(labels(section('doorlooptijd'))).toEqual([
        'Mediaan',
        'Binnen 5 werkdagen',
        'Toegewezen aanvragen',
      ]);
      expect(labels(section('wijziging'))).toEqual([
        'Mediaan doorlooptijd',
        'Binnen 5 werkdagen',
        'Toegewezen verzoeken',
      ]);
      expect(labels(section('start'))).toEqual(['Mediaan', 'Gestarte toewijzingen']);
      // Nothing counted: no period to show, the label alone.
      await stored((alle) => {
        Object.assign(alle.leadTime, { period: null });
        Object.assign(alle.startDelay, { period: null });
      });
      const none = (await ana.page('/dashboard')).html;
      expect(labels(none)).toEqual(
        expect.arrayContaining(['Mediaan', 'Toegewezen aanvragen', 'Gestarte toewijzingen']),
      );
      expect(none).not.toContain('Periode: aanvragen');
      expect(none).not.toContain('Periode: starts');
    });

    it('shows each organisation its own dashboard snapshot, in the portal and through the API', async () => {
      const ana = new Browser(h.app);
      await ana.login('ana@0363.example');
      const own = await ana.page('/dashboard');
      expect(own.res.status).toBe(200);
      expect(own.html).toContain('aria-current="page">Dashboard<');
      const titles = [
        'Doorlooptijd aanvraag → toewijzing',
        'Uitkomst aanvragen',
        'Toewijzing → start zorg',
        'Cliënten in zorg per maand',
        'Declaraties',
        'Retours met fouten',
      ];
      // Without messages only a notice (dashboard-page.test.ts); here as if they had come for each member:
      // the stored snapshot with a latest Dagtekening and one heenbericht per scope.
      const withTraffic = async (org: string) => {
        const row = await h.store.db
          .selectFrom('indicator_snapshot')
          .select('data')
          .where('organisation', '=', org)
          .executeTakeFirstOrThrow();
        const data = JSON.parse(row.data);
        data.latestDagtekening = '2026-02-20';
        for (const v of Object.values(data.scopes) as IndicatorValues[])
          Object.assign(v.retourErrors, { types: [{ code: 'JW301', heen: 1, rejected: 0 }] });
        await h.store.db
          .updateTable('indicator_snapshot')
          .set({ data: JSON.stringify(data) })
          .where('organisation', '=', org)
          .execute();
      };
      await withTraffic('0363');
      const shown = (await ana.page('/dashboard')).html;
      for (const title of titles) expect(shown).toContain(title);
      // A gemeente has no member choice, and asking for another gemeente shows its own numbers.
      expect(shown).not.toContain('name="gemeente"');
      expect((await ana.page('/dashboard?gemeente=0599')).html).toContain('gemeente Amsterdam (0363)');

      const cor = new Browser(h.app);
      await cor.login('cor@regio.example');
      await cor.page('/dashboard');
      await withTraffic('REGIO01');
      const head = await cor.page('/dashboard');
      expect(head.html).toContain('<option value="0599">Rotterdam (0599)</option>');
      expect(head.html).toContain('alle gemeenten samen');
      const rotterdam = (await cor.page('/dashboard?gemeente=0599')).html;
      expect(rotterdam).toContain('Uitkomst aanvragen, gemeente Rotterdam (0599)');
      // Said above the figures too, not only in the table captions.
      expect(rotterdam).toContain('<strong>Getoond: gemeente Rotterdam (0599).</strong>');
      expect((await cor.page('/dashboard?gemeente=0518')).html).toContain('alle gemeenten samen');
      // Not a property every object has.
      for (const odd of ['__proto__', 'constructor', 'toString']) {
        const page = await cor.page(`/dashboard?gemeente=${odd}`);
        expect(page.res.status, odd).toBe(200);
        expect(page.html).toContain('alle gemeenten samen');
      }

      const operator = new Browser(h.app);
      await operator.login('beheer@example');
      expect((await operator.fetch('/dashboard')).status).not.toBe(200);

      const { csrf } = await ana.page('/instellingen');
      const token = await makeToken(ana, 'BI dashboard', csrf!);
      const res = await h.app.request('/api/v1/indicators', {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { organisation: string; members: string[]; scopes: object };
      expect(body).toMatchObject({ organisation: '0363', members: ['0363'] });
      expect(Object.keys(body.scopes)).toEqual(['alle']);
      expect((await h.app.request('/api/v1/indicators')).status).toBe(401);
    });

    it('serves an OpenAPI 3 document and refuses API calls without a valid token', async () => {
      const doc = (await (await h.app.request('/api/v1/openapi.json')).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/deliveries',
          '/deliveries/{id}/file',
          '/deliveries/download-new',
          '/history-request',
          '/indicators',
          '/exchanges',
          '/quarantine',
        ]),
      );
      // Every operation the API serves is in the document, with its method.
      const served = h.app.routes
        .filter(
          (r) => r.path.startsWith('/api/v1/') && r.method !== 'ALL' && !r.path.endsWith('openapi.json'),
        )
        .map((r) => `${r.method} ${r.path.replace('/api/v1', '').replace(/:(\w+)/g, '{$1}')}`);
      expect(served).toContain('DELETE /history-request');
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops as object)
          .filter((m) => m !== 'parameters')
          .map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(documented).toEqual(expect.arrayContaining([...new Set(served)]));
      expect((await h.app.request('/api/v1/deliveries')).status).toBe(401);
      expect(
        (await h.app.request('/api/v1/deliveries', { headers: { Authorization: 'Bearer kd_nope' } })).status,
      ).toBe(401);
    });
  });
}

describe('the login form with --insecure-cookies (plain http)', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite', { secureCookies: false });
    await h.seed();
  });
  afterAll(async () => h.drop());

  it('names the CSRF cookie without __Host-, which needs Secure, and logs in with it', async () => {
    const b = new Browser(h.app);
    const { res } = await b.page('/inloggen');
    const cookie = res.headers.getSetCookie().find((c) => c.includes('kd_login_csrf='));
    expect(cookie).toMatch(/^kd_login_csrf=/);
    expect(cookie).not.toMatch(/Secure/);
    expect((await b.login('ana@0363.example')).headers.get('Location')).toBe('/');
  });
});
