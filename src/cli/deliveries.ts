import type { Command } from 'commander';
import { listDeliveries } from '../usecases/deliveries.js';
import type { CliContext } from './command.js';
import { withStoreAt } from './deliver.js';

/**
 * What a weekly holds from the start besides its week: 'all' (a first weekly), the members caught up
 * (`0599,0457`), or '-' (a plain week, a history, or a weekly made before this was recorded).
 */
function fromStart(d: { kind: string; firstWeekly: boolean; catchUp: readonly string[] | null }): string {
  if (d.kind !== 'weekly') return '-';
  if (d.firstWeekly) return 'all';
  return d.catchUp?.length ? d.catchUp.join(',') : '-';
}

/** `ketendata deliveries <code>`: an organisation's deliveries, newest first. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('deliveries <code>')
    .description(
      "list an organisation's deliveries, newest first, tab-separated: id, kind, period, made, ready_from, " +
        'bytes, messages, downloaded (first at and by whom), state (ready, pending, deleted), expires, file, ' +
        "from_start (a weekly that holds all data so far: 'all' for a first weekly, else the members caught up)",
    )
    .option('--now <iso>', 'list as at this moment (default: now)')
    .option('--all', 'also those not shown as ready yet (made on Sunday, ready on Monday)')
    .action(async (code: string, o: { now?: string; all?: boolean }) => {
      await withStoreAt(ctx, o.now, async (store, now) => {
        const list = await listDeliveries(store, code, { now, includePending: o.all ?? false });
        ctx.out(
          [
            'id',
            'kind',
            'period',
            'made',
            'ready_from',
            'bytes',
            'messages',
            'downloaded',
            'state',
            'expires',
            'file',
            'from_start',
          ].join('\t'),
        );
        for (const d of list) {
          ctx.out(
            [
              d.id,
              d.kind,
              `${d.periodStart}..${d.periodEnd}`,
              d.madeAt,
              d.availableAt,
              d.size,
              d.messageCount,
              d.firstDownloadedAt ? `${d.firstDownloadedAt} by ${d.firstDownloadedBy}` : '-',
              d.deleted ? `deleted ${d.deletedAt}` : d.ready ? 'ready' : 'pending',
              d.expiresAt,
              d.fileName,
              fromStart(d),
            ].join('\t'),
          );
        }
      });
    });
}
