import { Cron } from 'croner';
import type { DeliveryDeps } from '../usecases/deliver.js';
import { JOBS, type JobDef } from './jobs.js';

export interface SchedulerDeps extends DeliveryDeps {
  /** The clock handed to a job when its slot fires (the real clock in `serve`). */
  readonly clock?: () => Date;
  /** Where the outcome of each run is reported (never client data). */
  readonly log?: (line: string) => void;
  /**
   * Also run everything due right at start-up: a server that was down catches up at once. (A slot its own
   * previous process still held is free once that lease runs out; the hourly job takes it up then.)
   */
  readonly catchUpOnStart?: boolean;
}

export interface Scheduler {
  /** Next fire time per job. */
  next(): Record<string, Date | null>;
  stop(): void;
  /** Resolves when a run in progress (if any) has finished. */
  idle(): Promise<void>;
}

/**
 * Starts the in-process scheduler (croner) for `serve`: each job fires on its cron in Europe/Amsterdam
 * and runs its use case with the clock. Several processes may run it: the job_run claims keep every
 * weekly slot to one worker. Runs never overlap in one process: each waits for the one before.
 */
export function startScheduler(deps: SchedulerDeps, jobs: readonly JobDef[] = JOBS): Scheduler {
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  let running: Promise<void> = Promise.resolve();
  const fire = (job: JobDef) => {
    const run = running.then(async () => {
      try {
        const outcome = await job.run(deps, clock());
        if (outcome) log(`job ${job.name}: ${outcome}`);
      } catch (err) {
        log(`job ${job.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    running = run;
    return run;
  };
  const crons = jobs.map(
    (job) => new Cron(job.cron, { timezone: job.timeZone, protect: true, name: job.name }, () => fire(job)),
  );
  if (deps.catchUpOnStart) {
    const weekly = jobs[0];
    if (weekly) void fire(weekly);
  }
  return {
    next: () => Object.fromEntries(crons.map((c, i) => [jobs[i]!.name, c.nextRun()])),
    stop: () => {
      for (const c of crons) c.stop();
    },
    idle: () => running,
  };
}
