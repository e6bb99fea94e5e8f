import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { portalHarness } from '../../test/e2e/harness.js';
import { openZips } from '../../test/support/open-files.js';
import { getDelivery } from '../store/deliveries.js';

const SIZE = 200_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A delivery whose file is a named pipe fed by the test: its bytes reach the client while the server's file
 * stream still waits to learn where the file ends, as it does (one more read) when a client hangs up the
 * moment it has all of the Content-Length — what curl does.
 */
async function setup() {
  const h = await portalHarness('sqlite');
  await h.seed();
  await h.deliver(new Date('2026-03-01T06:30:00Z'));
  h.clock.now = new Date('2026-03-09T08:00:00Z');
  const token = await h.apiToken('0363');
  const row = await h.store.db
    .selectFrom('delivery')
    .select('id')
    .where('organisation', '=', '0363')
    .executeTakeFirstOrThrow();
  const id = Number(row.id);
  const path = join(h.dataDir, (await getDelivery(h.store.db, id))!.file);
  rmSync(path);
  execFileSync('mkfifo', [path]);
  await h.store.db.updateTable('delivery').set({ size: SIZE }).where('id', '=', id).execute();

  let served: { closed: boolean } | undefined;
  const server = createAdaptorServer({ fetch: h.app.fetch }) as Server;
  server.on('request', (_req, res: ServerResponse) => {
    const r = { closed: false };
    res.once('close', () => {
      r.closed = true;
    });
    served = r;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    h,
    recorded: async () => (await getDelivery(h.store.db, id))!.firstDownloadedAt !== null,
    /**
     * Downloads the file while `bytes` of it are fed in, hanging up once they all came; the pipe stays open
     * (no end of file yet) until the server has answered.
     */
    async fetchFed(bytes: number) {
      const got = new Promise<{ status?: number; length?: string; taken: number }>((resolve, reject) => {
        const req = request(`${base}/api/v1/deliveries/${id}/file`, {
          agent: false,
          headers: { Authorization: `Bearer ${token}` },
        });
        req.once('error', reject);
        req.once('response', (res) => {
          let taken = 0;
          res.on('data', (chunk: Buffer) => {
            taken += chunk.length;
            if (taken >= bytes) res.destroy();
          });
          res.once('close', () =>
            resolve({ status: res.statusCode, length: res.headers['content-length'], taken }),
          );
        });
        req.end();
      });
      const pipe = await open(path, 'w'); // once the server opened it for reading
      try {
        await pipe.write(Buffer.alloc(bytes, 7));
        expect(await got).toEqual({ status: 200, length: String(SIZE), taken: bytes });
        await vi.waitFor(() => expect(served?.closed).toBe(true));
        await sleep(100); // the server ends the response it was cancelled in, and records (or not)
      } finally {
        await pipe.close();
      }
      await vi.waitFor(() => expect(openZips(h.dataDir)).toBe(0), { timeout: 3000 });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await h.drop();
    },
  };
}

describe.skipIf(process.platform === 'win32')('a download the client hangs up on (@hono/node-server)', () => {
  let s: Awaited<ReturnType<typeof setup>> | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await s?.close();
    s = undefined;
  });

  it('is recorded once the client had every byte, though the file had not reported its end yet', async () => {
    s = await setup();
    const errors = vi.spyOn(console, 'error');
    await s.fetchFed(SIZE);
    expect(await s.recorded()).toBe(true);
    expect(errors).not.toHaveBeenCalled();
  });

  it('is not recorded, and no failure is logged, when the client hung up one byte short', async () => {
    s = await setup();
    const errors = vi.spyOn(console, 'error');
    await s.fetchFed(SIZE - 1);
    expect(await s.recorded()).toBe(false);
    expect(errors).not.toHaveBeenCalled();
  });
});
