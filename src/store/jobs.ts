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
 * Claims (job, slot) for one worker: the primary key lets exactly one insert win on both dialects, and a
 * takeover is one conditional update, so of two workers only one gets it. A running claim whose lease ran
 * out (its worker stopped renewing it) may be taken over, and a failed one once its retry time has come
 * (at once with `retryNow`). Returns the failures in a row so far when this worker owns it, else undefined.
 */
export async function claimSlot(
  db: Kysely<Database>,
  c: SlotClaim,
  opts: { readonly retryNow?: boolean } = {},
): Promise<{ readonly attempts: number } | undefined> {
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
    .returning('attempts')
    .executeTakeFirst();
  if (inserted) return { attempts: Number(inserted.attempts) };
  const at = c.at.toISOString();
  const taken = await db
    .updateTable('job_run')
    .set({ worker: c.worker, status: 'running', claimed_at: at, lease_until: c.leaseUntil.toISOString() })
    .where('job', '=', c.job)
    .where('slot', '=', c.slot)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'running'), eb('lease_until', '<', at)]),
        opts.retryNow
          ? eb('status', '=', 'failed')
          : eb.and([eb('status', '=', 'failed'), eb('lease_until', '<=', at)]),
      ]),
    )
    .returning('attempts')
    .executeTakeFirst();
  return taken ? { attempts: Number(taken.attempts) } : undefined;
}

/**
 * Takes over a running claim from `from`, a worker known to be gone (its process ended), before its lease
 * runs out. One conditional update on the worker id: of two workers taking it over only one gets it, and a
 * claim renewed or finished meanwhile is left alone. Returns the failures in a row so far when taken.
 */
export async function takeOverSlot(
  db: Kysely<Database>,
  c: SlotClaim,
  from: string,
): Promise<{ readonly attempts: number } | undefined> {
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
    .where('worker', '=', from)
    .where('status', '=', 'running')
    .returning('attempts')
    .executeTakeFirst();
  return taken ? { attempts: Number(taken.attempts) } : undefined;
}

/** Moves this worker's running claim's lease on; false when the claim is no longer its own. */
export async function renewLease(
  db: Kysely<Database>,
  c: { job: string; slot: string; worker: string; leaseUntil: Date },
): Promise<boolean> {
  const r = await db
    .updateTable('job_run')
    .set({ lease_until: c.leaseUntil.toISOString() })
    .where('job', '=', c.job)
    .where('slot', '=', c.slot)
    .where('worker', '=', c.worker)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Ends this worker's claim. A failed slot records its failures in a row (`attempts`) and when it may be tried
 * again (`retryAfter`, default at once).
 */
export async function finishSlot(
  db: Kysely<Database>,
  c: {
    job: string;
    slot: string;
    worker: string;
    at: Date;
    ok: boolean;
    detail?: string;
    attempts?: number;
    retryAfter?: Date;
  },
): Promise<void> {
  await db
    .updateTable('job_run')
    .set({
      status: c.ok ? 'done' : 'failed',
      finished_at: c.at.toISOString(),
      detail: c.detail ?? null,
      ...(c.ok ? {} : { lease_until: (c.retryAfter ?? c.at).toISOString() }),
      ...(c.attempts !== undefined ? { attempts: c.attempts } : {}),
    })
    .where('job', '=', c.job)
    .where('slot', '=', c.slot)
    .where('worker', '=', c.worker)
    .where('status', '=', 'running')
    .execute();
}

export interface JobRunRecord {
  readonly job: string;
  readonly slot: string;
  readonly worker: string;
  readonly status: string;
  readonly claimedAt: string;
  /** Running: the claim's lease; failed: when it may be tried again. */
  readonly leaseUntil: string;
  readonly finishedAt: string | null;
  readonly detail: string | null;
  readonly attempts: number;
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
    leaseUntil: r.lease_until,
    finishedAt: r.finished_at,
    detail: r.detail,
    attempts: Number(r.attempts),
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
        leaseUntil: r.lease_until,
        finishedAt: r.finished_at,
        detail: r.detail,
        attempts: Number(r.attempts),
      }
    : undefined;
}
