import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { portalHarness } from '../../../test/e2e/harness.js';
import { openZips } from '../../../test/support/open-files.js';
import { getDelivery } from '../../store/deliveries.js';
import { downloadSlots, SlidingWindowStore } from './limits.js';

const SUNDAY = new Date('2026-03-01T06:30:00Z');
const MONDAY = new Date('2026-03-02T08:00:00Z');
const T0 = Date.parse('2026-03-02T08:00:00Z');
const JW301 = readFileSync('test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml');

/** The portal on Monday with 0363's delivery of the first run listed; each test makes its own tokens. */
async function world() {
  const h = await portalHarness('sqlite');
  await h.seed();
  const report = await h.deliver(SUNDAY);
  h.clock.now = MONDAY;
  const id = report.made.find((d) => d.organisation === '0363')!.id;
  const bearer = async (org: string | null) => ({ Authorization: `Bearer ${await h.apiToken(org)}` });
  const call = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
    h.app.request(`/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { h, id, bearer, call };
}

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe('per-token limits of /api/v1', () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    w = await world();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses the 121st request in a minute with 429 api.rate_limited and Retry-After, per token, in a sliding window', async () => {
    const auth = await w.bearer('0363');
    const other = await w.bearer('0363');
    // Only Date is faked: the limiter reads Date.now(); timers and I/O run as usual.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    for (let i = 1; i <= 60; i++) expect((await w.call('GET', '/deliveries', auth)).status, `${i}`).toBe(200);
    vi.setSystemTime(T0 + 30_000);
    for (let i = 61; i <= 120; i++) {
      const res = await w.call('GET', i % 2 ? '/indicators' : `/deliveries/${w.id}`, auth);
      expect(res.status, `${i}`).toBe(200);
    }
    vi.setSystemTime(T0 + 45_000);
    const refused = await w.call('GET', '/deliveries', auth);
    expect(refused.status).toBe(429);
    // The requests of T0 leave the window at T0 + 60 s.
    expect(refused.headers.get('Retry-After')).toBe('15');
    expect(refused.headers.get('RateLimit-Policy')).toBe('120;w=60');
    expect(refused.headers.get('RateLimit-Remaining')).toBe('0');
    expect(await errorOf(refused)).toEqual({
      code: 'api.rate_limited',
      message: 'more than 120 requests in a minute with this token: send it again after Retry-After seconds',
    });
    // A download counts as well, and is refused the same way.
    expect((await w.call('GET', `/deliveries/${w.id}/file`, auth)).status).toBe(429);
    // Another token of the same organisation has its own count.
    expect((await w.call('GET', '/deliveries', other)).status).toBe(200);

    // A minute after the first 60: those 60 are free again, the 60 of T0 + 30 s are still counted.
    vi.setSystemTime(T0 + 60_000);
    for (let i = 1; i <= 60; i++) expect((await w.call('GET', '/deliveries', auth)).status, `${i}`).toBe(200);
    const again = await w.call('GET', '/deliveries', auth);
    expect(again.status).toBe(429);
    expect(again.headers.get('Retry-After')).toBe('30');
    vi.setSystemTime(T0 + 90_000);
    expect((await w.call('GET', '/deliveries', auth)).status).toBe(200);
  });

  it('does not limit operator tokens (the hub feed)', async () => {
    const operator = await w.bearer(null);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0 + 3_600_000);
    const xml = { ...operator, 'Content-Type': 'application/xml' };
    for (let i = 1; i <= 125; i++)
      expect((await w.call('POST', '/exchanges', xml, JW301)).status, `exchange ${i}`).toBeLessThan(300);
    for (let i = 1; i <= 125; i++)
      expect((await w.call('GET', '/quarantine', operator)).status, `quarantine ${i}`).toBe(200);
  });

  it('refuses a 5th download at once with 429 api.too_many_downloads, and frees a slot when one ends or is cancelled', async () => {
    const auth = await w.bearer('0363');
    const file = () => w.call('GET', `/deliveries/${w.id}/file`, auth);
    // Bodies not read yet: four downloads running (app.request streams the body as it is read).
    const held = [
      await file(),
      await file(),
      await file(),
      await w.call('POST', '/deliveries/download-new', auth),
    ];
    expect(held.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const refused = await file();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('5');
    expect((await errorOf(refused)).code).toBe('api.too_many_downloads');
    expect((await w.call('POST', '/deliveries/download-new', auth)).status).toBe(429);
    // Other requests of the token, and downloads of another token, go on.
    expect((await w.call('GET', '/deliveries', auth)).status).toBe(200);
    expect((await w.call('GET', `/deliveries/${w.id}/file`, await w.bearer('0363'))).status).toBe(200);
    // HEAD sends no file: not counted.
    expect((await w.call('HEAD', `/deliveries/${w.id}/file`, auth)).status).toBe(200);

    // The client gives up on one: its slot is free.
    await held[0]!.body!.cancel();
    const fifth = await file();
    expect(fifth.status).toBe(200);
    expect((await file()).status).toBe(429);
    // One read to its end frees its slot too.
    expect((await held[1]!.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect((await file()).status).toBe(200);
  });

  it('frees the slot of a download the client aborts over a real connection', async () => {
    const auth = await w.bearer('0363');
    // A file far larger than the socket buffers, so a download the client does not read stays running.
    const d = (await getDelivery(w.h.store.db, w.id))!;
    const size = 64 * 1024 * 1024;
    writeFileSync(join(w.h.dataDir, d.file), Buffer.alloc(size));
    await w.h.store.db.updateTable('delivery').set({ size }).where('id', '=', w.id).execute();
    const aborts = [0, 1, 2, 3].map(() => new AbortController());
    const server = serve({ fetch: w.h.app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/api/v1/deliveries/${w.id}/file`;
      const start = (signal?: AbortSignal) => fetch(url, { headers: auth, ...(signal ? { signal } : {}) });
      const held = await Promise.all(aborts.map((a) => start(a.signal)));
      expect(held.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const refused = await start();
      expect(refused.status).toBe(429);
      expect((await errorOf(refused)).code).toBe('api.too_many_downloads');

      aborts[0]!.abort();
      // The server learns of it when the connection closes: ask again a few times, within bounds.
      const extra = new AbortController();
      aborts.push(extra);
      let res = refused;
      for (let i = 0; i < 50 && res.status === 429; i++) {
        await new Promise((r) => setTimeout(r, 20));
        res = await start(extra.signal);
        if (res.status === 429) await res.body?.cancel();
      }
      expect(res.status).toBe(200);
    } finally {
      for (const a of aborts) a.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a download whose client hangs up before the file is opened', () => {
  it('holds neither its slot nor the file', async () => {
    const w = await world();
    const auth = await w.bearer('0363');
    const d = (await getDelivery(w.h.store.db, w.id))!;
    const size = 8 * 1024 * 1024;
    writeFileSync(join(w.h.dataDir, d.file), Buffer.alloc(size));
    await w.h.store.db.updateTable('delivery').set({ size }).where('id', '=', w.id).execute();
    // A busy store: looking the delivery up takes a while, and the clients are gone before it answers.
    const deliveries = w.h.deps.deliveries as { open: typeof w.h.deps.deliveries.open };
    const open = deliveries.open.bind(deliveries);
    let slow = true;
    deliveries.open = async (...args) => {
      if (slow) await new Promise((r) => setTimeout(r, 300));
      return open(...args);
    };
    const server = serve({ fetch: w.h.app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/api/v1/deliveries/${w.id}/file`;
      const aborts = [0, 1, 2, 3].map(() => new AbortController());
      const gone = aborts.map((a) => fetch(url, { headers: auth, signal: a.signal }).catch(() => undefined));
      await new Promise((r) => setTimeout(r, 100));
      for (const a of aborts) a.abort();
      await Promise.all(gone);
      // The handlers finish after the hang-ups; then nothing of them may be left.
      await new Promise((r) => setTimeout(r, 600));
      expect(openZips(w.h.dataDir)).toBe(0);
      slow = false;
      const res = await fetch(url, { headers: auth });
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(size);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the limiters on their own', () => {
  it('forgets a token with no request in the last minute', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const store = new SlidingWindowStore(2, 60_000);
      vi.setSystemTime(T0);
      store.increment('a');
      store.increment('b');
      expect(store.size).toBe(2);
      vi.setSystemTime(T0 + 30_000);
      store.increment('b');
      vi.setSystemTime(T0 + 61_000);
      store.increment('c');
      // 'a' was idle for a minute; 'b' had a request 31 s ago.
      expect(store.size).toBe(2);
      vi.setSystemTime(T0 + 122_000);
      store.increment('c');
      expect(store.size).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps no entry for a token with no download running, however the download ended', async () => {
    const slots = downloadSlots();
    const app = new Hono();
    app.use('*', async (c, next) => {
      c.set('apiOwner' as never, { id: Number(c.req.query('t')), scope: 'organisation' } as never);
      await next();
    });
    app.get('/ok', slots as never, (c) => c.body(new Blob(['x'.repeat(10)]).stream()));
    app.get('/fails', slots as never, () => {
      throw new Error('boom');
    });
    app.get('/empty', slots as never, (c) => c.body(null, 204));
    app.onError((_err, c) => c.text('failed', 500));
    const done = await app.request('/ok?t=1');
    await done.text();
    const cancelled = await app.request('/ok?t=2');
    await cancelled.body!.cancel();
    const failed = await app.request('/fails?t=3');
    expect([failed.status, await failed.text()]).toEqual([500, 'failed']);
    expect((await app.request('/empty?t=4')).status).toBe(204);
    expect(slots.running.size).toBe(0);
  });
});
