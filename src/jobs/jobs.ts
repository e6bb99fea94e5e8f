import { DELIVERY_TIME_ZONE, WEEKLY_CRON } from '../domain/delivery-week.js';
import { count } from '../domain/plural.js';
import { RETENTION_CRON } from '../domain/retention.js';
import { type DeliveryDeps, type RunReport, runDue, WEEKLY_JOB } from '../usecases/deliver.js';

/** One scheduled job: a cron slot in Europe/Amsterdam and the use case it runs with the slot's clock. */
export interface JobDef {
  readonly name: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly description: string;
  readonly run: (deps: DeliveryDeps, now: Date) => Promise<string>;
}

/** A run's outcome for the log, naming the organisations whose delivery failed and a replan that failed. */
export function runOutcome(r: RunReport): string {
  const failed = r.failed.map((f) => `${f.organisation} ${f.kind} ${f.slot} (${f.reason})`);
  return [
    ...(r.replanned ? [`links replanned (${r.replanned.added} added, ${r.replanned.lapsed} lapsed)`] : []),
    ...(r.replanError ? [`links replan failed (${r.replanError}; the next run tries again)`] : []),
    `${count(r.made.length, 'delivery', 'deliveries')} made`,
    `${r.expired} expired`,
    ...(r.leftovers ? [`${count(r.leftovers, 'leftover')} removed`] : []),
    ...(failed.length ? [`failed: ${failed.join(', ')}`] : []),
    ...(r.busy.length ? [`busy: ${r.busy.map((b) => `${b.slot} (until ${b.leaseUntil})`).join(', ')}`] : []),
  ].join(', ');
}

/**
 * Every scheduled job. Both run everything due (`runDue`): the weekly slots, history requests, retention.
 * The weekly job is the contract's Sunday 06:00; the hourly one deletes expired files within the hour and
 * takes up what is left: a slot that failed (once its wait is over), one a dead worker held, a Sunday the
 * server was down for. Claims in `job_run` make each weekly slot run once however many workers fire, and
 * a run with nothing due costs a few queries. An hourly run that did nothing returns '' and is not logged
 * (it would be 24 lines a day); one whose replan failed did something worth a line.
 */
export const JOBS: readonly JobDef[] = [
  {
    name: WEEKLY_JOB,
    cron: WEEKLY_CRON,
    timeZone: DELIVERY_TIME_ZONE,
    description: 'wekelijkse leveringen en aangevraagde historie (zondag 06:00)',
    run: async (deps, now) => runOutcome(await runDue(deps, now)),
  },
  {
    name: 'hourly',
    cron: RETENTION_CRON,
    timeZone: DELIVERY_TIME_ZONE,
    description:
      'gemiste of mislukte leveringen opnieuw, leveringen ouder dan 60 dagen verwijderen (elk uur)',
    run: async (deps, now) => {
      const r = await runDue(deps, now);
      if (r.made.length + r.failed.length + r.expired + r.leftovers === 0 && !r.replanned && !r.replanError)
        return '';
      return runOutcome(r);
    },
  },
];
