import { readFileSync, realpathSync } from 'node:fs';
import { constants, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { requireSecret } from '../config/config.js';
import { count } from '../domain/plural.js';
import { deriveKeys, type Keys } from '../pseudonymise/keys.js';
import { rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { describePostgres, openStore, type Store } from '../store/open.js';
import {
  type CarriedOver,
  carryOver,
  checkFresh,
  holdings,
  type OldStoreOptions,
  oldStoreSecret,
  openOldStore,
  ReprocessRefused,
  type ReprocessSummary,
  reprocessExchanges,
  sameStore,
} from '../usecases/reprocess.js';
import { bindStoreSecret, checkStoreSecret, secretFingerprint, storeName } from '../usecases/store-secret.js';
import { type CliContext, parseNow, positiveWholeNumber } from './command.js';

interface Opts {
  previousSecretFile: string;
  fromDataDir?: string;
  fromDatabaseUrl?: string;
  batchSize: number;
  now?: string;
  progress: boolean;
}

/** As a shell reports a process ended by the signal: 128 + its number (SIGINT 130, SIGTERM 143). */
const exitCodeOf = (signal: NodeJS.Signals): number => 128 + constants.signals[signal];

/** The secrets of a `--previous-secret-file`, one a line, as `raw-rekey` reads them; undefined after saying why. */
function readSecrets(ctx: CliContext, file: string): Keys[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    ctx.err(`keys.file_unreadable: ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    ctx.setExitCode(1);
    return undefined;
  }
  const secrets = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!secrets.length) throw new Error(`keys.no_secret: ${file} holds no secret`);
  return secrets.map((s) => deriveKeys(s));
}

/** The old store as its options name it (`the old store in …`), and as the new store's ingest run names it. */
function oldNames(o: OldStoreOptions): { where: string; label: string } {
  const where = storeName(o).replace(/^the store/, 'the old store');
  if (o.databaseUrl) return { where, label: `reprocess:postgresql://${describePostgres(o.databaseUrl)}` };
  let dir = o.dataDir;
  try {
    dir = realpathSync(dir);
  } catch {
    // Missing: openOldStore says so.
  }
  return { where, label: `reprocess:${dir}` };
}

function carriedLine(c: CarriedOver, keys: Keys): string {
  return `carried over ${count(c.organisations, 'organisation')} (${count(c.members, 'member')}), ${count(c.users, 'user')} (${count(c.totpResealed, 'TOTP secret')} sealed under key ${keys.totpKeyId}), ${count(c.tokens, 'API token')}, ${count(c.auditEntries, 'audit log entry', 'audit log entries')}`;
}

function summaryLines(s: ReprocessSummary): string[] {
  const lines = [
    `re-processed ${count(s.received, 'exchange')} of ${s.total}: stored ${s.stored} (${count(s.conflicts, 'conflict')}), duplicates ${s.duplicates}, quarantined ${s.quarantined}, already re-processed ${s.skipped}`,
  ];
  for (const [code, n] of Object.entries(s.quarantinedByReason).sort())
    lines.push(`  quarantined ${code}: ${n}`);
  if (s.dismissed)
    lines.push(
      `  dismissed ${count(s.dismissed, 'quarantine item')} as in the old store${s.dismissedWithoutNote ? ` (${s.dismissedWithoutNote} without a note: none in the old audit log)` : ', with their notes'}`,
    );
  if (s.settled) lines.push(`  settled ${count(s.settled, 'quarantine item')} as in the old store`);
  return lines;
}

/**
 * `ketendata reprocess`: step 3 of a rotation after a leaked master secret (docs/keys.md, "Rotation"): every
 * exchange of the old store, from its raw XML, into this fresh store under the current KETENDATA_SECRET.
 */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('reprocess')
    .description(
      'ingest every exchange of an old store again, from its raw XML, into this fresh store under the current KETENDATA_SECRET, and carry over its organisations, users, API tokens and audit log (rotation after a leaked secret, docs/keys.md)',
    )
    .requiredOption(
      '--previous-secret-file <file>',
      "file with the old store's secret (one per line; never on the command line) (required)",
    )
    .option('--from-data-dir <folder>', 'the old store: its data folder (SQLite)')
    .option(
      '--from-database-url <url>',
      'the old store: its PostgreSQL URL (leave the password out of it: PGPASSWORD or ~/.pgpass)',
    )
    .option(
      '--batch-size <n>',
      'exchanges per transaction (at most 10000)',
      positiveWholeNumber('reprocess.bad_option', '--batch-size', 10_000),
      500,
    )
    .option('--now <iso>', 'moment of the run (ISO-8601); default now')
    .option('--no-progress', 'show no progress')
    .action(async (opts: Opts) => {
      if ((opts.fromDataDir === undefined) === (opts.fromDatabaseUrl === undefined)) {
        ctx.err(
          'reprocess.bad_option: name the old store with --from-data-dir <folder> (SQLite) or --from-database-url <url> (PostgreSQL), one of them',
        );
        ctx.setExitCode(2);
        return;
      }
      if (opts.fromDatabaseUrl !== undefined && !/^postgres(ql)?:\/\//i.test(opts.fromDatabaseUrl)) {
        ctx.err('reprocess.bad_option: --from-database-url must be a postgres:// or postgresql:// URL');
        ctx.setExitCode(2);
        return;
      }
      const at = parseNow(ctx, opts.now);
      if (!at) return;
      const now = opts.now === undefined ? () => new Date() : () => at;
      const keys = deriveKeys(requireSecret(ctx.config));
      const previous = readSecrets(ctx, opts.previousSecretFile);
      if (!previous) return;
      const oldOptions: OldStoreOptions = opts.fromDatabaseUrl
        ? { databaseUrl: opts.fromDatabaseUrl, dataDir: ctx.config.dataDir }
        : { databaseUrl: undefined, dataDir: resolve(opts.fromDataDir!) };
      const old = oldNames(oldOptions);
      const where = storeName(ctx.config);
      const started = Date.now();
      const stores: Store[] = [];
      try {
        const oldStore = await openOldStore(oldOptions, old.where);
        stores.push(oldStore);
        const store = await openStore({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir });
        stores.push(store);
        // Every refusal before anything is written (the old store is only ever read).
        if (await sameStore(oldStore, oldOptions, store, ctx.config))
          throw new ReprocessRefused(
            'reprocess.same_store',
            `${old.where} is the store KETENDATA_DATABASE_URL / KETENDATA_DATA_DIR name: re-process into a fresh store (an empty data folder or a new database) and keep the old one as it is until the new one is verified (docs/keys.md, "Rotation"). Nothing was written`,
          );
        const oldKeys = await oldStoreSecret(oldStore, previous, keys, old.where);
        await checkStoreSecret(store, keys, { where });
        await checkFresh(oldStore, store, old.label, where);
        await bindStoreSecret(store, keys, { now: now(), where });
        if (opts.progress)
          ctx.err(
            `reprocess: ${old.where} (fingerprint ${secretFingerprint(oldKeys)}) into ${where} (fingerprint ${secretFingerprint(keys)})`,
          );
        // Right after a change of canonicalisation; after a leak it would carry the leaked secret on.
        if (secretFingerprint(oldKeys) === secretFingerprint(keys))
          ctx.err(
            `reprocess.same_secret: warning: KETENDATA_SECRET is the old store's own secret (fingerprint ${secretFingerprint(keys)}): the new store keeps its pseudonyms. Right to make them consistent after a change of canonicalisation; after a leaked secret, stop, set KETENDATA_SECRET to a new secret and run again into an empty store (docs/keys.md, "Rotation")`,
          );
        const carried = await carryOver(
          oldStore,
          store,
          keys,
          rawKeyRing(...previous.map((k) => k.totpEncryption)),
        );
        ctx.out(carriedLine(carried, keys));
        if (carried.totpUnreadable.length) {
          ctx.err(
            `accounts.totp_key_unknown: the TOTP secret of ${count(carried.totpUnreadable.length, 'user')} (id ${carried.totpUnreadable.join(', ')}) could not be opened with the previous secrets: copied as it was; give them a fresh start with users reset-second-factor`,
          );
          ctx.setExitCode(1);
        }
        // As ingest: the first SIGINT/SIGTERM stops after the batch being written, a second at once.
        const stop = new AbortController();
        let signalled: NodeJS.Signals | undefined;
        const onSignal = (signal: NodeJS.Signals) => {
          if (signalled) process.exit(exitCodeOf(signal));
          signalled = signal;
          stop.abort();
          ctx.err('reprocess: stopping after the batch being written; press Ctrl+C again to stop at once');
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        let lastLine = 0;
        const summary = await reprocessExchanges(
          {
            old: oldStore,
            oldRawRing: rawKeyRing(...previous.map((k) => k.rawEncryption)),
            store,
            keys,
            now,
            actor: `cli:${userInfo().username}`,
            label: old.label,
          },
          {
            batchSize: opts.batchSize,
            signal: stop.signal,
            onProgress: (done, s) => {
              if (opts.progress && (done - lastLine >= 10_000 || done === s.total)) {
                lastLine = done;
                ctx.err(
                  `reprocess: ${done}/${s.total} exchanges, stored ${s.stored}, duplicates ${s.duplicates}, quarantined ${s.quarantined}, already re-processed ${s.skipped}`,
                );
              }
            },
          },
        ).finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        });
        for (const line of summaryLines(summary)) ctx.out(line);
        if (signalled) {
          ctx.err(
            `reprocess: interrupted: ${count(summary.received, 'exchange')} done, the rest not read; run the same command again to continue (reprocess.interrupted)`,
          );
          ctx.setExitCode(exitCodeOf(signalled));
          return;
        }
        const before = await holdings(oldStore);
        const after = await holdings(store);
        const text = (h: typeof before) =>
          `${count(h.messages, 'message')}, ${count(h.exchanges, 'exchange')}, ${count(h.quarantine, 'quarantine item')}`;
        ctx.out(`old store: ${text(before)}; new store: ${text(after)}`);
        ctx.out(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
        if (before.messages !== after.messages || before.exchanges !== after.exchanges)
          ctx.err(
            `reprocess.counts_differ: warning: the new store holds ${after.messages} messages and ${after.exchanges} exchanges, the old ${before.messages} and ${before.exchanges}: messages the canonical values now make one (docs/keys.md, "Changes to canonicalisation"), or passages of one hub id whose own bytes the old store did not keep; check before step 4`,
          );
        ctx.out(
          'next: verify the new store (quarantine list --all, organisations list, users list, a delivery with deliver --now); the first weekly delivery of every organisation re-delivers its whole history in the new hashes. Then step 4: run the service on this store with this KETENDATA_SECRET, and destroy the old secret, the old store and its backups (docs/keys.md, "Rotation")',
        );
      } catch (err) {
        if (!(err instanceof ReprocessRefused)) throw err;
        ctx.err(err.message);
        ctx.setExitCode(err.exitCode);
      } finally {
        for (const s of stores.reverse()) await s.close();
      }
    });
}
