import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SECRET as HARNESS_SECRET, portalHarness } from '../../test/e2e/harness.js';
import { runCli } from '../../test/support/cli.js';
import { freshStore } from '../../test/support/databases.js';

const MAIN = new URL('../main.ts', import.meta.url).pathname;

function occupiedPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

const SECRET = 'serve-test-secret-serve-test-secret-0123';

function freePort(): Promise<number> {
  return occupiedPort().then(
    ({ server, port }) => new Promise((resolve) => server.close(() => resolve(port))),
  );
}

/** `ketendata serve` as a child process, its output gathered, its end awaited (killed after 30 s). */
function serveChild(env: NodeJS.ProcessEnv, port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', String(port)], {
    env: { ...process.env, KETENDATA_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as unknown as ChildProcessWithoutNullStreams;
  const r = { out: '', err: '' };
  child.stdout.on('data', (d) => {
    r.out += String(d);
  });
  child.stderr.on('data', (d) => {
    r.err += String(d);
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  return { child, r, ended };
}

/**
 * A TCP relay to PostgreSQL that holds every connection until `release`: a server that is slow to answer,
 * so that a signal surely comes while `serve` is still opening its store.
 */
async function heldRelay(target: URL) {
  const waiting: Socket[] = [];
  let released = false;
  const pipe = (socket: Socket) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  };
  const server = createServer((socket) => {
    socket.pause();
    if (released) pipe(socket);
    else waiting.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => waiting.length,
    release: () => {
      released = true;
      for (const s of waiting.splice(0)) {
        pipe(s);
        s.resume();
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('ketendata serve', () => {
  it('on PostgreSQL, exits with an error when its port is taken instead of living on with nothing listening', async () => {
    const { url, dataDir, drop } = await freshStore('postgres');
    const { server, port } = await occupiedPort();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', String(port)], {
        env: {
          ...process.env,
          KETENDATA_DATABASE_URL: url,
          KETENDATA_DATA_DIR: dataDir,
          KETENDATA_SECRET: 'serve-test-secret-serve-test-secret-0123',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      let failedAt = 0;
      child.stderr.on('data', (d) => {
        err += String(d);
        if (!failedAt && err.includes('EADDRINUSE')) failedAt = Date.now();
      });
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(null);
        }, 30_000);
        child.on('close', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(err).toContain('EADDRINUSE');
      expect(code).toBe(1);
      // At once, not when the pool's idle connections time out (10 s): a service manager sees it fail.
      expect(Date.now() - failedAt).toBeLessThan(5_000);
    } finally {
      server.close();
      await drop();
    }
  });

  it('refuses a KETENDATA_TRUSTED_PROXIES entry that is not an IP address before it opens anything', async () => {
    const r = await runCli(['serve', '--port', '1'], {
      KETENDATA_DATA_DIR: '/nonexistent/ketendata-serve-test',
      KETENDATA_SECRET: 'serve-test-secret-serve-test-secret-0123',
      KETENDATA_TRUSTED_PROXIES: '127.0.0.1,proxy.example',
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ketendata: config\.bad_trusted_proxies: .*"proxy\.example" is not one\)\n$/);
  });

  it('on PostgreSQL, refuses a KETENDATA_DATA_DIR it cannot use at start, not when a delivery is due', async () => {
    const { url, dataDir, drop } = await freshStore('postgres');
    try {
      const file = join(dataDir, 'a-file');
      writeFileSync(file, '');
      const { r, ended } = serveChild(
        { KETENDATA_DATABASE_URL: url, KETENDATA_DATA_DIR: file },
        await freePort(),
      );
      expect(await ended).toEqual({ code: 1, signal: null });
      expect(r.err).toBe(
        `ketendata: config.data_dir_unusable: KETENDATA_DATA_DIR ${file} is not a folder that can be written (EEXIST)\n`,
      );
      expect(r.out).not.toContain('portal and API on');
    } finally {
      await drop();
    }
  });

  it('says it stops on SIGTERM, and lets the portal and the store close', async () => {
    const { dataDir, drop } = await freshStore('sqlite');
    try {
      const { child, r, ended } = serveChild({ KETENDATA_DATA_DIR: dataDir }, await freePort());
      await vi.waitFor(() => expect(r.out).toContain('portal and API on'), {
        timeout: 20_000,
        interval: 100,
      });
      child.kill('SIGTERM');
      expect(await ended).toEqual({ code: 0, signal: null });
      expect(r.out.split('\n').filter((l) => l.includes('stopping'))).toEqual([
        'ketendata: stopping (SIGTERM); a running job and requests under way finish first (requests at most 10 s)',
      ]);
      expect(r.err).toBe('');
    } finally {
      await drop();
    }
  });

  it('warns at start, and starts all the same, when the listed deliveries have no files in its data folder', async () => {
    // One PostgreSQL store whose deliveries another instance made into a data folder of its own.
    const h = await portalHarness('postgres');
    const ownFolder = mkdtempSync(join(tmpdir(), 'ketendata-second-instance-'));
    try {
      h.clock.now = new Date(Date.now() - 10 * 24 * 3600 * 1000);
      await h.seed();
      const made = (await h.deliver(new Date())).made.length;
      expect(made).toBeGreaterThan(0);
      const { child, r, ended } = serveChild(
        { KETENDATA_DATABASE_URL: h.url!, KETENDATA_DATA_DIR: ownFolder, KETENDATA_SECRET: HARNESS_SECRET },
        await freePort(),
      );
      await vi.waitFor(() => expect(r.out).toContain('portal and API on'), {
        timeout: 20_000,
        interval: 100,
      });
      // The start line names the store and the folder in use: the log shows a service started in the wrong place.
      const db = new URL(h.url!);
      expect(r.out).toContain(
        `(postgres ${db.hostname}:${db.port || 5432}${db.pathname}, data folder ${ownFolder}); jobs scheduled`,
      );
      child.kill('SIGTERM');
      expect(await ended).toEqual({ code: 0, signal: null });
      expect(r.err.split('\n').filter(Boolean)).toEqual([
        `ketendata: warning: ${made} of the ${made} newest listed deliveries have no file in ${join(ownFolder, 'deliveries')}: ` +
          'their downloads fail (delivery.file_missing). Every instance of serve on this store must share one ' +
          'deliveries folder (docs/operations.md, "Several instances"); after a restore, restore the deliveries folder too',
      ]);
    } finally {
      await h.drop();
      rmSync(ownFolder, { recursive: true, force: true });
    }
  });

  it('stops cleanly, with a line, on a signal that comes before the portal listens', async () => {
    const { url, dataDir, drop } = await freshStore('postgres');
    const relay = await heldRelay(new URL(url!));
    try {
      const through = new URL(url!);
      through.hostname = '127.0.0.1';
      through.port = String(relay.port);
      const port = await freePort();
      const { child, r, ended } = serveChild(
        { KETENDATA_DATABASE_URL: through.toString(), KETENDATA_DATA_DIR: dataDir },
        port,
      );
      // Connecting to PostgreSQL: the store is being opened.
      await vi.waitFor(() => expect(relay.connections()).toBeGreaterThan(0), {
        timeout: 20_000,
        interval: 50,
      });
      child.kill('SIGTERM');
      await vi.waitFor(() => expect(r.out).toContain('stopping'), { timeout: 5_000, interval: 50 });
      relay.release();
      expect(await ended).toEqual({ code: 0, signal: null });
      expect(r.out).toBe(
        'ketendata: stopping (SIGTERM) before the portal listens; a second signal stops at once\n',
      );
      expect(r.err).toBe('');
    } finally {
      relay.release();
      await relay.close();
      await drop();
    }
  });
});
