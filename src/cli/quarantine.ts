import { rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { requireSecret } from '../config/config.js';
import { count } from '../domain/plural.js';
import { openStore } from '../store/open.js';
import { InputProblem, readRegularFile, systemErrorText } from '../usecases/ingest-sources.js';
import {
  dismissQuarantine,
  exportQuarantined,
  listQuarantine,
  reasonDetail,
  retryQuarantine,
} from '../usecases/quarantine.js';
import { openKeyedStore } from '../usecases/store-secret.js';
import { type CliContext, parseNow } from './command.js';
import { cliActor } from './deliver.js';
import { itemLines, oneLine } from './item-lines.js';

/** The ids given, or undefined (after an error message, exit code 2) when one is not a quarantine id. */
function ids(ctx: CliContext, values: string[]): number[] | undefined {
  const bad = values.filter((v) => !/^[1-9]\d*$/.test(v));
  if (bad.length === 0) return values.map(Number);
  for (const v of bad) ctx.err(`quarantine.bad_option: "${v}" is not a quarantine id`);
  ctx.setExitCode(2);
  return undefined;
}

/** Why a `--file` cannot be used: not a regular file, too large, or the system's error code (ENOENT). */
function replacementProblem(err: unknown): string {
  if (err instanceof InputProblem) return err.reason;
  if ((err as NodeJS.ErrnoException).code === 'EFBIG')
    return (err as Error).message.replace(/^ingest\.too_large: .*? has /s, 'has ');
  return (err as NodeJS.ErrnoException).code ?? systemErrorText(err);
}

/** The export's file could not be written (exists already, no such folder, no permission). */
class OutUnwritable extends Error {
  constructor(readonly reason: unknown) {
    super('the file could not be written');
  }
}

/** `ketendata quarantine list|retry`: exchanges that could not be stored, with their reason; retried after a fix. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('quarantine').description('exchanges that could not be stored');
  cmd
    .command('list')
    .description('list the quarantine (open items only, unless --all)')
    .option('--all', 'resolved and dismissed items too')
    .option('--json', 'as JSON lines')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      const store = await openStore({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir });
      try {
        const entries = await listQuarantine(store, { all: opts.all });
        for (const e of entries) {
          if (opts.json) ctx.out(JSON.stringify(e));
          // Control characters (a tab or line break in a file name) written `\xNN`: one record per line.
          else
            ctx.out(
              [e.id, e.status, e.reasonCode, e.hubId ?? '-', e.source, e.ingestSource ?? '-', reasonDetail(e)]
                .map((field) => oneLine(String(field)))
                .join('\t'),
            );
        }
        if (!opts.json) ctx.out(count(entries.length, opts.all ? 'item' : 'open item'));
      } finally {
        await store.close();
      }
    });
  cmd
    .command('retry')
    .description('process items again (every open item, or the ones named)')
    .argument('[ids...]', 'quarantine ids')
    .option('--file <xml>', 'corrected message, for exactly one item')
    .option(
      '--other-identity',
      "take a --file whose message type, Afzender, Ontvanger or Identificatie differ from the item's (a correction of those)",
    )
    .option('--now <iso>', 'moment of the run (ISO-8601)')
    .action(async (values: string[], opts: { file?: string; otherIdentity?: boolean; now?: string }) => {
      const at = parseNow(ctx, opts.now);
      if (!at) return;
      // Without --now each retried item takes the clock at its own moment, as before.
      const now = opts.now === undefined ? undefined : at;
      const only = values.length ? ids(ctx, values) : undefined;
      if (values.length && !only) return;
      if (opts.file && only?.length !== 1) {
        ctx.err('quarantine.bad_option: --file replaces exactly one item: give its id');
        ctx.setExitCode(2);
        return;
      }
      let replacement: Buffer | undefined;
      if (opts.file) {
        try {
          // As ingest reads a file: a regular file of at most 20 MB (a FIFO would wait forever, a device
          // never end).
          replacement = readRegularFile(opts.file);
        } catch (err) {
          ctx.err(`quarantine.file_unreadable: ${opts.file}: ${replacementProblem(err)}`);
          ctx.setExitCode(1);
          return;
        }
      }
      const { store, keys } = await openKeyedStore(ctx.config, requireSecret(ctx.config));
      try {
        const items = itemLines(ctx.err);
        const r = await retryQuarantine({ store, keys, now: () => now ?? new Date() }, only, {
          ...(replacement ? { replacement } : {}),
          otherIdentity: opts.otherIdentity === true,
          onQuarantined: items.onQuarantined,
          onConflict: items.onConflict,
        });
        items.end();
        if (r.otherMessage) {
          ctx.err(
            `quarantine.not_same_message: ${opts.file} is another message (${r.otherMessage.file}) than item ${only?.[0]} (${r.otherMessage.item}): nothing was changed. A corrected message keeps the type, sender, receiver and Identificatie of the quarantined one (where those were valid): if this file corrects them, add --other-identity; a different message is ingested as a new exchange, and the item dismissed with a note`,
          );
          ctx.setExitCode(1);
          return;
        }
        ctx.out(
          `tried ${r.tried}, resolved ${r.resolved} (stored ${r.stored}, duplicates ${r.duplicates}), still quarantined ${r.quarantined}`,
        );
        for (const [code, n] of Object.entries(r.quarantinedByReason).sort())
          ctx.out(`  quarantined ${code}: ${n}`);
        // The usual first try after fixing a file in place: say why it changed nothing.
        if (r.quarantined > 0 && !replacement)
          ctx.out(
            '  retry reads the message as it was received, not the file on disk: give a corrected file with --file <path> (one item), or ingest the fixed source again',
          );
        if (r.notRetryable.length)
          ctx.out(
            `not retryable (input problem, re-ingest the source after fixing it): ${r.notRetryable.join(', ')}`,
          );
        if (r.unknownIds.length) {
          ctx.err(`quarantine.unknown_id: no open quarantine item ${r.unknownIds.join(', ')}`);
          ctx.setExitCode(1);
        }
      } finally {
        await store.close();
      }
    });
  cmd
    .command('export')
    .description('write the message of an item as it was received, to see what is wrong and correct it')
    .argument('<id>', 'quarantine id')
    .requiredOption('--out <file>', 'file to write (a new one: personal data in clear, readable by you only)')
    .option('--now <iso>', 'moment of the action (ISO-8601)')
    .action(async (value: string, opts: { out: string; now?: string }) => {
      const now = parseNow(ctx, opts.now);
      if (!now) return;
      const only = ids(ctx, [value]);
      if (!only) return;
      const id = only[0] as number;
      const { store, keys } = await openKeyedStore(ctx.config, requireSecret(ctx.config));
      try {
        let bytes = 0;
        let item: Awaited<ReturnType<typeof exportQuarantined>>;
        try {
          item = await exportQuarantined(
            { store, keys },
            {
              id,
              actor: cliActor(),
              now,
              write: (message) => {
                try {
                  // A new file only: never over another one, and the personal data readable by its owner.
                  writeFileSync(opts.out, message, { flag: 'wx', mode: 0o600 });
                } catch (err) {
                  // Created but not written whole (a full disk): no part of the message is left behind.
                  if ((err as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(opts.out, { force: true });
                  throw new OutUnwritable(err);
                }
                bytes = message.length;
              },
            },
          );
        } catch (err) {
          if (!(err instanceof OutUnwritable)) throw err;
          ctx.err(`quarantine.out_unwritable: ${opts.out}: ${systemErrorText(err.reason)}`);
          ctx.setExitCode(1);
          return;
        }
        if (!item) {
          ctx.err(`quarantine.unknown_id: no quarantine item ${id}`);
          ctx.setExitCode(1);
          return;
        }
        if (!item.exported) {
          ctx.err(
            `quarantine.no_message: item ${id} (${item.reasonCode}) holds no message: ${item.source} was not read; fix the source and ingest it again`,
          );
          ctx.setExitCode(1);
          return;
        }
        ctx.out(
          `wrote ${opts.out}: item ${id}, ${item.source}, ${count(bytes, 'byte')} as received; once corrected: ketendata quarantine retry ${id} --file <corrected>`,
        );
      } finally {
        await store.close();
      }
    });
  cmd
    .command('dismiss')
    .description('close open items without storing them, with a note why (kept, listed with --all)')
    .argument('<ids...>', 'quarantine ids')
    // Not commander's required option: a missing note gets the same code as a blank one.
    .option('--note <text>', 'why, e.g. "sender delivered a corrected message" (required)')
    .option('--now <iso>', 'moment of the action (ISO-8601)')
    .action(async (values: string[], opts: { note?: string; now?: string }) => {
      const now = parseNow(ctx, opts.now);
      if (!now) return;
      const only = ids(ctx, values);
      if (!only) return;
      const note = opts.note?.trim() ?? '';
      if (!note) {
        ctx.err('quarantine.no_note: say why the items are closed (--note)');
        ctx.setExitCode(2);
        return;
      }
      const store = await openStore({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir });
      try {
        const r = await dismissQuarantine(store, {
          ids: only,
          note: opts.note ?? note,
          actor: cliActor(),
          now,
        });
        ctx.out(`dismissed ${r.dismissed.length}${r.dismissed.length ? `: ${r.dismissed.join(', ')}` : ''}`);
        if (r.dismissed.length && r.note !== note)
          ctx.out(
            `note stored as: ${oneLine(r.note)} (runs of 9 or more digits, and a BSN written in groups, are masked; words of more than 300 characters cut)`,
          );
        if (r.notOpen.length) {
          ctx.err(`quarantine.unknown_id: no open quarantine item ${r.notOpen.join(', ')}`);
          ctx.setExitCode(1);
        }
      } finally {
        await store.close();
      }
    });
}
