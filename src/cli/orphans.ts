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
      // An unknown code would count nothing and read as "no orphans": refuse it. A code the list no longer
      // has (a municipality merged since 2021) is known when the store holds messages of it.
      const refuse = (bad: readonly string[], why: string) => {
        ctx.err(`orphans.bad_option: --gemeente ${bad.join(',')}: ${why}`);
        ctx.setExitCode(2);
      };
      if (gemeenten) {
        const malformed =
          gemeenten.length === 0 ? [opts.gemeente ?? ''] : gemeenten.filter((c) => !/^\d{4}$/.test(c));
        if (malformed.length > 0) return refuse(malformed, "not a municipality's 4-digit CBS code");
      }
      const store = await openStore(ctx.config);
      try {
        if (gemeenten) {
          const listed = new Set(readGemeenten().map((g) => g.code));
          const unlisted = gemeenten.filter((c) => !listed.has(c));
          const stored = unlisted.length
            ? new Set(
                (
                  await store.db
                    .selectFrom('message')
                    .select('gemeente')
                    .distinct()
                    .where('gemeente', 'in', unlisted)
                    .execute()
                ).map((r) => r.gemeente),
              )
            : new Set<string>();
          const unknown = unlisted.filter((c) => !stored.has(c));
          if (unknown.length > 0)
            return refuse(
              unknown,
              'not in the CBS code list (gemeentecodes), and no message of it is stored',
            );
        }
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
