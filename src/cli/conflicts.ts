import type { Command } from 'commander';
import { count } from '../domain/plural.js';
import { openStore } from '../store/open.js';
import { conflictingMessages, listConflicts } from '../usecases/conflicts.js';
import { type CliContext, knownGemeenten, parseGemeenten } from './command.js';
import { oneLine } from './item-lines.js';

/** `ketendata conflicts`: the messages that came again with other content, every version with its file. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('conflicts')
    .description(
      'list the messages stored in more than one version (same message key, other content), tab-separated: ' +
        'message number, seq, code, gemeente, Identificatie, Dagtekening, Afzender, Ontvanger, BerichtId, ' +
        'first passage, stored at, passages, file, read from; the last version of a message is the latest',
    )
    .option('--gemeente <codes>', 'only these municipalities (CBS codes, comma-separated)')
    .option('--json', 'as JSON lines')
    .action(async (opts: { gemeente?: string; json?: boolean }) => {
      const gemeenten = parseGemeenten(ctx, 'conflicts', opts.gemeente);
      if (!gemeenten) return;
      const store = await openStore(ctx.config);
      try {
        if (!(await knownGemeenten(ctx, 'conflicts', store, gemeenten))) return;
        const versions = await listConflicts(store, gemeenten.length ? { gemeenten } : {});
        for (const v of versions) {
          if (opts.json) ctx.out(JSON.stringify(v));
          else
            ctx.out(
              [
                v.group,
                v.seq,
                v.code,
                v.gemeente,
                v.identificatie,
                v.dagtekening,
                v.afzender,
                v.ontvanger,
                v.berichtId,
                v.firstMoment,
                v.ingestedAt,
                v.passages,
                v.source ?? '-',
                v.ingestSource ?? '-',
              ]
                // A file name or Identificatie with a tab or line break in it stays one field of one line.
                .map((field) => oneLine(String(field)))
                .join('\t'),
            );
        }
        if (!opts.json)
          ctx.out(
            `${count(versions.length, 'version')} of ${count(conflictingMessages(versions), 'message')}`,
          );
      } finally {
        await store.close();
      }
    });
}
