import type { Command } from 'commander';
import type { Period } from '../indicators/indicators.js';
import {
  ALL_MEMBERS,
  computeIndicators,
  type IndicatorSnapshot,
  type IndicatorValues,
  indicatorSnapshot,
  refreshIndicators,
} from '../usecases/indicators.js';
import { requireOrganisation } from '../usecases/organisations.js';
import type { CliContext } from './command.js';
import { withStoreAt } from './deliver.js';

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-');
const num = (v: number | null) => (v === null ? '-' : String(v));
/** ` (2024-01-08..2024-03-29)`: the days a figure covers; nothing when it counted nothing. */
const span = (p: Period | undefined) => (p ? ` (${p.from}..${p.to})` : '');

/** The indicators of one scope as plain text lines (English: the CLI is the operator's). */
export function indicatorLines(v: IndicatorValues): string[] {
  const lines = [
    `lead time 315 -> 301: ${v.leadTime.count} granted requests, median ${num(v.leadTime.median)} working days, ` +
      `within 5 working days ${v.leadTime.withinNorm} (${pct(v.leadTime.withinNorm, v.leadTime.count)})${span(v.leadTime.period)}`,
    `request outcome: ${v.requestOutcome.requests} requested products: honoured ${v.requestOutcome.honoured}, ` +
      `rejected ${v.requestOutcome.rejected}, under investigation ${v.requestOutcome.underInvestigation}, ` +
      `unanswered ${v.requestOutcome.unanswered}`,
    ...(v.changeRequests
      ? [
          `requests for a change 317: ${v.changeRequests.requestOutcome.requests}: honoured ${v.changeRequests.requestOutcome.honoured} ` +
            `(median ${num(v.changeRequests.leadTime.median)} working days, within 5 ${v.changeRequests.leadTime.withinNorm}), ` +
            `rejected ${v.changeRequests.requestOutcome.rejected}, under investigation ${v.changeRequests.requestOutcome.underInvestigation}, ` +
            `unanswered ${v.changeRequests.requestOutcome.unanswered}`,
        ]
      : []),
    `toewijzing -> start: ${v.startDelay.count} toewijzingen started, median ${num(v.startDelay.median)} days${span(v.startDelay.period)}`,
    'clients in care per month (month, iJw, iWmo, total):',
    ...v.clientsInCare.months.map((m) => `  ${m.month}\t${m.ijw}\t${m.iwmo}\t${m.total}`),
    'declarations per month (month, submitted euro, approved euro, prestaties, rejected in 325):',
    ...v.declarations.months.map(
      (m) =>
        `  ${m.month}\t${(m.submittedCents / 100).toFixed(2)}\t${(m.approvedCents / 100).toFixed(2)}\t${m.prestaties}\t${m.rejected} (${pct(m.rejected, m.prestaties)})`,
    ),
    'retours with errors (message, heen messages, rejected):',
    ...v.retourErrors.types.map((t) => `  ${t.code}\t${t.heen}\t${t.rejected} (${pct(t.rejected, t.heen)})`),
  ];
  return lines;
}

function print(ctx: CliContext, snap: IndicatorSnapshot): void {
  ctx.out(
    `indicators of ${snap.organisation} (${snap.members.join(', ')}), computed ${snap.computedAt} ` +
      `at message seq ${snap.messageSeq}, link seq ${snap.linkSeq}`,
  );
  // All members first, then the members in code order: object keys that look like numbers (1581, not 0363)
  // would otherwise come first.
  const scopes = Object.keys(snap.scopes).sort((a, b) =>
    a === ALL_MEMBERS ? -1 : b === ALL_MEMBERS ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  for (const scope of scopes) {
    ctx.out('');
    ctx.out(scope === ALL_MEMBERS ? '== all members' : `== ${scope}`);
    for (const line of indicatorLines(snap.scopes[scope] as IndicatorValues)) ctx.out(line);
  }
}

/** `ketendata indicators <code> [--refresh] [--json]`: the dashboard's snapshot of an organisation. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('indicators <code>')
    .description(
      "an organisation's dashboard indicators (the stored snapshot; computed once when there is none; with --now computed as at then)",
    )
    .option('--refresh', 'compute them now from the store and keep that as the snapshot')
    .option('--json', 'print the snapshot as JSON (for scripts)')
    .option(
      '--now <iso>',
      'compute as at this moment (not kept, unless --refresh): the 12 months end before its month',
    )
    .action(async (code: string, o: { refresh?: boolean; json?: boolean; now?: string }) => {
      await withStoreAt(ctx, o.now, async (store, now) => {
        // A moment asked for is computed for that moment: the stored snapshot is of another one.
        const snap = o.refresh
          ? await refreshIndicators(store, code, { now })
          : o.now !== undefined
            ? await computeIndicators(store, await requireOrganisation(store, code), { now })
            : await indicatorSnapshot(store, code, { now });
        if (o.json) ctx.out(JSON.stringify(snap, null, 2));
        else print(ctx, snap);
      });
    });
}
