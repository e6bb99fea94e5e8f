import type { Command } from 'commander';
import { openStore } from '../store/open.js';
import { countOrphans } from '../usecases/link-orphans.js';
import { type CliContext, knownGemeenten, parseGemeenten, parseNow } from './command.js';

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
      const gemeenten = parseGemeenten(ctx, 'orphans', opts.gemeente);
      if (!gemeenten) return;
      const store = await openStore(ctx.config);
      try {
        if (!(await knownGemeenten(ctx, 'orphans', store, gemeenten))) return;
        const counts = await countOrphans(store, { now, ...(gemeenten.length ? { gemeenten } : {}) });
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
