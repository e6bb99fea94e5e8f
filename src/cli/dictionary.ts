import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { count } from '../domain/plural.js';
import { DEFAULT_DELIMITER } from '../export/csv.js';
import { dataDictionary } from '../usecases/deliver-dictionary.js';
import { type CliContext, outFolder, parseDelimiter } from './command.js';

/** `ketendata dictionary`: the data dictionary a delivery carries, as Markdown and CSV. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('dictionary')
    .description(
      'write the data dictionary (every file and column, Koppeltabel included) as Markdown and CSV',
    )
    .requiredOption('--out <dir>', 'output folder (required)')
    .option('--delimiter <char>', 'delimiter of the CSV: one character, or tab', DEFAULT_DELIMITER)
    .option('--quiet', 'no summary')
    .action((opts: { out: string; delimiter: string; quiet?: boolean }) => {
      const delimiter = parseDelimiter(ctx, 'dictionary', opts.delimiter);
      if (delimiter === undefined) return;
      const out = outFolder(ctx, 'dictionary', opts.out);
      if (out === undefined) return;
      const dictionary = dataDictionary({ delimiter });
      for (const f of dictionary.files) writeFileSync(join(out, f.name), f.content);
      if (!opts.quiet) {
        ctx.out(
          `dictionary: ${count(dictionary.fileCount, 'file')}, ${count(dictionary.columnCount, 'column')} → ${dictionary.files.map((f) => f.name).join(', ')}`,
        );
      }
    });
}
