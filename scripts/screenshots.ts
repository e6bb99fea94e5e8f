/**
 * Screenshots of every portal page for the README (docs/screenshots/*.png), taken with the same headless
 * Chromium as the browser tests, on a fresh demo in a temporary folder at a fixed moment.
 * Run: npx tsx scripts/screenshots.ts
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startPortal } from '../src/http/launch.js';
import { deriveKeys } from '../src/pseudonymise/keys.js';
import { openStore } from '../src/store/open.js';
import { DEMO_PASSWORD, prepareDemo } from '../src/usecases/demo.js';
import { launchChromium } from '../test/e2e/browser.js';

const NOW = new Date('2026-03-02T09:00:00Z');
const OUT = join(import.meta.dirname, '..', 'docs', 'screenshots');

const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-shots-'));
const store = await openStore({ databaseUrl: undefined, dataDir });
const keys = deriveKeys('screenshots-secret-screenshots-secret');
const demo = await prepareDemo({ store, keys, dataDir, now: NOW, weeks: 10 });
const server = await startPortal({
  store,
  dataDir,
  host: '127.0.0.1',
  port: 0,
  secureCookies: false,
  environmentLabel: 'demo',
  clock: () => NOW,
  keys,
});
const browser = await launchChromium();
mkdirSync(OUT, { recursive: true });

async function shot(page: Page, path: string, name: string) {
  await page.goto(`${server.url}${path}`);
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  console.log(`docs/screenshots/${name}.png`);
}

async function login(email: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/inloggen`);
  await page.getByLabel('E-mailadres').fill(email);
  await page.getByLabel('Wachtwoord').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL(/\/(ophalen|beheer)$/);
  return page;
}

try {
  const anon = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await shot(anon, '/inloggen', '01-inloggen');
  const user = demo.logins.find((l) => l.organisation !== null)!;
  const page = await login(user.email);
  await shot(page, '/ophalen', '02-ophalen');
  await shot(page, '/historie', '03-historie-opvragen');
  await shot(page, '/instellingen', '04-instellingen');
  const op = await login('beheer@demo.ketendata.nl');
  await shot(op, '/beheer', '05-beheer-organisaties');
  await shot(op, '/beheer/gebruikers', '06-beheer-gebruikers');
  await shot(op, '/beheer/taken', '07-beheer-taken');
  await shot(op, '/beheer/inlezen', '08-beheer-inlezen');
  await shot(op, '/beheer/quarantaine', '09-beheer-quarantaine');
  await shot(op, '/beheer/audit', '10-beheer-auditlog');
  await shot(page, '/dashboard', '11-dashboard');
} finally {
  await browser.close();
  await server.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
