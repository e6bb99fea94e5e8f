import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { requireSecret } from '../config/config.js';
import { count } from '../domain/plural.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { openStore } from '../store/open.js';
import { reencryptTotpSecrets } from '../usecases/accounts.js';
import {
  defaultParseWorkers,
  formatSummary,
  ingestSource,
  summaryWarnings,
} from '../usecases/ingest-exchanges.js';
import { type RekeySplit, reencryptRawMessages, rekeyWouldSplit } from '../usecases/ingest-rekey.js';
import { openSource } from '../usecases/ingest-sources.js';
import { checkRekeySecrets, finishRekey, openKeyedStore, storeName } from '../usecases/store-secret.js';
import { type CliContext, parseNow, positiveWholeNumber } from './command.js';
import { itemLines } from './item-lines.js';

/** What a store moved to the new secret holds, for the refusal before the move and the warning after it. */
const heldText = (s: RekeySplit): string =>
  `${count(s.messages, 'message')} and ${count(s.exchanges, 'exchange')} pseudonymised with the old secret${s.from ? ` (fingerprint ${s.from})` : ''}`;

/** As a shell reports a process ended by the signal: 128 + its number (SIGINT 130, SIGTERM 143). */
const exitCodeOf = (signal: NodeJS.Signals): number => 128 + constants.signals[signal];

interface Opts {
  batchSize: number;
  workers?: number;
  now?: string;
  progress: boolean;
  withoutManifest?: boolean;
}

