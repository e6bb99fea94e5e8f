import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, PASSWORD, portalHarness, SECRET } from '../../test/e2e/harness.js';
import { DIALECTS, freshStore, withFreshStore } from '../../test/support/databases.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { runDue } from '../usecases/deliver.js';
import { createApp } from './app.js';
import { flashKeyOf, OneTimeFlash } from './flash.js';

const at = (ms: number) => new Date(Date.UTC(2026, 1, 23, 9) + ms);
const SESSION = 'c2Vzc2lvbi1pZC12YW4tYW5h';
const TOKEN = /data-testid="nieuw-token">([^<]+)</;

describe.each(DIALECTS)('a one-time flash on %s', (dialect) => {
  const flashKey = flashKeyOf(deriveKeys(SECRET));
  const rows = (store: Store) => store.db.selectFrom('one_time_flash').selectAll().execute();

  it('is put by one instance and taken by another, once, by the same key only', () =>
    withFreshStore(dialect, async (store) => {
      // Two processes on one store: each has its own OneTimeFlash.
      const a = new OneTimeFlash<string>(60_000, 'api-token');
      const b = new OneTimeFlash<string>(60_000, 'api-token');
      await a.put({ store, flashKey }, `${SESSION}:1`, 'kd_geheim', at(0));
      expect(await b.take({ store, flashKey }, 'andere-sessie:1', at(1))).toBeUndefined();
      expect(
        await new OneTimeFlash<string>(60_000, 'notice').take({ store, flashKey }, `${SESSION}:1`, at(1)),
      ).toBe(undefined);
      expect(await b.take({ store, flashKey }, `${SESSION}:1`, at(1))).toBe('kd_geheim');
      expect(await a.take({ store, flashKey }, `${SESSION}:1`, at(2))).toBeUndefined();
      expect(await rows(store)).toEqual([]);
    }));

  it('is shown by one of two instances taking it at once', () =>
    withFreshStore(dialect, async (store) => {
      const flashes = [0, 1, 2, 3].map(() => new OneTimeFlash<{ text: string }>(60_000, 'notice'));
      await flashes[0]!.put({ store, flashKey }, 'k', { text: 'Gebruiker toegevoegd' }, at(0));
      const taken = await Promise.all(flashes.map((f) => f.take({ store, flashKey }, 'k', at(1))));
      expect(taken.filter((t) => t !== undefined)).toEqual([{ text: 'Gebruiker toegevoegd' }]);
    }));

  it('expires after ttl, and a put deletes the rows expired', () =>
    withFreshStore(dialect, async (store) => {
      const f = new OneTimeFlash<string>(60_000, 'api-token');
      await f.put({ store, flashKey }, 'a', '1', at(0));
      expect(await f.take({ store, flashKey }, 'a', at(60_000))).toBeUndefined();
      await f.put({ store, flashKey }, 'b', '2', at(0));
      await f.put({ store, flashKey }, 'c', '3', at(1));
      await f.put({ store, flashKey }, 'd', '4', at(60_000));
      expect(await rows(store)).toHaveLength(2);
      expect(await f.take({ store, flashKey }, 'c', at(60_000))).toBe('3');
      expect(await f.take({ store, flashKey }, 'd', at(60_000))).toBe('4');
    }));

  it('keeps neither the value nor the session id in clear, and opens under no other key', () =>
    withFreshStore(dialect, async (store) => {
      const f = new OneTimeFlash<string>(60_000, 'api-token');
      const token = 'kd_0123456789abcdefghijklmnopqrstuv';
      await f.put({ store, flashKey }, `${SESSION}:7`, token, at(0));
      const stored = JSON.stringify(await rows(store));
      for (const clear of [token, SESSION, Buffer.from(token).toString('base64'), 'kd_']) {
        expect(stored).not.toContain(clear);
      }
      const [row] = await rows(store);
      expect(row!.key).toMatch(/^[0-9a-f]{64}$/);
      expect(row!.value).toMatch(/^v1:[0-9a-f]{16}:[A-Za-z0-9_-]+$/);
      // Another master secret finds nothing under the same key, and leaves the row.
      const other = flashKeyOf(deriveKeys('another-secret-another-secret-0123456'));
      expect(await f.take({ store, flashKey: other }, `${SESSION}:7`, at(1))).toBeUndefined();
      expect(await rows(store)).toHaveLength(1);
      // A value moved to another session's row does not open there.
      await f.put({ store, flashKey }, 'andere-sessie:7', 'kd_ander', at(0));
      const all = await rows(store);
      const mine = all.find((r) => r.value === row!.value)!;
      const theirs = all.find((r) => r !== mine)!;
      await store.db
        .updateTable('one_time_flash')
        .set({ value: mine.value })
        .where('key', '=', theirs.key)
        .execute();
      // Not shown (and no error page): as if expired; the row is gone all the same.
      expect(await f.take({ store, flashKey }, 'andere-sessie:7', at(1))).toBeUndefined();
      expect(await rows(store)).toHaveLength(1);
    }));

  it('is deleted unshown by the hourly run once expired, not only by the next put', async () => {
    const { store, dataDir, drop } = await freshStore(dialect);
    try {
      const f = new OneTimeFlash<string>(60_000, 'api-token');
      const wall = new Date();
      // In this order, so no put deletes the expired one on its way.
      await f.put({ store, flashKey }, 'nieuw', 'kd_nieuw', wall);
      await f.put({ store, flashKey }, 'oud', 'kd_oud', new Date(wall.getTime() - 120_000));
      expect(await rows(store)).toHaveLength(2);
      await runDue({ store, dataDir, organisationKey: () => Buffer.alloc(32) }, wall);
      expect(await rows(store)).toHaveLength(1);
      expect(await f.take({ store, flashKey }, 'nieuw', wall)).toBe('kd_nieuw');
    } finally {
      await drop();
    }
  });
});

