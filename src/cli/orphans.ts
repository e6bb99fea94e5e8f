import type { Command } from 'commander';
import { readGemeenten } from '../schema/codelists.js';
import { openStore } from '../store/open.js';
import { countOrphans } from '../usecases/link-orphans.js';
import { type CliContext, parseNow } from './command.js';

/** `ketendata orphans`: messages and rows whose expected partner never came, counted for data quality. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('orphans')
    .description(
      'count messages and rows whose expected partner never came (orphans), per expectation and file',
    )
    .option('--gemeente <codes>', 'only these municipalities (CBS codes, comma-separated)')
    .option('--now <iso>', 'moment the deadlines are measured at (ISO-8601; default now)')
    .option('--json', 'output as JSON')
    .action(async (opts: { gemeente?: string; now?: string; json?: boolean }) => {
      const now = parseNow(ctx, opts.now);
      if (!now) return;
      const gemeenten = opts.gemeente
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      // An unknown code would count nothing and read as "no orphans"; refuse it as organisations add does.
      if (gemeenten) {
        const known = new Set(readGemeenten().map((g) => g.code));
        const bad = gemeenten.length === 0 ? [opts.gemeente] : gemeenten.filter((c) => !known.has(c));
        if (bad.length > 0) {
          ctx.err(
            `orphans.bad_option: --gemeente ${bad.join(',')}: not a municipality's 4-digit CBS code (code list gemeentecodes)`,
          );
          ctx.setExitCode(2);
          return;
        }
      }
      const store = await openStore(ctx.config);
      try {
        const counts = await countOrphans(store, { now, ...(gemeenten ? { gemeenten } : {}) });
        if (opts.json) {
          ctx.out(JSON.stringify(counts));
          return;
        }
        if (counts.length === 0) ctx.out('no orphans');
        for (const c of counts) ctx.out(`${c.name}\t${c.table}\t${c.count}`);
      } finally {
        await store.close();
      }
    });
}
