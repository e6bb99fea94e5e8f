import type { Kysely } from 'kysely';
import type { Database } from './database.js';

export interface SlotClaim {
  readonly job: string;
  /** ISO instant of the scheduled slot. */
  readonly slot: string;
  readonly worker: string;
  /** Wall-clock now and lease end: a running claim past its lease belongs to a dead worker. */
  readonly at: Date;
  readonly leaseUntil: Date;
}

/**
 * Claims (job, slot) for one worker: the primary key lets exactly one insert win on both dialects.
 * A claim that failed, or whose worker's lease ran out, may be taken over. True when this worker owns it.
 */
export async function claimSlot(db: Kysely<Database>, c: SlotClaim): Promise<boolean> {
  const inserted = await db
    .insertInto('job_run')
    .values({
      job: c.job,
      slot: c.slot,
      worker: c.worker,
      status: 'running',
      claimed_at: c.at.toISOString(),
      lease_until: c.leaseUntil.toISOString(),
      finished_at: null,
      detail: null,
    })
    .onConflict((oc) => oc.columns(['job', 'slot']).doNothing())
    .returning('job')
    .executeTakeFirst();
  if (inserted) return true;
  const taken = await db
    .updateTable('job_run')
    .set({
      worker: c.worker,
      status: 'running',
      claimed_at: c.at.toISOString(),
      lease_until: c.leaseUntil.toISOString(),
    })
    .where('job', '=', c.job)
    .where('slot', '=', c.slot)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'failed'),
        eb.and([eb('status', '=', 'running'), eb('lease_until', '<', c.at.toISOString())]),
      ]),
    )
    .executeTakeFirst();
  return Number(taken.numUpdatedRows) === 1;
}

export async function finishSlot(
  db: Kysely<Database>,
  c: { job: string; slot: string; worker: string; at: Date; ok: boolean; detail?: string },
): Promise<void> {
  await db
    .updateTable('job_run')
    .set({ status: c.ok ? 'done' : 'failed', finished_at: c.at.toISOString(), detail: c.detail ?? null })
    .where('job', '=', c.job)
    .where('slot', '=', c.slot)
    .where('worker', '=', c.worker)
    .execute();
}

export interface JobRunRecord {
  readonly job: string;
  readonly slot: string;
  readonly worker: string;
  readonly status: string;
  readonly claimedAt: string;
  readonly finishedAt: string | null;
  readonly detail: string | null;
}

export async function listJobRuns(db: Kysely<Database>, job?: string, limit = 100): Promise<JobRunRecord[]> {
  let q = db.selectFrom('job_run').selectAll();
  if (job) q = q.where('job', '=', job);
  const rows = await q.orderBy('slot', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    job: r.job,
    slot: r.slot,
    worker: r.worker,
    status: r.status,
    claimedAt: r.claimed_at,
    finishedAt: r.finished_at,
    detail: r.detail,
  }));
}

export async function getJobRun(
  db: Kysely<Database>,
  job: string,
  slot: string,
): Promise<JobRunRecord | undefined> {
  const r = await db
    .selectFrom('job_run')
    .selectAll()
    .where('job', '=', job)
    .where('slot', '=', slot)
    .executeTakeFirst();
  return r
    ? {
        job: r.job,
        slot: r.slot,
        worker: r.worker,
        status: r.status,
        claimedAt: r.claimed_at,
        finishedAt: r.finished_at,
        detail: r.detail,
      }
    : undefined;
}