describe('a one-time flash on SQLite while another process writes', () => {
  it('finds nothing at once without waiting for the write lock (a page load is no write)', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    const other = new Database(join(dataDir, 'ketendata.sqlite'));
    try {
      const flashKey = flashKeyOf(deriveKeys(SECRET));
      other.exec('BEGIN IMMEDIATE');
      const f = new OneTimeFlash<string>(60_000, 'api-token');
      // A DELETE here would wait out busy_timeout and fail with "database is locked".
      expect(await f.take({ store, flashKey }, `${SESSION}:1`, at(0))).toBeUndefined();
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await drop();
    }
  });
});

describe.each(DIALECTS)('two portal instances on one %s store', (dialect) => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness(dialect);
    await h.seed();
  });
  afterAll(async () => h.drop());

  /** A load balancer that sends every request to the other instance than the one before. */
  const balanced = () => {
    const instances = [h.app, createApp(h.deps)];
    let n = 0;
    return new Browser({ request: (...args) => instances[n++ % 2]!.request(...args) });
  };

  it('shows a new API token made on one instance on the page the other serves, once', async () => {
    const b = balanced();
    await b.login('ana@0363.example'); // GET then POST: the next request goes to the first instance
    const { csrf } = await b.page('/instellingen');
    const res = await b.post('/instellingen/tokens', { _csrf: csrf!, name: 'LB', password: PASSWORD });
    expect(res.status).toBe(303);
    const location = res.headers.get('Location')!;
    const shown = (await b.page(location)).html;
    const token = TOKEN.exec(shown)?.[1];
    expect(token).toMatch(/^kd_/);
    expect(
      (await h.app.request('/api/v1/deliveries', { headers: { Authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    const again = (await b.page(location)).html;
    expect(again).not.toMatch(TOKEN);
    expect(again).toContain('Het token ‘LB’ is aangemaakt.');
  });

  it('shows a Beheer notice on the other instance, once', async () => {
    const b = balanced();
    await b.login('beheer@example');
    const { csrf } = await b.page('/beheer/gebruikers');
    const res = await b.post('/beheer/gebruikers', {
      _csrf: csrf!,
      email: 'dirk@0363.example',
      name: 'Dirk',
      organisation: '0363',
      password: PASSWORD,
      own_password: PASSWORD,
    });
    expect(res.status).toBe(303);
    const notice = 'Gebruiker dirk@0363.example is toegevoegd bij organisatie 0363.';
    expect((await b.page('/beheer/gebruikers')).html).toContain(notice);
    expect((await b.page('/beheer/gebruikers')).html).not.toContain(notice);
  });
});
