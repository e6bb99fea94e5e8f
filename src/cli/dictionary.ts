import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DELIMITER } from '../export/csv.js';
import { DICTIONARY_FILES, dictionaryCsv, dictionaryMarkdown, dictionaryRows } from '../export/dictionary.js';
import { schemaSet } from '../schema/releases.js';
import type { CliContext } from './command.js';

/** `ketendata dictionary`: the data dictionary as Markdown and CSV. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('dictionary')
    .description('write the data dictionary (every file and column) as Markdown and CSV')
    .requiredOption('--out <dir>', 'output folder')
    .option('--delimiter <char>', 'delimiter of the CSV', DEFAULT_DELIMITER)
    .option('--quiet', 'no summary')
    .action((opts: { out: string; delimiter: string; quiet?: boolean }) => {
      const out = resolve(opts.out);
      mkdirSync(out, { recursive: true });
      const set = schemaSet();
      const rows = dictionaryRows(set);
      writeFileSync(join(out, DICTIONARY_FILES.markdown), dictionaryMarkdown(set, rows));
      writeFileSync(join(out, DICTIONARY_FILES.csv), dictionaryCsv(rows, { delimiter: opts.delimiter }));
      const files = new Set(rows.map((r) => r.file)).size;
      if (!opts.quiet) {
        ctx.out(
          `dictionary: ${files} files, ${rows.length} columns → ${DICTIONARY_FILES.markdown}, ${DICTIONARY_FILES.csv}`,
        );
      }
    });
}
