import { constants } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { newDemoSecret, readDemoSecret, requireSecret, writeDemoSecret } from '../config/config.js';
import { startPortal } from '../http/launch.js';
import { STOP_GRACE_MS } from '../http/server.js';
import { startScheduler } from '../jobs/scheduler.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { openStore } from '../store/open.js';
import {
  clearIncompleteDemo,
  DEMO_PASSWORD,
  DemoInterrupted,
  demoOrganisations,
  demoStoreState,
  foreignFiles,
  prepareDemo,
} from '../usecases/demo.js';
import {
  bindStoreSecret,
  checkStoreSecret,
  SecretMismatchError,
  storeName,
} from '../usecases/store-secret.js';
import { type CliContext, parseNow, parsePort } from './command.js';
import { waitForSignal, watchSignals } from './serve.js';

/** Two years of traffic at most: the first start simulates and replays every week (about 1 s a week). */
const MAX_WEEKS = 104;

/** `--weeks`: a whole number 1–MAX_WEEKS, or undefined after saying so (exit code 2). */
function parseWeeks(ctx: CliContext, value: string): number | undefined {
  const weeks = Number(value);
  if (/^\d+$/.test(value) && weeks >= 1 && weeks <= MAX_WEEKS) return weeks;
  ctx.err(`demo.bad_option: --weeks ${value} is not a whole number of weeks from 1 to ${MAX_WEEKS}`);
  ctx.setExitCode(2);
  return undefined;
}

/** Why the demo's data folder does not fit this start's secret, and how to start it so that it does. */
function demoMismatch(dataDir: string, err: SecretMismatchError, fromEnv: boolean, kept: boolean): string {
  const file = join(dataDir, 'demo-secret');
  const made = err.storeKeyId ? ` (fingerprint ${err.storeKeyId})` : '';
  const why = fromEnv
    ? kept
      ? `was made with its own secret in ${file}${made}, not with this KETENDATA_SECRET: start the demo without KETENDATA_SECRET`
      : `was made with another KETENDATA_SECRET${made}: start the demo with the KETENDATA_SECRET it was made with`
    : kept
      ? `was made with another secret${made} than the one in ${file} (a KETENDATA_SECRET set at its first start, probably): start the demo with that KETENDATA_SECRET`
      : `was made with KETENDATA_SECRET set${made}, and the demo then keeps no secret of its own: start the demo with that KETENDATA_SECRET set again`;
  return `keys.secret_mismatch: the demo data in ${dataDir} ${why}, or give it a new data folder (KETENDATA_DATA_DIR). Nothing was changed`;
}

