import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as OTPAuth from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortal } from '../../src/http/launch.js';
import { firstDataMonth, formatEuro, formatNumber, formatShare } from '../../src/http/portal/dashboard.js';
import type { RunningServer } from '../../src/http/server.js';
import { deriveKeys } from '../../src/pseudonymise/keys.js';
import { openStore, type Store } from '../../src/store/open.js';
import {
  beginTotp,
  confirmTotp,
  createApiToken,
  createUser,
  listApiTokens,
} from '../../src/usecases/accounts.js';
import { runDue } from '../../src/usecases/deliver.js';
import { DEMO_PASSWORD, type DemoLogin, prepareDemo } from '../../src/usecases/demo.js';
import { ALL_MEMBERS, indicatorSnapshot } from '../../src/usecases/indicators.js';
import { launchChromium } from './browser.js';
import { zipEntries } from './zip.js';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SECRET = 'e2e-secret-e2e-secret-e2e-secret-e2e-secret';
// Monday morning: the Sunday run of 1 March is visible.
const MONDAY = new Date('2026-03-02T09:00:00Z');

describe('the portal in headless Chromium', () => {
  let dataDir: string;
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let logins: readonly DemoLogin[];
  const clock = { now: MONDAY };
  const keys = deriveKeys(SECRET);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ketendata-e2e-'));
    store = await openStore({ databaseUrl: undefined, dataDir });
    ({ logins } = await prepareDemo({ store, keys, dataDir, now: MONDAY, weeks: 6, clients: 120 }));
    server = await startPortal({
      store,
      dataDir,
      host: '127.0.0.1',
      port: 0,
      secureCookies: false,
      clock: () => clock.now,
      keys,
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const gemeente = () => logins.find((l) => /^\d{4}$/.test(l.organisation ?? ''))!;
  const codeOf = (l: DemoLogin) => l.organisation!;

  async function login(email: string): Promise<Page> {
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/inloggen`);
    await page.getByLabel('E-mailadres').fill(email);
    await page.getByLabel('Wachtwoord').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(/\/(ophalen|beheer)$/);
    return page;
  }

  const downloadLinks = (page: Page) => page.getByRole('link', { name: /^Download ketendata-/ });

  it('finds the demo data on a second start and leaves it as it is', async () => {
    const again = await prepareDemo({ store, keys, dataDir, now: MONDAY, weeks: 6, clients: 120 });
    expect(again).toEqual({ created: false, logins });
  });

  it("logs in and lists only the own organisation's ready deliveries", async () => {
    const user = gemeente();
    const page = await login(user.email);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Ophalen');
    const names = await downloadLinks(page).allTextContents();
    const own = await store.db
      .selectFrom('delivery')
      .select('file_name')
      .where('organisation', '=', codeOf(user))
      .where('available_at', '<=', MONDAY.toISOString())
      .execute();
    expect(names.length).toBeGreaterThan(0);
    expect(names.map((n) => n.replace('Download ', '')).sort()).toEqual(own.map((d) => d.file_name).sort());
    for (const n of names) expect(n).toContain(`ketendata-${codeOf(user)}-`);
    await page.context().close();
  });

  it('downloads one file, then the not yet downloaded ones as one ZIP, and deletes the downloaded file', async () => {
    const user = gemeente();
    const page = await login(user.email);
    const first = downloadLinks(page).first();
    const name = (await first.textContent())!.replace('Download ', '');
    const [one] = await Promise.all([page.waitForEvent('download'), first.click()]);
    expect(one.suggestedFilename()).toBe(name);
    const entries = await zipEntries((await one.path())!);
    expect(entries).toEqual(
      expect.arrayContaining(['manifest.json', 'JW301.csv', 'WMO301.csv', 'Koppeltabel.csv']),
    );

    await page.reload();
    const row = page.getByRole('row').filter({ hasText: name });
    await expect(row.textContent()).resolves.toContain(user.email);

    const remaining = (await downloadLinks(page).count()) - 1;
    const bundleButton = page.getByRole('button', {
      name: /Alle nieuwe leveringen downloaden/,
    });
    expect(await bundleButton.textContent()).toContain(`(${remaining})`);
    const [all] = await Promise.all([page.waitForEvent('download'), bundleButton.click()]);
    const bundled = await zipEntries((await all.path())!);
    expect(bundled).toHaveLength(remaining);
    expect(bundled).not.toContain(name);
    for (const n of bundled) expect(n).toMatch(new RegExp(`^ketendata-${codeOf(user)}-.*\\.zip$`));

    await page.goto(`${server.url}/ophalen`);
    await page.getByRole('checkbox', { name: `Selecteer ${name}` }).check();
    await page.getByRole('button', { name: 'Geselecteerde leveringen verwijderen' }).click();
    // First the question, naming the file; nothing is deleted yet.
    await page.waitForURL(/stap=verwijderen/);
    const question = page.getByRole('region', { name: 'Leveringen verwijderen' });
    expect(await question.textContent()).toContain(name);
    expect(await page.getByRole('link', { name: `Download ${name}` }).count()).toBe(1);
    await question.getByRole('button', { name: 'Ja, 1 levering verwijderen' }).click();
    await page.waitForURL(/melding=verwijderd/);
    expect(await page.getByRole('status').textContent()).toContain(`1 levering verwijderd: ${name}.`);
    expect(await page.getByRole('link', { name: `Download ${name}` }).count()).toBe(0);
    const deleted = await store.db
      .selectFrom('delivery')
      .select('deleted_by')
      .where('file_name', '=', name)
      .executeTakeFirstOrThrow();
    expect(deleted.deleted_by).toBe(user.email);
    await page.context().close();
  });

  it('shows a gemeente its dashboard with the numbers of the computed snapshot', async () => {
    const user = gemeente();
    const snap = await indicatorSnapshot(store, codeOf(user), { now: clock.now });
    const v = snap.scopes[ALL_MEMBERS]!;
    expect(v.requestOutcome.requests).toBeGreaterThan(0);
    const page = await login(user.email);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL(/\/dashboard$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Dashboard');
    expect(await page.locator('main').textContent()).toContain('Stand per');
    const tile = (label: string, section?: string) =>
      page
        .locator(section ? `section[aria-labelledby="${section}"] .kd-tile` : '.kd-tile')
        .filter({ has: page.locator('dt', { hasText: label }) })
        .locator('dd');
    expect(await tile('Aangevraagde producten').textContent()).toBe(formatNumber(v.requestOutcome.requests));
    expect(await tile('Toegewezen aanvragen').textContent()).toBe(formatNumber(v.leadTime.count));
    expect(await tile('Binnen 5 werkdagen', 'doorlooptijd').textContent()).toBe(
      formatShare(v.leadTime.withinNorm, v.leadTime.count),
    );
    const change = v.changeRequests!;
    expect(await tile('Toegewezen verzoeken', 'wijziging').textContent()).toBe(
      formatNumber(change.leadTime.count),
    );
    expect(await tile('Binnen 5 werkdagen', 'wijziging').textContent()).toBe(
      formatShare(change.leadTime.withinNorm, change.leadTime.count),
    );
    expect(await tile('Gestarte toewijzingen').textContent()).toBe(formatNumber(v.startDelay.count));
    const sum = (f: (m: (typeof v.declarations.months)[number]) => number) =>
      v.declarations.months.reduce((s, m) => s + f(m), 0);
    // The approved amount beside the submitted one: what the 325s rejected is not in it.
    expect(await tile('Ingediend').textContent()).toBe(formatEuro(sum((m) => m.submittedCents)));
    expect(await tile('Toegekend').textContent()).toBe(formatEuro(sum((m) => m.approvedCents)));
    // The exact definition folded away under a summary that opens without script.
    const how = page.locator('section[aria-labelledby="doorlooptijd"] details');
    expect(await how.locator('p').isVisible()).toBe(false);
    await how.getByText('Hoe wordt dit berekend?').click();
    expect(await how.locator('p').isVisible()).toBe(true);
    expect(await how.locator('p').textContent()).toContain('Norm: binnen 5 werkdagen.');

    const cells = async (caption: RegExp) => {
      const rows = page.getByRole('table', { name: caption }).getByRole('row');
      const out: string[][] = [];
      for (let i = 1; i < (await rows.count()); i++)
        out.push((await rows.nth(i).getByRole('cell').allTextContents()).map((t) => t.trim()));
      return out;
    };
    // Months before the first message: "—" (geen gegevens), not a zero that reads as "no care".
    const first = firstDataMonth(v)!;
    const early = (month: string) => month < first;
    expect(v.clientsInCare.months.some((m) => early(m.month))).toBe(true);
    const care = await cells(/^Cliënten in zorg per maand/);
    expect(care.map((r) => r[3])).toEqual(
      v.clientsInCare.months.map((m) => (early(m.month) ? '—' : formatNumber(m.total))),
    );
    expect(v.clientsInCare.months.some((m) => m.total > 0)).toBe(true);
    const declared = await cells(/^Declaraties per maand/);
    expect(declared.map((r) => [r[1], r[2]])).toEqual(
      v.declarations.months.map((m) =>
        early(m.month) ? ['—', '—'] : [formatEuro(m.submittedCents), formatEuro(m.approvedCents)],
      ),
    );
    const outcome = await cells(/^Uitkomst aanvragen/);
    expect(outcome.map((r) => r[1])).toEqual(
      [
        v.requestOutcome.honoured,
        v.requestOutcome.rejected,
        v.requestOutcome.underInvestigation,
        v.requestOutcome.unanswered,
      ].map(formatNumber),
    );
    const retours = await cells(/^Retours met fouten per berichttype/);
    expect(retours.map((r) => [r[0], r[1], r[2]])).toEqual(
      v.retourErrors.types.map((t) => [t.code, formatNumber(t.heen), formatNumber(t.rejected)]),
    );
    await page.context().close();
  });

  it('requests history and shows it made after the next replayed weekly run', async () => {
    const user = logins.find((l) => l.organisation?.startsWith('R'))!;
    let page = await login(user.email);
    await page.getByRole('link', { name: 'Historie opvragen' }).click();
    await page.getByLabel('Aanmaken totaalbestand').check();
    await page.getByRole('button', { name: 'Opslaan' }).click();
    await page.waitForURL(/melding=aangevraagd/);
    expect(await page.locator('#totaalbestand-status').textContent()).toMatch(
      /Aangevraagd op .* Klaar op maandag 9 maart 2026/,
    );
    expect(await page.getByLabel('Aanmaken totaalbestand').isChecked()).toBe(true);
    await page.getByRole('link', { name: 'Ophalen' }).click();
    expect(await page.getByText('Totaalbestand aangevraagd, klaar op maandag 9 maart 2026.').count()).toBe(1);
    await page.context().close();

    const report = await runDue(
      { store, dataDir, organisationKey: (c) => keys.organisation(c) },
      new Date('2026-03-08T05:01:00Z'),
    );
    expect(report.made.some((m) => m.kind === 'history' && m.organisation === codeOf(user))).toBe(true);
    clock.now = new Date('2026-03-09T09:00:00Z');
    try {
      page = await login(user.email);
      expect(await page.getByRole('row').filter({ hasText: 'Historie' }).count()).toBe(1);
      await page.getByRole('link', { name: 'Historie opvragen' }).click();
      expect(await page.getByLabel('Aanmaken totaalbestand').isChecked()).toBe(false);
      expect(await page.locator('#totaalbestand-status').textContent()).toContain(
        'Laatste totaalbestand gemaakt op',
      );
      await page.context().close();
    } finally {
      clock.now = MONDAY;
    }
  });

  it("shows a row's Download link in view at 375 px, without the least needed columns, under a short header", async () => {
    const page = await login(gemeente().email);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    const link = (await downloadLinks(page).first().boundingBox())!;
    expect(link.x + link.width).toBeLessThanOrEqual(375);
    for (const name of ['Gedownload door', 'Verwijderd op'])
      expect(await page.getByRole('columnheader', { name }).isVisible(), name).toBe(false);
    expect(await page.getByRole('columnheader', { name: 'Bestand' }).isVisible()).toBe(true);
    // Header and tabs together: under a third of the first screen (it was 40 %).
    const nav = (await page.getByRole('navigation', { name: 'Hoofdmenu' }).boundingBox())!;
    expect(nav.y + nav.height).toBeLessThan(800 / 3);
    await page.context().close();
  });

  it('passes an axe-core WCAG 2.1 AA scan on every page without serious violations, and reflows at 320 px', async () => {
    const anon = await (await browser.newContext()).newPage();
    // A user with the second factor on lands on the code page after the password.
    const totpUser = await createUser(
      store.db,
      {
        email: 'totp@demo.ketendata.nl',
        displayName: 'Tweede Factor',
        password: DEMO_PASSWORD,
        role: 'user',
        organisationCode: codeOf(gemeente()),
      },
      MONDAY,
    );
    const { secret } = await beginTotp(store.db, keys, totpUser.id);
    await confirmTotp(
      store.db,
      keys,
      totpUser.id,
      new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({
        timestamp: MONDAY.getTime(),
      }),
      MONDAY,
    );
    // A user halfway through setting up the second factor (the QR code shows) with a token to revoke.
    const enrolUser = await createUser(
      store.db,
      {
        email: 'qr@demo.ketendata.nl',
        displayName: 'QR Code',
        password: DEMO_PASSWORD,
        role: 'user',
        organisationCode: codeOf(gemeente()),
      },
      MONDAY,
    );
    await beginTotp(store.db, keys, enrolUser.id);
    const { row: revocable } = await createApiToken(
      store.db,
      { scope: 'organisation', organisationCode: codeOf(gemeente()) },
      'BI-omgeving',
      enrolUser.id,
      MONDAY,
    );
    const enrolling = await login('qr@demo.ketendata.nl');
    const pending = await (await browser.newContext()).newPage();
    await pending.goto(`${server.url}/inloggen`);
    await pending.getByLabel('E-mailadres').fill('totp@demo.ketendata.nl');
    await pending.getByLabel('Wachtwoord').fill(DEMO_PASSWORD);
    await pending.getByRole('button', { name: 'Inloggen' }).click();
    await pending.waitForURL(/\/inloggen\/code$/);
    const user = await login(gemeente().email);
    const head = await login(logins.find((l) => l.organisation?.startsWith('R'))!.email);
    const operator = await login('beheer@demo.ketendata.nl');
    const pages: [Page, string][] = [
      [anon, '/inloggen'],
      [pending, '/inloggen/code'],
      [user, '/ophalen'],
      [user, '/dashboard'],
      [head, '/dashboard'],
      [user, '/historie'],
      [user, '/instellingen'],
      [enrolling, '/instellingen'],
      [enrolling, `/instellingen?intrekken=${revocable.id}`],
      [user, '/bestaat-niet'],
      [operator, '/beheer'],
      [operator, '/beheer/gebruikers'],
      [operator, '/beheer/taken'],
      [operator, '/beheer/inlezen'],
      [operator, '/beheer/quarantaine'],
      [operator, '/beheer/audit'],
      [operator, '/instellingen'],
    ];
    const problems: string[] = [];
    // At desktop width, and at 320 px (WCAG 1.4.10 reflow: 400 % zoom): nothing wider than the screen but
    // the tables, which scroll on their own and can be scrolled with the keyboard.
    const scan = async (page: Page, path: string, width: number) => {
      await page.setViewportSize({ width, height: 900 });
      const overflow = await page.evaluate(() => {
        const root = (
          globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; clientWidth: number } };
          }
        ).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      if (overflow > 0) problems.push(`${path} at ${width} px: the page is ${overflow} px too wide`);
      await page.evaluate(AXE);
      const result = (await page.evaluate(() =>
        (globalThis as unknown as { axe: { run(o: unknown): Promise<unknown> } }).axe.run({
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        }),
      )) as { violations: { id: string; impact: string; nodes: unknown[] }[] };
      for (const v of result.violations) {
        if (v.impact === 'serious' || v.impact === 'critical')
          problems.push(`${path} at ${width} px: ${v.id} (${v.impact}, ${v.nodes.length}×)`);
      }
    };
    for (const width of [1280, 320]) {
      for (const [page, path] of pages) {
        await page.goto(`${server.url}${path}`);
        await scan(page, path, width);
      }
    }
    // A refused form as it comes back (WCAG 3.3.1): sent once, scanned at both widths as it stands.
    const refused: [Page, string, string][] = [];
    const wrongLogin = await (await browser.newContext()).newPage();
    await wrongLogin.goto(`${server.url}/inloggen`);
    await wrongLogin.getByLabel('E-mailadres').fill('qr@demo.ketendata.nl');
    await wrongLogin.getByLabel('Wachtwoord').fill('niet het wachtwoord');
    await wrongLogin.getByRole('button', { name: 'Inloggen' }).click();
    refused.push([wrongLogin, '/inloggen (wachtwoord onjuist)', '#wachtwoord']);
    await user.goto(`${server.url}/instellingen`);
    await user.locator('#huidig').fill('niet mijn wachtwoord');
    await user.locator('#nieuw').fill('een nieuw en lang wachtwoord');
    await user.getByRole('button', { name: 'Wachtwoord wijzigen' }).click();
    refused.push([user, '/instellingen (huidig wachtwoord onjuist)', '#huidig']);
    await operator.goto(`${server.url}/beheer`);
    await operator.locator('#org-code').fill(codeOf(gemeente()));
    await operator.locator('#org-naam').fill('Dubbel geregistreerd');
    await operator.getByRole('button', { name: 'Registreren' }).click();
    refused.push([operator, '/beheer (Organisatie registreren geweigerd)', '#org-code']);
    for (const [page, path, field] of refused) {
      await expect.poll(() => page.title(), { message: path }).toMatch(/^Fout: /);
      expect(await page.locator(field).getAttribute('aria-invalid'), path).toBe('true');
      for (const width of [1280, 320]) await scan(page, path, width);
    }
    expect(problems).toEqual([]);
    // The scan above covered the QR code and the question before revoking.
    await expect
      .poll(() => enrolling.getByRole('img', { name: 'QR-code voor uw authenticator-app' }).count())
      .toBe(1);
    expect(await enrolling.getByText('Weet u zeker dat u token ‘BI-omgeving’ wilt intrekken?').count()).toBe(
      1,
    );
  });

  it('makes an API token once: a reload after making it shows it no more and makes no second one', async () => {
    const user = gemeente();
    const page = await login(user.email);
    await page.goto(`${server.url}/instellingen`);
    // The example names the address the browser is on: plain http here.
    expect(await page.getByTestId('api-voorbeeld').textContent()).toBe(
      `curl -H "Authorization: Bearer <token>" ${server.url}/api/v1/deliveries`,
    );
    const count = async () => (await listApiTokens(store.db, codeOf(user))).length;
    const before = await count();
    await page.getByLabel('Naam van het nieuwe token').fill('Herladen');
    await page.locator('#token-wachtwoord').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Token aanmaken' }).click();
    await page.waitForURL(/\/instellingen\?aangemaakt=\d+#api-tokens$/);
    const token = await page.getByTestId('nieuw-token').textContent();
    expect(token).toMatch(/^kd_/);
    expect(page.url()).not.toContain(token);
    expect(await count()).toBe(before + 1);

    await page.reload();
    expect(await page.getByTestId('nieuw-token').count()).toBe(0);
    expect(await page.getByText('Het token ‘Herladen’ is aangemaakt.').count()).toBe(1);
    expect(await count()).toBe(before + 1);
    // Back to the page before the form, and forward again: no form is sent again either.
    await page.goBack();
    await page.goForward();
    expect(await page.getByTestId('nieuw-token').count()).toBe(0);
    expect(await count()).toBe(before + 1);
    await page.context().close();
  });
});
