import type { Command } from 'commander';
import { checkTrustedProxies, requireSecret } from '../config/config.js';
import { startPortal } from '../http/launch.js';
import { STOP_GRACE_MS } from '../http/server.js';
import { startScheduler } from '../jobs/scheduler.js';
import { limitLockWait, SERVE_LOCK_TIMEOUT_MS } from '../store/open.js';
import { openKeyedStore } from '../usecases/store-secret.js';
import { type CliContext, parsePort } from './command.js';

/** `ketendata serve`: the production entry — portal, API and scheduler on the configured store. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description(
      'portal, API and the weekly/hourly jobs (needs KETENDATA_SECRET; PostgreSQL via KETENDATA_DATABASE_URL)',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '3000')
    .option('--insecure-cookies', 'allow session cookies over plain http (only behind no proxy, for testing)')
    .action(async (o: { host: string; port: string; insecureCookies?: boolean }) => {
      const port = parsePort(ctx, o.port);
      if (port === undefined) return;
      const secret = requireSecret(ctx.config);
      const trustedProxies = checkTrustedProxies(ctx.config.trustedProxies);
      // Before anything is opened: a signal while the store opens (migrations) or the portal starts ends the
      // start after the step under way, with a line, instead of killing the process without a word. As
      // after the start, a second signal finds no listener and ends the process at once.
      let listening = false;
      const signals = watchSignals((name) => {
        if (!listening)
          ctx.out(`ketendata: stopping (${name}) before the portal listens; a second signal stops at once`);
      });
      try {
        const { store, keys } = await openKeyedStore(ctx.config, secret);
        // Requests (and the jobs beside them) fail on a lock held elsewhere instead of waiting for it.
        limitLockWait(store, SERVE_LOCK_TIMEOUT_MS);
        if (signals.received) return await store.close();
        let server: Awaited<ReturnType<typeof startPortal>>;
        try {
          server = await startPortal({
            store,
            dataDir: ctx.config.dataDir,
            host: o.host,
            port,
            secureCookies: !o.insecureCookies,
            trustedProxies,
            keys,
          });
        } catch (err) {
          // A PostgreSQL pool left open would keep the process alive with nothing listening.
          await store.close();
          throw err;
        }
        if (signals.received) {
          await server.close();
          return await store.close();
        }
        listening = true;
        const scheduler = startScheduler({
          store,
          dataDir: ctx.config.dataDir,
          organisationKey: (code) => keys.organisation(code),
          catchUpOnStart: true,
          log: (line) => ctx.out(`ketendata: ${line}`),
        });
        ctx.out(`ketendata: portal and API on ${server.url} (${store.dialect}); jobs scheduled`);
        const name = await signals.next;
        ctx.out(
          `ketendata: stopping (${name}); a running job and requests under way finish first (requests at most ${STOP_GRACE_MS / 1000} s)`,
        );
        scheduler.stop();
        // Requests under way (a hub's POST, a download) finish while the job does; a keep-alive client that
        // only waits is let go at once.
        await Promise.all([scheduler.idle(), server.close(STOP_GRACE_MS)]);
        await store.close();
      } finally {
        signals.stop();
      }
    });
}

/**
 * Listens for SIGINT/SIGTERM from now on, until the first (or `stop`): `received` names it, `next` resolves
 * with it and `onSignal` hears it at once.
 */
export function watchSignals(onSignal: (name: NodeJS.Signals) => void = () => undefined): {
  readonly received: NodeJS.Signals | undefined;
  readonly next: Promise<NodeJS.Signals>;
  stop(): void;
} {
  let received: NodeJS.Signals | undefined;
  let resolve: (name: NodeJS.Signals) => void = () => undefined;
  const next = new Promise<NodeJS.Signals>((r) => {
    resolve = r;
  });
  const stop = () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  function on(name: NodeJS.Signals) {
    received = name;
    stop();
    onSignal(name);
    resolve(name);
  }
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    get received() {
      return received;
    },
    next,
    stop,
  };
}

/** Resolves on SIGINT/SIGTERM so the command can close the server and the store cleanly. */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
