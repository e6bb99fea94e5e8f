import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkTrustedProxies, requireSecret } from '../config/config.js';
import { startPortal } from '../http/launch.js';
import { STOP_GRACE_MS } from '../http/server.js';
import { startScheduler } from '../jobs/scheduler.js';
import type { Keys } from '../pseudonymise/keys.js';
import {
  describePostgres,
  limitLockWait,
  SERVE_LOCK_TIMEOUT_MS,
  type Store,
  type StoreOptions,
} from '../store/open.js';
import { openKeyedStore } from '../usecases/store-secret.js';
import { type CliContext, parsePort, realNow } from './command.js';

/** Connections of the scheduler's own PostgreSQL pool: it runs one job at a time (plus a lease renewal). */
export const SCHEDULER_POOL_SIZE = 3;

export interface ServeStores {
  /** The portal's and API's: a statement waits at most SERVE_LOCK_TIMEOUT_MS for a lock held elsewhere. */
  readonly app: Store;
  /** The scheduler's: waits for a lock as long as it takes, like `deliver` from cron (the same as `app` on SQLite). */
  readonly jobs: Store;
  readonly keys: Keys;
  close(): Promise<void>;
}

/**
 * The stores `serve` runs on. On PostgreSQL the scheduler gets a small pool of its own without the requests'
 * lock timeout: a Sunday run that meets an ingest batch holding the ingest lock waits for it instead of
 * failing with 55P03 and backing off. On SQLite one connection serves both (a second would wait for the
 * other's transaction in a busy loop that blocks this very thread).
 */
export async function openServeStores(options: StoreOptions, secret: string): Promise<ServeStores> {
  const { store: app, keys } = await openKeyedStore(options, secret);
  // Requests fail on a lock held elsewhere instead of waiting for it.
  limitLockWait(app, SERVE_LOCK_TIMEOUT_MS);
  if (app.dialect !== 'postgres') return { app, jobs: app, keys, close: () => app.close() };
  let jobs: Store;
  try {
    const scheduler = {
      databaseUrl: options.databaseUrl,
      dataDir: options.dataDir,
      poolSize: SCHEDULER_POOL_SIZE,
    };
    ({ store: jobs } = await openKeyedStore(scheduler, secret));
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    app,
    jobs,
    keys,
    close: async () => {
      await Promise.all([app.close(), jobs.close()]);
    },
  };
}

/** How many of the newest listed deliveries `serve` looks for at start. */
export const DELIVERY_FILES_CHECKED = 50;

/**
 * The warning `serve` gives at start when files of the store's listed deliveries (not deleted, not expired;
 * the newest DELIVERY_FILES_CHECKED) are not in this data folder: another instance with a folder of its own
 * made them, or a restore brought back a store newer than its deliveries. Undefined when all are there.
 */
export async function deliveryFilesWarning(
  store: Store,
  dataDir: string,
  now: Date,
): Promise<string | undefined> {
  const rows = await store.db
    .selectFrom('delivery')
    .select('file')
    .where('deleted_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .orderBy('made_at', 'desc')
    .orderBy('id', 'desc')
    .limit(DELIVERY_FILES_CHECKED)
    .execute();
  let missing = 0;
  for (const { file } of rows) {
    try {
      await stat(join(dataDir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing++;
    }
  }
  if (missing === 0) return undefined;
  return (
    `ketendata: warning: ${missing} of the ${rows.length} newest listed deliveries have no file in ` +
    `${join(dataDir, 'deliveries')}: their downloads fail (delivery.file_missing). Every instance of serve on ` +
    `this store must share one deliveries folder (docs/operations.md, "Several instances"); after a restore, ` +
    `restore the deliveries folder too`
  );
}

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
        const stores = await openServeStores(ctx.config, secret);
        const { app: store, keys } = stores;
        if (signals.received) return await stores.close();
        // Warns, never refuses: a restore can leave files missing too, and the rest still serves.
        try {
          const warning = await deliveryFilesWarning(store, ctx.config.dataDir, realNow(ctx));
          if (warning) ctx.err(warning);
        } catch (err) {
          ctx.err(`ketendata: warning: could not check the delivery files: ${(err as Error).message}`);
        }
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
          await stores.close();
          throw err;
        }
        if (signals.received) {
          await server.close();
          return await stores.close();
        }
        listening = true;
        const scheduler = startScheduler({
          store: stores.jobs,
          dataDir: ctx.config.dataDir,
          organisationKey: (code) => keys.organisation(code),
          catchUpOnStart: true,
          log: (line) => ctx.out(`ketendata: ${line}`),
        });
        // Which store and folder: with a default left in place (./data of the working folder) a service manager
        // may start it somewhere else than meant, and the log is where the operator then looks.
        const where =
          store.dialect === 'postgres' && ctx.config.databaseUrl
            ? `postgres ${describePostgres(ctx.config.databaseUrl)}`
            : 'sqlite';
        ctx.out(
          `ketendata: portal and API on ${server.url} (${where}, data folder ${resolve(ctx.config.dataDir)}); jobs scheduled`,
        );
        const name = await signals.next;
        ctx.out(
          `ketendata: stopping (${name}); a running job and requests under way finish first (requests at most ${STOP_GRACE_MS / 1000} s)`,
        );
        scheduler.stop();
        // Requests under way (a hub's POST, a download) finish while the job does; a keep-alive client that
        // only waits is let go at once.
        await Promise.all([scheduler.idle(), server.close(STOP_GRACE_MS)]);
        await stores.close();
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
