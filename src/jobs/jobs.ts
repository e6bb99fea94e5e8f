import { DELIVERY_TIME_ZONE, WEEKLY_CRON } from '../domain/delivery-week.js';
import { count } from '../domain/plural.js';
import { RETENTION_CRON } from '../domain/retention.js';
import { type DeliveryDeps, runDue, WEEKLY_JOB } from '../usecases/deliver.js';
import { purgeExpired, sweepLeftovers } from '../usecases/retention.js';

/** One scheduled job: a cron slot in Europe/Amsterdam and the use case it runs with the slot's clock. */
export interface JobDef {
  readonly name: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly description: string;
  readonly run: (deps: DeliveryDeps, now: Date) => Promise<string>;
}

/**
 * Every scheduled job. The weekly job runs everything due (weekly slots it missed, history requests,
 * retention); claims in `job_run` make each weekly slot run once however many workers fire.
 * Retention also runs hourly on its own; deleting is idempotent, so it needs no claim. A run that did
 * nothing returns '' and is not logged (it would be 24 lines a day).
 */
export const JOBS: readonly JobDef[] = [
  {
    name: WEEKLY_JOB,
    cron: WEEKLY_CRON,
    timeZone: DELIVERY_TIME_ZONE,
    description: 'wekelijkse leveringen en aangevraagde historie (zondag 06:00)',
    run: async (deps, now) => {
      const r = await runDue(deps, now);
      return `${count(r.made.length, 'delivery', 'deliveries')} made, ${r.expired} expired${r.leftovers ? `, ${count(r.leftovers, 'leftover')} removed` : ''}${r.busy.length ? `, busy: ${r.busy.join(', ')}` : ''}`;
    },
  },
  {
    name: 'retention',
    cron: RETENTION_CRON,
    timeZone: DELIVERY_TIME_ZONE,
    description: 'leveringen ouder dan 60 dagen verwijderen (elk uur)',
    run: async (deps, now) => {
      const expired = await purgeExpired(deps, now);
      const leftovers = await sweepLeftovers(deps);
      if (expired === 0 && leftovers === 0) return '';
      return `${expired} expired deliveries deleted${leftovers ? `, ${leftovers} leftovers removed` : ''}`;
    },
  },
];
