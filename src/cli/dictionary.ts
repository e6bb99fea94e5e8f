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
    .description('schrijft het gegevenswoordenboek (elk bestand en elke kolom) als Markdown en CSV')
    .requiredOption('--out <dir>', 'uitvoermap')
    .option('--delimiter <char>', 'scheidingsteken van de CSV', DEFAULT_DELIMITER)
    .option('--quiet', 'geen samenvatting')
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
          `dictionary: ${files} bestanden, ${rows.length} kolommen → ${DICTIONARY_FILES.markdown}, ${DICTIONARY_FILES.csv}`,
        );
      }
    });
}
