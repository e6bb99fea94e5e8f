import { rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { portalHarness } from '../../test/e2e/harness.js';
import { openZips } from '../../test/support/open-files.js';
import { type Delivery, getDelivery } from '../store/deliveries.js';
import { readZipBuffer } from '../usecases/deliveries.fixtures.js';

/** Far more than the socket buffers of both ends hold (a few MB on loopback): a stalled client holds it up. */
const BIG = 24 << 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const recorded = (d: Delivery) => d.downloadCount > 0 || d.firstDownloadedAt !== null;

/** A download through a real HTTP server, read by a client that takes it one chunk at a time. */
interface Transfer {
  readonly res: IncomingMessage;
  /** The server's side of this exchange. */
  readonly served: Served;
  /** Lets one more chunk in, then stops reading again. */
  step(): Promise<void>;
  /** Reads on to the end: whether the response came whole, and all of its body. */
  rest(): Promise<{ complete: boolean; body: Buffer }>;
  /** Breaks the transfer off (the client closes its connection). */
  breakOff(): Promise<void>;
}

/** A response as the server gave it: `finished` once it emitted 'finish' (all handed to the system). */
interface Served {
  readonly res: ServerResponse;
  finished: boolean;
  closed: boolean;
}

async function setup() {
  const h = await portalHarness('sqlite');
  await h.seed();
  await h.deliver(new Date('2026-03-01T06:30:00Z'));
  await h.deliver(new Date('2026-03-08T06:30:00Z'));
  h.clock.now = new Date('2026-03-09T08:00:00Z');
  const token = await h.apiToken('0363');
  const served: Served[] = [];
  /** Holds the next response in the server's own buffers: its socket corked, nothing reaches the system. */
  let holdNext = false;
  const server: Server = createAdaptorServer({ fetch: h.app.fetch }) as Server;
  server.on('request', (_req, res: ServerResponse) => {
    const r: Served = { res, finished: false, closed: false };
    res.once('finish', () => {
      r.finished = true;
    });
    res.once('close', () => {
      r.closed = true;
    });
    if (holdNext) res.socket!.cork();
    holdNext = false;
    served.push(r);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = { Authorization: `Bearer ${token}` };
  // Oldest first, as "all new" bundles them.
  const [older, newer] = (
    await h.store.db.selectFrom('delivery').select('id').where('organisation', '=', '0363').execute()
  )
    .map((r) => Number(r.id))
    .sort((a, b) => a - b) as [number, number];
  const delivery = async (id: number) => (await getDelivery(h.store.db, id))!;
  return {
    h,
    base,
    auth,
    older,
    newer,
    delivery,
    /** Replaces a delivery's file by `size` bytes (its listed size too, sent as Content-Length). */
    async enlarge(id: number, size = BIG) {
      const d = await delivery(id);
      writeFileSync(join(h.dataDir, d.file), Buffer.alloc(size, 7));
      await h.store.db.updateTable('delivery').set({ size }).where('id', '=', id).execute();
    },
    /** Downloads every other new file of 0363 whole, so that only `id` is new. */
    async onlyNew(id: number) {
      const res = await fetch(`${base}/api/v1/deliveries`, { headers: auth });
      const { deliveries } = (await res.json()) as { deliveries: { id: number }[] };
      for (const other of deliveries.filter((x) => x.id !== id)) {
        const got = await fetch(`${base}/api/v1/deliveries/${other.id}/file`, { headers: auth });
        await got.arrayBuffer();
        await vi.waitFor(async () => expect(recorded(await delivery(other.id))).toBe(true));
      }
    },
    /** Sends a request without waiting for an answer (a held response sends none). */
    send(method: 'GET' | 'POST', path: string, o: { hold?: boolean } = {}) {
      const before = served.length;
      holdNext = o.hold ?? false;
      const req = request(`${base}${path}`, { method, agent: false, headers: auth });
      req.on('error', () => {}); // broken off on purpose
      req.end();
      return {
        served: () => served[before],
        breakOff: () => req.destroy(),
      };
    },
    async begin(method: 'GET' | 'POST', path: string): Promise<Transfer> {
      const before = served.length;
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(`${base}${path}`, { method, agent: false, headers: auth });
        req.once('error', reject);
        req.once('response', resolve);
        req.end();
      });
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => {}); // a broken-off body: told by `complete`
      res.pause();
      const over = new Promise<void>((r) => res.once('close', r));
      return {
        res,
        served: served[before]!,
        step: () =>
          new Promise<void>((resolve) => {
            const done = () => {
              res.pause();
              res.off('data', done);
              res.off('close', done);
              resolve();
            };
            res.on('data', done);
            res.once('close', done);
            res.resume();
          }),
        async rest() {
          res.resume();
          await over;
          return { complete: res.complete, body: Buffer.concat(chunks) };
        },
        async breakOff() {
          res.destroy();
          await over;
        },
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await h.drop();
    },
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

describe('downloads over a real connection (@hono/node-server)', () => {
  let s: Setup | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await s?.close();
    s = undefined;
  });

  it('breaks "all new" off cleanly when a file in it disappears mid-transfer, and keeps serving', async () => {
    s = await setup();
    const { h, older, newer } = s;
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    // The first file is large, so the transfer is held up in it while the second is deleted.
    await s.enlarge(older);
    const t = await s.begin('POST', '/api/v1/deliveries/download-new');
    expect(t.res.statusCode).toBe(200);
    for (let i = 0; i < 5; i++) await t.step();
    expect(openZips(h.dataDir)).toBe(1);
    const gone = await s.delivery(newer);
    rmSync(join(h.dataDir, gone.file)); // the retention job, a colleague, an operator cleaning up

    const got = await t.rest();
    expect(got.complete).toBe(false);
    await expect(readZipBuffer(got.body)).rejects.toThrow(); // no ZIP that looks whole
    await vi.waitFor(() => expect(t.served.closed).toBe(true));
    expect(t.served.finished).toBe(false);
    const logged = errors.mock.calls.map((c) => String(c[0]));
    expect(logged).toContainEqual(expect.stringContaining('delivery.file_missing'));
    expect(logged).toContainEqual(expect.stringContaining(`delivery ${newer}`));
    await vi.waitFor(() => expect(openZips(h.dataDir)).toBe(0), { timeout: 15_000 });
    await sleep(100);
    expect(recorded(await s.delivery(older))).toBe(false);
    expect(recorded(await s.delivery(newer))).toBe(false);

    // The server is still there; the next "all new" sends the file still there and records it only.
    const list = await fetch(`${s.base}/api/v1/deliveries`, { headers: s.auth });
    expect(list.status).toBe(200);
    const again = await fetch(`${s.base}/api/v1/deliveries/download-new`, {
      method: 'POST',
      headers: s.auth,
    });
    expect(again.status).toBe(200);
    const zip = await readZipBuffer(Buffer.from(await again.arrayBuffer()));
    expect([...zip.keys()]).toEqual([(await s.delivery(older)).fileName]);
    await vi.waitFor(async () => expect(recorded(await s!.delivery(older))).toBe(true));
    expect(recorded(await s.delivery(newer))).toBe(false);
  });

  it('sends a single file deleted while it is being sent whole, and answers one already gone with 500', async () => {
    s = await setup();
    const { h, older } = s;
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    await s.enlarge(older);
    const d = await s.delivery(older);
    const t = await s.begin('GET', `/api/v1/deliveries/${older}/file`);
    for (let i = 0; i < 3; i++) await t.step();
    rmSync(join(h.dataDir, d.file)); // open already: it is sent as it was
    const got = await t.rest();
    expect(got.complete).toBe(true);
    expect(got.body.length).toBe(BIG);
    await vi.waitFor(async () => expect(recorded(await s!.delivery(older))).toBe(true));

    const again = await fetch(`${s.base}/api/v1/deliveries/${older}/file`, { headers: s.auth });
    expect(again.status).toBe(500);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('delivery.file_missing');
    expect(errors.mock.calls.map((c) => String(c[0]))).toContainEqual(
      expect.stringContaining(`delivery.file_missing: delivery ${older}:`),
    );
    expect((await fetch(`${s.base}/api/v1/deliveries`, { headers: s.auth })).status).toBe(200);
  });

  for (const via of ['single', 'bundle'] as const) {
    const method = () => (via === 'single' ? 'GET' : 'POST');
    const path = (s: Setup) =>
      via === 'single' ? `/api/v1/deliveries/${s.older}/file` : '/api/v1/deliveries/download-new';

    it(`records no download (${via}) for a client that reads a little of a large file and breaks off; one read whole is recorded`, async () => {
      s = await setup();
      const { older } = s;
      await s.enlarge(older);
      if (via === 'bundle') await s.onlyNew(older);
      const t = await s.begin(method(), path(s));
      expect(t.res.statusCode).toBe(200);
      for (let i = 0; i < 3; i++) await t.step();
      await sleep(200); // the server fills the socket buffers and waits
      expect(t.served.finished).toBe(false);
      await t.breakOff();
      await vi.waitFor(() => expect(t.served.closed).toBe(true));
      await sleep(100);
      expect(t.served.finished).toBe(false);
      expect(recorded(await s.delivery(older))).toBe(false);
      await vi.waitFor(() => expect(openZips(s!.h.dataDir)).toBe(0), { timeout: 15_000 });

      const whole = await s.begin(method(), path(s));
      const got = await whole.rest();
      expect(got.complete).toBe(true);
      expect(got.body.length).toBeGreaterThanOrEqual(BIG);
      await vi.waitFor(async () => expect(recorded(await s!.delivery(older))).toBe(true));
      expect(whole.served.finished).toBe(true);
    });

    it(`records no download (${via}) while the server has read the file but not yet handed all of it to the system, nor when the client then breaks off`, async () => {
      s = await setup();
      const { h, older } = s;
      // 100 KiB: more than the socket's 64 KiB mark, less than the server's own stream buffers hold (a real
      // delivery's size follows its data and dictionary). With the socket held (corked, as a full socket
      // buffer holds it) the server reads the file to its end and closes it, while no byte has reached the
      // system.
      await s.enlarge(older, 100 << 10);
      if (via === 'bundle') await s.onlyNew(older);
      const t = s.send(method(), path(s), { hold: true });
      await vi.waitFor(
        () => {
          expect(t.served()?.res.socket?.writableLength ?? 0).toBeGreaterThan(64 << 10);
          expect(openZips(h.dataDir)).toBe(0);
        },
        // Waits for events, not for speed: a machine busy with other test files may take its time.
        { timeout: 15_000 },
      );
      await sleep(300);
      const served = t.served()!;
      expect(served.finished).toBe(false);
      expect(recorded(await s.delivery(older))).toBe(false);

      t.breakOff();
      await vi.waitFor(() => expect(served.closed).toBe(true));
      await sleep(100);
      expect(served.finished).toBe(false);
      expect(recorded(await s.delivery(older))).toBe(false);
      await vi.waitFor(() => expect(openZips(h.dataDir)).toBe(0), { timeout: 15_000 });
    });
  }
});
