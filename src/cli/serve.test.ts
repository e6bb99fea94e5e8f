import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
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
});
