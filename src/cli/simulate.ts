import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { count } from '../domain/plural.js';
import { defaultPeriod, simulate } from '../simulate/simulate.js';
import { type CliContext, outFolder, parseNow } from './command.js';

function rate(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1)
      throw new InvalidArgumentError(`${name} must be a share between 0 and 1 (got "${v}")`);
    return n;
  };
}

function whole(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a whole number (got "${v}")`);
    return n;
  };
}

interface Opts {
  out: string;
  gemeenten: string;
  clients: number;
  from?: string;
  to?: string;
  now?: string;
  seed: number;
  duplicates: number;
  errors: number;
  late: number;
  youth: number;
  warmup: number;
  clean?: boolean;
  quiet?: boolean;
}

/** `2026-01` for `2026-02-01`. */
function previousMonth(day: string): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** `ketendata simulate`: realistic, invented iJw/iWmo hub traffic plus manifest and ground truth. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('simulate')
    .description('write simulated iJw/iWmo 3.2 message traffic with its manifest and ground truth')
    .requiredOption(
      '--out <dir>',
      'output folder (berichten/, manifest.ndjson, ground-truth.ndjson, organisations.json) (required)',
    )
    .option('--gemeenten <codes|n>', 'CBS codes (comma-separated) or a number of municipalities', '3')
    .option('--clients <n>', 'number of client journeys', whole('--clients'), 300)
    .option('--from <date>', 'first day (YYYY-MM-DD); default six months before --now')
    .option('--to <date>', 'last day (YYYY-MM-DD); default the day of --now')
    .option('--now <iso>', 'moment the default period ends at (ISO-8601; default now)')
    .option('--seed <n>', 'seed: the same seed gives the same output', whole('--seed'), 1)
    .option(
      '--duplicates <rate>',
      'share of messages that pass the hub once more',
      rate('--duplicates'),
      0.01,
    )
    .option(
      '--errors <rate>',
      'share of messages with a rejecting retour; a quarter of those also a broken first attempt',
      rate('--errors'),
      0.02,
    )
    .option(
      '--late <rate>',
      'share of deadlines (retour, answer, start/stop, 325) that are missed',
      rate('--late'),
      0.05,
    )
    .option('--youth <rate>', 'share of journeys under the Jeugdwet (the rest Wmo)', rate('--youth'), 0.5)
    .option(
      '--warmup <months>',
      'months before --from that are simulated but not written (care already running at the start)',
      whole('--warmup'),
      0,
    )
    .option('--clean', 'empty an existing output folder first')
    .option('--quiet', 'no summary')
    .action((opts: Opts) => {
      const now = parseNow(ctx, opts.now);
      if (!now) return;
      // Only checked: bad options are refused before anything is written, and the simulator's own mkdir
      // cannot hang once the nearest existing folder took a probe.
      if (outFolder(ctx, 'simulate', opts.out, { create: false }) === undefined) return;
      const period = defaultPeriod(now);
      if (opts.clients > 90_909) {
        ctx.err(
          `simulate: ${opts.clients} clients but only 90909 test BSNs (999xxxxxx, 11-test): BSNs are reused for different clients`,
        );
      }
      // Files of an earlier run stay beside the new ones: a plain-folder ingest or flatten would take them too.
      if (!opts.clean && ['manifest.ndjson', 'berichten'].some((n) => existsSync(join(opts.out, n)))) {
        ctx.err(
          `simulate: ${opts.out} holds an earlier run; its files stay beside the new ones (the new manifest names only the new ones; --clean empties the folder first)`,
        );
      }
      const started = performance.now();
      let result: ReturnType<typeof simulate>;
      /** The first simulated day (warm-up included): nothing is done before it. */
      let firstDay: string | undefined;
      try {
        result = simulate({
          out: opts.out,
          gemeenten: opts.gemeenten,
          clients: opts.clients,
          from: opts.from ?? period.from,
          to: opts.to ?? period.to,
          // The default period ends at --now itself, not at the end of its day.
          ...(opts.to === undefined ? { until: now.toISOString() } : {}),
          seed: opts.seed,
          duplicates: opts.duplicates,
          errors: opts.errors,
          late: opts.late,
          youthShare: opts.youth,
          warmupMonths: opts.warmup,
          ...(opts.clean ? { clean: true } : {}),
          ...(opts.quiet
            ? {}
            : {
                // At the start of a month, the month before is done: its line counts what was written up to its
                // end (a warm-up month writes nothing: its journeys only run up to the period).
                onDay: (p: { day: string; exchanges: number }) => {
                  const first = firstDay === undefined;
                  firstDay ??= p.day;
                  if (first || !p.day.endsWith('-01')) return;
                  const done = previousMonth(p.day);
                  const warmup =
                    done < (opts.from ?? period.from).slice(0, 7) ? ' (warm-up, not written)' : '';
                  ctx.err(`simulate: ${done} done${warmup}: ${count(p.exchanges, 'exchange')} so far`);
                },
              }),
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (!message.startsWith('simulate.')) throw err;
        ctx.err(`simulate: ${message}`);
        ctx.setExitCode(2);
        return;
      }
      if (opts.quiet) return;
      const seconds = (performance.now() - started) / 1000;
      ctx.out(
        `simulate: ${count(result.exchanges, 'exchange')} (${count(result.perStatus.duplicate ?? 0, 'duplicate')}, ${result.perStatus.broken ?? 0} broken) ` +
          `for ${count(result.journeys, 'journey')} in ${seconds.toFixed(1)} s → ${opts.out}`,
      );
    });
}
