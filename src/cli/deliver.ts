import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { demoSecret, requireSecret } from '../config/config.js';
import { count } from '../domain/plural.js';
import type { Keys } from '../pseudonymise/keys.js';
import { openStore, type Store } from '../store/open.js';
import { type DeliveryDeps, runDue } from '../usecases/deliver.js';
import { DeliveryError } from '../usecases/deliveries-errors.js';
import { openKeyedStore } from '../usecases/store-secret.js';
import { type CliContext, parseNow, realNow } from './command.js';

/** Who a CLI action is recorded as in the audit log. */
export function cliActor(): string {
  return `cli:${userInfo().username}`;
}

/**
 * Opens the store for a command that takes `--now`, runs `fn` and closes the store. A DeliveryError (an
 * unknown organisation, a delivery not theirs, …) is the user's mistake: its message and exit code 1, no trace.
 */
export async function withStoreAt(
  ctx: CliContext,
  now: string | undefined,
  fn: (store: Store, at: Date) => Promise<void>,
): Promise<void> {
  const at = parseNow(ctx, now);
  if (!at) return;
  const store = await openStore({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir });
  try {
    await fn(store, at);
  } catch (err) {
    if (!(err instanceof DeliveryError)) throw err;
    ctx.err(err.message);
    ctx.setExitCode(1);
  } finally {
    await store.close();
  }
}

/** The master secret; the demo's kept secret when the environment sets none and the data folder has one. */
export function cliSecret(ctx: CliContext): string {
  if (!ctx.config.secret && existsSync(join(ctx.config.dataDir, 'demo-secret')))
    return demoSecret(ctx.config.dataDir);
  return requireSecret(ctx.config);
}

export function deliveryDeps(ctx: CliContext, store: Store, keys: Keys): DeliveryDeps {
  return {
    store,
    dataDir: ctx.config.dataDir,
    organisationKey: (code) => keys.organisation(code),
  };
}

/**
 * A `--now` after the real clock is refused (`deliver.future_now`, exit code 2) unless `--allow-future`: it
 * would make the weeklies due up to then now, with only the data stored so far, mark those Sundays done (the
 * real runs make nothing until then) and delete files whose 60 days end before it. Only a replay store goes
 * ahead of the clock on purpose (the README's walk-through); a production store must not by a typo.
 */
function futureNowRefused(
  ctx: CliContext,
  value: string | undefined,
  at: Date,
  allowFuture: boolean,
): boolean {
  const clock = realNow(ctx);
  if (value === undefined || allowFuture || at.getTime() <= clock.getTime()) return false;
  ctx.err(
    `deliver: --now ${value} is after the real clock (${clock.toISOString()}): it would make the weekly deliveries due up to that moment now, with only the data stored so far, mark those Sundays done, so the real runs make none before it, and delete files whose 60 days end before it. Nothing was run: check the date, or pass --allow-future on a replay store (deliver.future_now)`,
  );
  ctx.setExitCode(2);
  return true;
}

/** `ketendata deliver [--now]`: weekly deliveries, history requests and retention due at that moment. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('deliver')
    .description(
      'run what is due now: weekly deliveries (Sundays 06:00 Europe/Amsterdam), history requests, retention',
    )
    .option('--now <iso>', 'run as if it were this moment (replay)')
    .option('--retry-now', 'try failed slots at once instead of after their wait (after a fix)')
    .option(
      '--allow-future',
      'take a --now after the real clock, on a replay store (every Sunday up to it is delivered and done, retention runs as of then)',
    )
    .action(async (o: { now?: string; retryNow?: boolean; allowFuture?: boolean }) => {
      const now = parseNow(ctx, o.now);
      if (!now) return;
      // Before the store is opened: the refusal leaves it as it was.
      if (futureNowRefused(ctx, o.now, now, o.allowFuture ?? false)) return;
      const { store, keys } = await openKeyedStore(ctx.config, cliSecret(ctx));
      try {
        // Each line as the delivery is made: a run that fails later has still said what it made.
        const report = await runDue(deliveryDeps(ctx, store, keys), now, {
          retryNow: o.retryNow ?? false,
          onMade: (m) =>
            ctx.out(
              `made ${m.kind} delivery ${m.id} for ${m.organisation} (slot ${m.slot}, ${count(m.messages, 'message')})`,
            ),
          // Said when done, before the deliveries it changes the Koppeltabel of.
          onReplanned: (r) => ctx.out(`links replanned: ${r.added} added, ${r.lapsed} lapsed`),
        });
        // The deliveries went on without it; until it succeeds, cron's mail says so.
        if (report.replanError)
          ctx.err(`links replan failed: ${report.replanError}; the next run tries again`);
        for (const f of report.failed) {
          ctx.err(
            `${f.kind} delivery for ${f.organisation} (slot ${f.slot}) failed: ${f.reason}; a later run tries again (after a fix, deliver --retry-now tries it at once)`,
          );
        }
        // Not done: the Sunday and the ones after it wait for that worker (exit code 1, so cron says so).
        for (const b of report.busy)
          ctx.err(
            `slot ${b.slot} is being run by another worker (${b.worker}), whose claim holds until ${b.leaseUntil} unless it renews it; stopped there, a later run takes up what is left`,
          );
        // Still owed: as much a failure for cron's mail as the run where it first failed.
        for (const w of report.waiting)
          ctx.err(
            `slot ${w.slot} failed before and waits for its retry at ${w.retryAfter} (--retry-now to try it now)`,
          );
        if (
          report.failed.length > 0 ||
          report.waiting.length > 0 ||
          report.busy.length > 0 ||
          report.replanError !== null
        )
          ctx.setExitCode(1);
        ctx.out(
          `${count(report.made.length, 'delivery', 'deliveries')} made, ${count(report.expired, 'expired delivery', 'expired deliveries')} deleted`,
        );
        if (report.indicators > 0) ctx.out(`${count(report.indicators, 'dashboard snapshot')} refreshed`);
        if (report.leftovers > 0)
          ctx.out(
            `${count(report.leftovers, 'leftover')} removed (temp folders and unlisted ZIPs of interrupted deliveries, unlisted ZIPs older than 67 days)`,
          );
      } finally {
        await store.close();
      }
    });
}
