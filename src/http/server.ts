import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './env.js';

export interface RunningServer {
  readonly url: string;
  /**
   * Stops accepting connections and resolves when all are closed: idle ones at once, requests under way when
   * they end or after `graceMs` (default 0: cut at once), whichever comes first.
   */
  close(graceMs?: number): Promise<void>;
}

/** How long `serve` lets requests under way finish when it stops (a hub's POST, a download in flight). */
export const STOP_GRACE_MS = 10_000;

/** Listens on host:port (port 0: any free port) and resolves once it accepts connections. */
export function listen(app: Hono<AppEnv>, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shown}:${info.port}`,
        close: (graceMs = 0) =>
          new Promise<void>((done) => {
            const http = server as { closeAllConnections?: () => void; closeIdleConnections?: () => void };
            const cut = setTimeout(() => http.closeAllConnections?.(), graceMs);
            // A keep-alive connection whose request has just been answered is idle: let it go then, not when
            // the grace period ends.
            const sweep = setInterval(() => http.closeIdleConnections?.(), 50);
            server.close(() => {
              clearTimeout(cut);
              clearInterval(sweep);
              done();
            });
            http.closeIdleConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