/**
 * `ketendata ingest <folder|zip|manifest>`: exchanges into the store, each quarantined one and each conflict
 * named on stderr as it is written, and a summary that accounts for each one.
 */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('ingest')
    .description(
      'read exchanges (a folder with manifest.ndjson, a ZIP of one, a manifest, or a folder of .xml files) into the store',
    )
    .argument('<source>', 'folder, .zip or manifest.ndjson')
    .option(
      '--batch-size <n>',
      'exchanges per transaction',
      positiveWholeNumber('ingest.bad_option', '--batch-size'),
      1000,
    )
    .option(
      '--workers <n>',
      'parse threads beside the main thread (default: cores − 1, at most 3, for large inputs)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0)
          throw new InvalidArgumentError('ingest.bad_option: --workers must be a whole number');
        return n;
      },
    )
    .option('--now <iso>', 'moment of the run (ISO-8601); default now')
    .option(
      '--without-manifest',
      'read a folder or ZIP by its .xml files also when it holds what looks like a manifest (misnamed, or in subfolders)',
    )
    .option('--no-progress', 'show no progress')
    .action(async (path: string, opts: Opts) => {
      const at = parseNow(ctx, opts.now);
      if (!at) return;
      // Without --now every batch is stamped with the clock at its own moment.
      const now = opts.now === undefined ? () => new Date() : () => at;
      const { store, keys } = await openKeyedStore(ctx.config, requireSecret(ctx.config));
      try {
        const source = await openSource(path, { withoutManifest: opts.withoutManifest === true });
        const tty = opts.progress && process.stderr.isTTY;
        const bar = tty
          ? new cliProgress.SingleBar(
              {
                format:
                  'ingest [{bar}] {value}/{total} | stored {stored} | duplicates {duplicates} | quarantined {quarantined}',
                stream: process.stderr,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
        // Started before the first batch, so a long first batch shows the bar already.
        bar?.start(source.total ?? 0, 0, { stored: 0, duplicates: 0, quarantined: 0 });
        let lastLine = 0;
        // Not progress: shown with --no-progress too. Under a bar, the line the bar is on is cleared first;
        // the bar draws itself again below at its next update.
        const note = (line: string) => {
          if (bar) process.stderr.write('\r\x1b[K');
          ctx.err(line);
        };
        const items = itemLines(note);
        // The first SIGINT/SIGTERM stops after the batch being written (one transaction each, so a re-run
        // continues); a second one ends the process at once, which rolls back the batch being written.
        const stop = new AbortController();
        let signalled: NodeJS.Signals | undefined;
        const onSignal = (signal: NodeJS.Signals) => {
          if (signalled) {
            bar?.stop();
            process.exit(exitCodeOf(signal));
          }
          signalled = signal;
          stop.abort();
          note('ingest: stopping after the batch being written; press Ctrl+C again to stop at once');
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const summary = await ingestSource({ store, keys, now }, source, {
          signal: stop.signal,
          onQuarantined: items.onQuarantined,
          onConflict: items.onConflict,
          batchSize: opts.batchSize,
          workers: opts.workers ?? defaultParseWorkers(source.total),
          onProgress: (done, s) => {
            const payload = { stored: s.stored, duplicates: s.duplicates, quarantined: s.quarantined };
            if (bar) {
              bar.setTotal(Math.max(source.total ?? done, done));
              bar.update(done, payload);
            } else if (opts.progress && (done - lastLine >= 10_000 || done === source.total)) {
              lastLine = done;
              ctx.err(
                `ingest: ${done}${source.total ? `/${source.total}` : ''} exchanges, stored ${s.stored}, duplicates ${s.duplicates}, quarantined ${s.quarantined}`,
              );
            }
          },
        }).finally(() => {
          bar?.stop();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        });
        items.end();
        for (const line of formatSummary(summary)) ctx.out(line);
        if (signalled) {
          ctx.err(
            `ingest: interrupted: ${count(summary.received, 'exchange')} done, the rest not read; run the same command again to continue (ingest.interrupted)`,
          );
          ctx.setExitCode(exitCodeOf(signalled));
        } else for (const line of summaryWarnings(summary)) ctx.err(line);
      } finally {
        await store.close();
      }
    });

  program
    .command('raw-rekey')
    .description(
      "re-encrypt the kept raw messages and the users' TOTP secrets under the keys of the current KETENDATA_SECRET (key rotation, docs/keys.md)",
    )
    .requiredOption(
      '--previous-secret-file <file>',
      'file with the previous secret (one per line; never on the command line) (required)',
    )
    .option(
      '--new-pseudonyms',
      'move a store that holds messages to the new secret anyway, accepting that re-ingested messages are stored again, new messages do not link with the old and organisations\' hashes change (docs/keys.md, "Rotation")',
    )
    .action(async (opts: { previousSecretFile: string; newPseudonyms?: boolean }) => {
      const keys = deriveKeys(requireSecret(ctx.config));
      let text: string;
      try {
        text = readFileSync(opts.previousSecretFile, 'utf8');
      } catch (err) {
        ctx.err(
          `keys.file_unreadable: ${opts.previousSecretFile}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        );
        ctx.setExitCode(1);
        return;
      }
      const previous = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      if (!previous.length) throw new Error(`keys.no_secret: ${opts.previousSecretFile} holds no secret`);
      const previousKeys = previous.map((secret) => deriveKeys(secret));
      const store = await openStore({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir });
      try {
        // The store must be one of these secrets' before anything is re-encrypted (the rotation's old one,
        // or the current one when run again).
        await checkRekeySecrets(store, keys, previousKeys, { where: storeName(ctx.config) });
        // Moving a store with data to the new secret splits it in two (docs/keys.md, "Rotation"): only on
        // purpose, and decided before anything is re-encrypted.
        const split = await rekeyWouldSplit(store, keys);
        if (split && !opts.newPseudonyms) {
          ctx.err(
            `keys.rekey_would_split: ${storeName(ctx.config)} holds ${heldText(split)}: moving it to the new secret (fingerprint ${split.to}) makes re-ingested messages count as new (stored twice), new messages not link with the old, and organisations' hashes change. Nothing was re-encrypted. For a suspected leak see docs/keys.md, "Rotation"; to move it anyway, run again with --new-pseudonyms`,
          );
          ctx.setExitCode(2);
          return;
        }
        const r = await reencryptRawMessages(
          store,
          keys,
          previousKeys.map((k) => k.rawEncryption),
        );
        ctx.out(`re-encrypted ${count(r.reencrypted, 'raw message')} under key ${keys.rawKeyId}`);
        if (r.unreadable) {
          ctx.err(
            `keys.unknown_raw_key: ${count(r.unreadable, 'raw message')} under ${r.unreadableKeyIds.length === 1 ? 'key' : 'keys'} ${r.unreadableKeyIds.join(', ')} left as they are`,
          );
          ctx.setExitCode(1);
        }
        // The users' second factors too: without this, rotating the secret locks them out.
        const t = await reencryptTotpSecrets(
          store.db,
          keys,
          previousKeys.map((k) => k.totpEncryption),
        );
        ctx.out(
          `re-encrypted ${count(t.reencrypted, 'TOTP secret')} under key ${keys.totpKeyId}${t.sealed ? ` (and encrypted ${count(t.sealed, 'TOTP secret')} stored in clear)` : ''}`,
        );
        if (t.unreadable) {
          ctx.err(
            `accounts.totp_key_unknown: ${count(t.unreadable, 'TOTP secret')} under ${t.unreadableKeyIds.length === 1 ? 'key' : 'keys'} ${t.unreadableKeyIds.join(', ')} left as they are`,
          );
          ctx.setExitCode(1);
        }
        for (const why of t.damaged) {
          ctx.err(`${why}: left as it is (users reset-second-factor gives that user a fresh start)`);
          ctx.setExitCode(1);
        }
        // Last, and only when nothing readable was left under a previous secret: from here on the store
        // is the current secret's, and every other command checks for that one.
        const b = await finishRekey(store, keys, previousKeys, new Date());
        if (b.left > 0) {
          ctx.err(
            `keys.rekey_incomplete: ${count(b.left, 'raw message')} written under a previous secret while this ran (is an ingest still running?): stop it and run raw-rekey again; the store stays bound to ${b.from ? `fingerprint ${b.from}` : 'no secret yet'}`,
          );
          ctx.setExitCode(1);
        } else if (b.from !== b.to) {
          ctx.out(
            `store bound to the current KETENDATA_SECRET (fingerprint ${b.from ? `${b.from} → ` : ''}${b.to}): every command now needs this secret`,
          );
          if (split)
            ctx.err(
              `keys.new_pseudonyms: warning: ${storeName(ctx.config)} still holds ${heldText(split)}: from now on re-ingested messages count as new (stored twice), new messages do not link with the old, and organisations' hashes change (docs/keys.md, "Rotation")`,
            );
        }
      } finally {
        await store.close();
      }
    });
}