/** `ketendata demo` (what `npm start` runs): simulated data and demo accounts on the embedded store, then serve. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'first look: simulated traffic, replayed weekly runs, demo accounts, portal on the embedded store',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '3000')
    .option('--weeks <n>', `weeks of traffic to simulate on first start (1–${MAX_WEEKS})`, '16')
    .option('--now <iso>', 'the moment the demo takes as now (default: the clock)')
    .option('--no-serve', 'prepare the data and accounts, then stop')
    .action(async (o: { host: string; port: string; weeks: string; now?: string; serve: boolean }) => {
      const started = Date.now();
      const dataDir = ctx.config.dataDir;
      const now = parseNow(ctx, o.now);
      if (!now) return;
      const port = parsePort(ctx, o.port);
      if (port === undefined) return;
      const weeks = parseWeeks(ctx, o.weeks);
      if (weeks === undefined) return;
      // A KETENDATA_SECRET given to the demo is held to the rule every command applies (≥ 32 characters).
      const envSecret = ctx.config.secret === undefined ? undefined : requireSecret(ctx.config);
      // A folder with files but no store is not the demo's (the deliveries of a PostgreSQL deployment, say):
      // the demo would write its own deliveries among them, and clear them after an interrupted start.
      const foreign = foreignFiles(dataDir);
      if (foreign.length > 0) {
        ctx.err(
          `demo.not_demo_store: ${dataDir} holds files the demo did not make (${foreign.slice(0, 3).join(', ')}) and no demo store: use another KETENDATA_DATA_DIR (a new or empty folder) for the demo`,
        );
        ctx.setExitCode(1);
        return;
      }
      // The demo always uses the embedded store in the data folder, never a configured server.
      let store = await openStore({ databaseUrl: undefined, dataDir });
      // A first start stopped before it was ready (Ctrl+C, a closed terminal) left a demo without accounts,
      // which would fail on its organisations already registered: it begins again.
      if ((await demoStoreState(store)) === 'incomplete') {
        const codes = await demoOrganisations(store);
        await store.close();
        clearIncompleteDemo(dataDir, codes);
        ctx.out('demo: the first start was stopped before the demo was ready; beginning again');
        store = await openStore({ databaseUrl: undefined, dataDir });
      }
      try {
        // Before the demo secret or traffic is written: a real store is not the demo's to fill.
        if ((await demoStoreState(store)) === 'other') {
          ctx.err(
            `demo.not_demo_store: ${dataDir} holds a store that is not a demo: use another KETENDATA_DATA_DIR (a new or empty folder) for the demo`,
          );
          ctx.setExitCode(1);
          return;
        }
        const kept = readDemoSecret(dataDir);
        const secret = envSecret ?? kept ?? newDemoSecret();
        const keys = deriveKeys(secret);
        // A restart under another secret than the demo was made with (KETENDATA_SECRET set one time and not
        // the other) would change every hash and leave the raw messages and second factors unreadable.
        try {
          await checkStoreSecret(store, keys);
        } catch (err) {
          if (!(err instanceof SecretMismatchError)) throw err;
          ctx.err(demoMismatch(dataDir, err, envSecret !== undefined, kept !== undefined));
          ctx.setExitCode(1);
          return;
        }
        if (envSecret === undefined && kept === undefined) writeDemoSecret(dataDir, secret);
        await bindStoreSecret(store, keys, {
          now: new Date(),
          where: storeName({ databaseUrl: undefined, dataDir }),
        });
        // A first Ctrl+C stops after the week being replayed, with a line; a second one at once. Either way the
        // next start begins the demo again.
        const stop = new AbortController();
        const signals = watchSignals((name) => {
          ctx.out(
            `demo: stopping (${name}) after the step under way; the next start begins the demo again (a second Ctrl+C stops at once)`,
          );
          stop.abort();
        });
        let demo: Awaited<ReturnType<typeof prepareDemo>>;
        try {
          demo = await prepareDemo({
            store,
            keys,
            dataDir,
            now,
            weeks,
            log: (line) => ctx.out(`demo: ${line}`),
            signal: stop.signal,
          });
        } catch (err) {
          if (!(err instanceof DemoInterrupted) || !signals.received) throw err;
          ctx.setExitCode(128 + constants.signals[signals.received]);
          return;
        } finally {
          signals.stop();
        }
        ctx.out(
          demo.created
            ? `demo: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`
            : `demo: existing data in ${dataDir}`,
        );
        const printLogins = () => {
          ctx.out(`Log in with password "${DEMO_PASSWORD}" and one of these e-mail addresses:`);
          const width = Math.max(...demo.logins.map((l) => l.email.length));
          for (const l of demo.logins)
            ctx.out(
              `  ${l.email.padEnd(width)}  ${l.organisation ? `organisation ${l.organisation}` : 'operator'}`,
            );
        };
        // Without serving too: whoever serves the data later needs the logins.
        if (!o.serve) {
          ctx.out('');
          printLogins();
          return;
        }
        // With --now the portal and the weekly runs keep that moment as now (and let time pass from it):
        // on the real clock the start-up catch-up would run every Sunday since, and retention would delete
        // the demo's deliveries.
        const offset = o.now === undefined ? 0 : now.getTime() - Date.now();
        const clock = () => new Date(Date.now() + offset);
        const server = await startPortal({
          clock,
          store,
          dataDir,
          host: o.host,
          port,
          secureCookies: false,
          keys,
          environmentLabel: 'demo',
        });
        ctx.out('');
        ctx.out(`Portal: ${server.url}/inloggen`);
        ctx.out(`API:    ${server.url}/api/v1/openapi.json`);
        printLogins();
        // Listening before it says so: a Ctrl+C right after the line would otherwise end it unannounced.
        const stopSignal = waitForSignal();
        ctx.out('Stop: Ctrl+C');
        // The weekly run goes on as in production: next Sunday 06:00 brings a new delivery.
        const scheduler = startScheduler({
          store,
          dataDir,
          organisationKey: (code) => keys.organisation(code),
          catchUpOnStart: true,
          clock,
        });
        await stopSignal;
        ctx.out('demo: stopping; requests under way finish first');
        scheduler.stop();
        await Promise.all([scheduler.idle(), server.close(STOP_GRACE_MS)]);
      } finally {
        await store.close();
      }
    });
}
