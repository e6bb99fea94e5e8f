import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import {
  DELIVERY_TIME_ZONE,
  HISTORY_START_INSTANT,
  nextWeeklySlot,
  readyAt,
  weeklySlotsBetween,
} from '../domain/delivery-week.js';
import { expiresAt } from '../domain/retention.js';
import { toLocal } from '../domain/zoned-time.js';
import { DeliveryWriter, type ExtraFile } from '../export/delivery-writer.js';
import { schemaSet } from '../schema/releases.js';
import { audit } from '../store/audit.js';
import {
  insertDelivery,
  lastLinkSeqCreatedBy,
  lastSeqIngestedBy,
  linksInWindow,
  messagesInWindow,
} from '../store/deliveries.js';
import { deleteExpiredFlash } from '../store/flash.js';
import { claimSlot, finishSlot, getJobRun, renewLease, takeOverSlot } from '../store/jobs.js';
import type { Store } from '../store/open.js';
import {
  clearCatchUp,
  getOrganisation,
  listOrganisations,
  lockOrganisation,
  type Organisation,
} from '../store/organisations.js';
import type { DeliveryKind } from '../store/tables/deliveries.js';
import { deliveryFileSpecs } from './deliver-content.js';
import { deliveryDictionary, withPersonalDataLeftOut } from './deliver-dictionary.js';
import { addLinks, deliveryMarks } from './deliver-links.js';
import { inlineFormatter, workerFormatter } from './deliver-pool.js';
import { refreshIndicators } from './indicators.js';
import { type ReplanOutcome, replanIfDue } from './link-replan.js';
import { purgeExpired, sweepLeftovers } from './retention.js';

/** What the delivery use cases need; built once in the composition root (CLI, serve). */
export interface DeliveryDeps {
  readonly store: Store;
  /** The data folder: ZIPs live in `<dataDir>/deliveries/<org>/`. */
  readonly dataDir: string;
  /** The per-organisation re-keying key (from `deriveKeys(secret).organisation`). */
  readonly organisationKey: (code: string) => Buffer;
  /** Identifies this process in job claims. */
  readonly worker?: string;
  /** Wall clock for job leases only (a replay with --now still needs real lease times). */
  readonly wallClock?: () => Date;
  /**
   * Worker threads that re-key and format a delivery. Default: none below 20 000 seqs, else one per CPU
   * (at most 4; none on a single CPU). 0 always formats in this thread.
   */
  readonly formatWorkers?: number;
  /** Seq span per store query (batch); default 1000. */
  readonly batchSpan?: number;
  /** Files added to every delivery besides the tables and the data dictionary; called once per run. */
  readonly extraFiles?: () => Promise<readonly ExtraFile[]> | readonly ExtraFile[];
}

export const WEEKLY_JOB = 'weekly-delivery';
/**
 * A claim lasts this long unless its worker renews it, which it does every HEARTBEAT_MS while it runs: the
 * slots of a worker that died are free again within minutes, however long a delivery takes. (Should a live
 * worker miss its renewals, the other one may build the same slot too; the cursor check in makeDelivery
 * still keeps one delivery.)
 */
const LEASE_MS = 5 * 60 * 1000;
const HEARTBEAT_MS = 60 * 1000;
/** A run whose store failed tries once more, after this pause, to mark its slot failed (a restart is short). */
const FINISH_RETRY_MS = 2000;
/** A failed slot waits this long before it is tried again, doubling with every failure in a row up to MAX. */
const RETRY_FIRST_MS = 20 * 60 * 1000;
const RETRY_MAX_MS = 6 * 60 * 60 * 1000;

/** How long a slot waits after its `attempts`-th failure in a row. */
function retryDelay(attempts: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, attempts - 1));
}

export interface MadeDelivery {
  readonly id: number;
  readonly organisation: string;
  readonly kind: DeliveryKind;
  readonly slot: string;
  readonly messages: number;
}

export interface FailedDelivery {
  readonly organisation: string;
  readonly kind: DeliveryKind;
  readonly slot: string;
  readonly reason: string;
}

export interface RunReport {
  readonly slots: readonly string[];
  readonly made: readonly MadeDelivery[];
  /** Deliveries that failed in this run; recorded (job_run, audit log) and tried again by a later run. */
  readonly failed: readonly FailedDelivery[];
  /** Slots another worker holds (this run stopped there rather than overtake it). */
  readonly busy: readonly BusySlot[];
  /** Slots that failed before and wait for their retry time; the organisations they owe wait with them. */
  readonly waiting: readonly WaitingSlot[];
  readonly expired: number;
  /** Removed: temp folders and unlisted ZIPs of interrupted deliveries, and any unlisted ZIP past 60 days and a week. */
  readonly leftovers: number;
  /** Organisations whose dashboard snapshot was refreshed (after a slot this run delivered). */
  readonly indicators: number;
  /** The replan of links an upgrade left due, run before the deliveries (null: none was due, or it failed). */
  readonly replanned: ReplanOutcome | null;
  /** Why that replan failed (null: it did not). Its mark stays, so the next run tries again. */
  readonly replanError: string | null;
}

export interface WaitingSlot {
  readonly slot: string;
  /** ISO instant (wall clock) from which a run tries it again. */
  readonly retryAfter: string;
}

export interface BusySlot {
  readonly slot: string;
  readonly worker: string;
  /** ISO instant (wall clock) at which its claim lapses unless that worker renews it. */
  readonly leaseUntil: string;
}

export interface RunOptions {
  /** Try failed slots at once rather than after their wait (an operator after a fix). */
  readonly retryNow?: boolean;
  /** Called as each delivery is made, so a run that fails later has still said what it made. */
  readonly onMade?: (made: MadeDelivery) => void;
  /** Called once the replan of links an upgrade left due has run, before the first delivery is made. */
  readonly onReplanned?: (outcome: ReplanOutcome) => void;
  /** Refresh the dashboards after delivering (default true); the delivery bench times them apart. */
  readonly refreshIndicators?: boolean;
}

/**
 * This process's PID namespace on this boot of this kernel, as `pidns<inode>.<boot>` (Linux: the inode of
 * /proc/self/ns/pid and the first 8 hex digits of the kernel's boot id), null where either cannot be read.
 * Containers that share a hostname (Docker `--network host`, a compose or Kubernetes `hostname:`) do not
 * share pids unless they share the namespace; and namespace inodes repeat across machines (every root
 * namespace is 4026531836), so two machines of one hostname differ by their boot id. A pid is only checked
 * where it was taken.
 */
export function pidNamespace(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').replace(/-/g, '').slice(0, 8);
    if (!/^[0-9a-f]{8}$/.test(boot)) return null;
    return `pidns${statSync('/proc/self/ns/pid').ino}.${boot}`;
  } catch {
    return null;
  }
}

/**
 * `host:pid:tag:pidns<inode>.<boot>` (`host:pid:tag` where the namespace cannot be read): the host, namespace and
 * process say whether the claim's worker is still there (workerGone).
 */
export function defaultWorkerId(): string {
  const ns = pidNamespace();
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}${ns ? `:${ns}` : ''}`;
}

/**
 * True only when `worker` (`host:pid:tag:pidns<inode>.<boot>`) ran on this host in this PID namespace and its
 * process no longer exists: its claim can be taken over at once. A worker of another host or namespace, an
 * id without a namespace (an older release, a system without /proc) or of another form, or a pid that
 * exists (also one owned by another user, EPERM) is not known to be gone: its claim waits for its lease.
 */
export function workerGone(worker: string): boolean {
  const parts = worker.split(':');
  const ns = pidNamespace();
  if (ns === null || parts.length !== 4 || parts[0] !== hostname() || parts[3] !== ns) return false;
  if (!/^\d+$/.test(parts[1] ?? '')) return false;
  const pid = Number(parts[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Where an organisation's weeklies go on from: its last weekly slot, or its activation when later (a
 * re-activation keeps the slot of its last weekly, and the Sundays it was inactive are owed nothing).
 */
const weeklyFrom = (org: Organisation, fallback: Date): number =>
  Math.max(
    Date.parse(org.weeklySlot ?? org.activatedAt ?? fallback.toISOString()),
    Date.parse(org.activatedAt ?? '') || 0,
  );

/**
 * The first weekly slot that owes the organisation a delivery of `kind` (null: none is owed, as to one not
 * active): for a weekly the first slot strictly after its last weekly or its activation, for a history the
 * first slot strictly after the request (a request or an activation at a slot's very instant belongs to the
 * next slot). What runDue makes and what the portal promises are both read from here.
 */
export function firstSlotOwed(org: Organisation, kind: DeliveryKind): Date | null {
  if (!org.active) return null;
  if (kind === 'history')
    return org.historyRequested && org.historyRequestedAt !== null
      ? nextWeeklySlot(new Date(org.historyRequestedAt))
      : null;
  if (org.weeklySlot === null && org.activatedAt === null) return null;
  return nextWeeklySlot(new Date(weeklyFrom(org, new Date(0))));
}
const owes = (org: Organisation, kind: DeliveryKind, slot: Date) =>
  (firstSlotOwed(org, kind)?.getTime() ?? Number.POSITIVE_INFINITY) <= slot.getTime();
const owesWeekly = (org: Organisation, slot: Date) => owes(org, 'weekly', slot);
const owesHistory = (org: Organisation, slot: Date) => owes(org, 'history', slot);

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 200);

/** Renews a claim's lease until stopped; `leaseUntil` is the end of the last lease the store took. */
function holdLease(
  deps: DeliveryDeps,
  claim: { job: string; slot: string; worker: string },
  wall: () => Date,
  leaseUntil: Date,
) {
  const held = { leaseUntil };
  const timer = setInterval(() => {
    const next = new Date(wall().getTime() + LEASE_MS);
    // A renewal that fails is retried on the next beat; the lease outlasts several.
    renewLease(deps.store.db, { ...claim, leaseUntil: next }).then(
      (ok) => {
        if (ok) held.leaseUntil = next;
      },
      () => undefined,
    );
  }, HEARTBEAT_MS);
  timer.unref();
  return { held, release: () => clearInterval(timer) };
}

/**
 * Marks a slot failed after an error outside any one organisation (the store itself, mostly). When the store
 * is gone that fails too: one more try after a short pause (a restart), then the first error is what is
 * thrown, saying when the claim lapses, never the second one, which would hide what went wrong.
 */
async function failSlot(
  db: DeliveryDeps['store']['db'],
  c: Parameters<typeof finishSlot>[1],
  first: unknown,
  leaseUntil: Date,
): Promise<never> {
  try {
    await finishSlot(db, c);
  } catch {
    await new Promise((resolve) => setTimeout(resolve, FINISH_RETRY_MS));
    try {
      await finishSlot(db, c);
    } catch (second) {
      // Taken over early only by a worker that can see this process has ended (workerGone).
      const early =
        c.worker.split(':').length === 4
          ? ', or at once for a deliver on this host after this process has ended'
          : '';
      const message = `${first instanceof Error ? first.message : String(first)}; slot ${c.slot} could not be marked failed (${reasonOf(second)}): its claim is released when its lease ends at ${leaseUntil.toISOString()}${early}`;
      throw new Error(message, { cause: first });
    }
  }
  throw first;
}

/**
 * Runs everything due at `now`: the weekly slots since each organisation's last weekly (a missed Sunday is
 * caught up, each slot with its own delivery), history requests (made with the weekly of the next slot),
 * and retention. Each slot is claimed in `job_run`; a delivery is unique per (organisation, kind, slot), so
 * a re-run or a second worker adds nothing. An organisation whose delivery fails is recorded and skipped for
 * the rest of the run; the others go on. The slot is then marked failed and tried again after a wait
 * (`retryDelay`) by a later run, which only makes what is still owed: the cursors say what that is.
 */
export async function runDue(deps: DeliveryDeps, now: Date, opts: RunOptions = {}): Promise<RunReport> {
  const worker = deps.worker ?? defaultWorkerId();
  const wall = deps.wallClock ?? (() => new Date());
  const db = deps.store.db;
  const made: MadeDelivery[] = [];
  const failed: FailedDelivery[] = [];
  const busy: BusySlot[] = [];
  const waiting: WaitingSlot[] = [];
  // Before any delivery: the corrections of links made by older rules go with the next weekly. A replan
  // that fails (a lock, the store, a bug) holds up neither the deliveries nor retention: its mark stays,
  // the next run tries again, and the report says why.
  let replanned: ReplanOutcome | null = null;
  let replanError: string | null = null;
  try {
    replanned = await replanIfDue(deps.store, now);
  } catch (err) {
    replanError = reasonOf(err);
  }
  if (replanned) opts.onReplanned?.(replanned);

  const active = await listOrganisations(db, { activeOnly: true });
  const starts = active.map((o) => weeklyFrom(o, now));
  // A history still owed for a slot whose weeklies are all made (it failed there) takes that slot back in.
  for (const o of active) {
    if (o.historyRequested && o.historyRequestedAt)
      starts.push(Math.max(Date.parse(o.historyRequestedAt) - 1, Date.parse(o.activatedAt ?? '') || 0));
  }
  const slots = starts.length ? weeklySlotsBetween(new Date(Math.min(...starts)), now) : [];
  // Read at the first slot claimed: a run with nothing to claim (most hourly runs) stays cheap.
  let marks: { watermark: number; linkMark: number; extra: readonly ExtraFile[] } | undefined;
  let delivered = false;
  // `org/kind` that failed earlier in this run or are owed by a slot that waits: later slots leave them
  // alone, or a weekly would leapfrog the one not made.
  const heldBack = new Set<string>();

  for (const [i, slot] of slots.entries()) {
    const slotIso = slot.toISOString();
    const claim = { job: WEEKLY_JOB, slot: slotIso, worker };
    const at = wall();
    const leaseUntil = new Date(at.getTime() + LEASE_MS);
    let taken = await claimSlot(db, { ...claim, at, leaseUntil }, { retryNow: opts.retryNow ?? false });
    let run = taken ? undefined : await getJobRun(db, WEEKLY_JOB, slotIso);
    // A claim whose worker ended on this host in this PID namespace (a run that lost its store and exited)
    // need not wait for its lease; one of another host or namespace cannot be checked from here and does.
    if (!taken && run?.status === 'running' && workerGone(run.worker)) {
      taken = await takeOverSlot(db, { ...claim, at, leaseUntil }, run.worker);
      if (!taken) run = await getJobRun(db, WEEKLY_JOB, slotIso);
    }
    if (!taken) {
      if (run?.status === 'done') continue;
      if (run?.status === 'failed') {
        waiting.push({ slot: slotIso, retryAfter: run.leaseUntil });
        for (const org of await listOrganisations(db, { activeOnly: true })) {
          if (owesWeekly(org, slot)) heldBack.add(`${org.code}/weekly`);
          if (owesHistory(org, slot)) heldBack.add(`${org.code}/history`);
        }
        continue;
      }
      // Another worker is on this slot: later slots must wait for it, or cursors would leapfrog.
      busy.push({ slot: slotIso, worker: run?.worker ?? '', leaseUntil: run?.leaseUntil ?? '' });
      break;
    }
    const { held, release } = holdLease(deps, claim, wall, leaseUntil);
    try {
      if (!marks) {
        // Both marks in one cut: read apart, a batch committing in between gave a link past its message.
        const both = await deliveryMarks(deps.store);
        marks = {
          watermark: both.message,
          linkMark: both.link,
          extra: [...deliveryDictionary(), ...(deps.extraFiles ? await deps.extraFiles() : [])],
        };
      }
      const { watermark, linkMark, extra } = marks;
      // A missed slot gets what was ingested by its Sunday; the latest slot takes everything committed.
      const last = i === slots.length - 1;
      const cut = last ? watermark : Math.min(watermark, await lastSeqIngestedBy(db, slot));
      const orgs = await listOrganisations(db, { activeOnly: true });
      const linkCut = last ? linkMark : Math.min(linkMark, await lastLinkSeqCreatedBy(db, slot));
      const failures: FailedDelivery[] = [];
      const held: string[] = [];
      let madeHere = 0;
      for (const listed of orgs) {
        // Read again just before its build: earlier builds of this slot may take minutes, and an operator
        // may change its members or settings meanwhile (makeDelivery checks once more when it records).
        let org = (await getOrganisation(db, listed.code)) ?? listed;
        if (!org.active) continue;
        // Checked on its own: a slot retaken after a failure may still owe the history, or only it.
        const due = [
          ...(owesWeekly(org, slot) ? (['weekly'] as const) : []),
          ...(owesHistory(org, slot) ? (['history'] as const) : []),
        ];
        for (const kind of due) {
          if (heldBack.has(`${org.code}/${kind}`)) {
            held.push(org.code);
            continue;
          }
          try {
            let d = await makeDelivery(deps, { org, slot, now, cut, linkCut, extra, kind });
            // Changed while it was built: built again as it is now, a few times at most (then a failure,
            // retried with the slot).
            for (let attempt = 1; d === CHANGED; attempt++) {
              if (attempt === MAX_BUILDS)
                throw new Error(`the organisation changed while its delivery was made, ${MAX_BUILDS} times`);
              const fresh = await getOrganisation(db, org.code);
              const owes = kind === 'weekly' ? owesWeekly : owesHistory;
              if (!fresh?.active || !owes(fresh, slot)) {
                d = undefined;
                break;
              }
              org = fresh;
              d = await makeDelivery(deps, { org, slot, now, cut, linkCut, extra, kind });
            }
            if (d) {
              made.push(d);
              madeHere++;
              opts.onMade?.(d);
            }
          } catch (err) {
            const f = { organisation: org.code, kind, slot: slotIso, reason: reasonOf(err) };
            failures.push(f);
            heldBack.add(`${org.code}/${kind}`);
            try {
              await audit(db, {
                at: now,
                actor: 'system',
                organisation: org.code,
                action: 'delivery.fail',
                detail: { kind, slot: slotIso, reason: f.reason },
              });
            } catch {
              // The store itself is gone: the slot fails as a whole, with the delivery's error, not this one.
              throw err;
            }
          }
        }
      }
      failed.push(...failures);
      const complete = failures.length === 0 && held.length === 0;
      const end = wall();
      // A slot that only waits for an earlier one is free at once; a failure waits, longer each time.
      const attempts = failures.length > 0 ? taken.attempts + 1 : taken.attempts;
      const wait = failures.length > 0 ? retryDelay(attempts) : 0;
      await finishSlot(db, {
        ...claim,
        at: end,
        ok: complete,
        attempts,
        retryAfter: new Date(end.getTime() + wait),
        detail: slotDetail(orgs.length, failures, held, wait),
      });
      if (complete || madeHere > 0) delivered = true;
    } catch (err) {
      // Outside any one organisation (the store itself): the slot failed as a whole.
      const end = wall();
      const attempts = taken.attempts + 1;
      await failSlot(
        db,
        {
          ...claim,
          at: end,
          ok: false,
          attempts,
          retryAfter: new Date(end.getTime() + retryDelay(attempts)),
          detail: `${reasonOf(err)}; ${retryText(retryDelay(attempts))}`,
        },
        err,
        held.leaseUntil,
      );
    } finally {
      release();
    }
  }

  const expired = await purgeExpired(deps, now);
  const leftovers = await sweepLeftovers(deps, wall());
  // A new token's secret shown nobody: gone at the hour after its minutes, not at the next form post.
  await deleteExpiredFlash(db, wall().toISOString());
  // The dashboards follow the weekly run: refreshed once per run (not per missed slot), at the watermark then;
  // last, so a failure here cannot hold up retention.
  let indicators = 0;
  if (delivered && opts.refreshIndicators !== false) {
    for (const org of await listOrganisations(db, { activeOnly: true })) {
      await refreshIndicators(deps.store, org.code, {
        now,
        ...(deps.batchSpan ? { span: deps.batchSpan } : {}),
      });
      indicators++;
    }
  }
  return {
    slots: slots.map((s) => s.toISOString()),
    made,
    failed,
    busy,
    waiting,
    expired,
    leftovers,
    indicators,
    replanned,
    replanError,
  };
}

const retryText = (ms: number) => `nieuwe poging over ${Math.round(ms / 60_000)} min`;

/** The slot's outcome as the operator's job list shows it (Dutch). */
function slotDetail(
  organisations: number,
  failures: readonly FailedDelivery[],
  held: readonly string[],
  wait: number,
): string {
  const parts = [`${organisations} organisaties`];
  if (failures.length > 0) {
    const kind = (k: DeliveryKind) => (k === 'weekly' ? 'wekelijks' : 'historie');
    parts.push(
      `mislukt: ${failures.map((f) => `${f.organisation} ${kind(f.kind)} (${f.reason})`).join(', ')}`,
    );
  }
  if (held.length > 0) parts.push(`wacht op een eerdere week: ${[...new Set(held)].join(', ')}`);
  if (failures.length > 0) parts.push(retryText(wait));
  return parts.join('; ').slice(0, 500);
}

/** makeDelivery's answer when the organisation's members or settings changed while it was built. */
const CHANGED = Symbol('changed');
const MAX_BUILDS = 3;

/**
 * What one delivery of `org` for `slot` sends: the members at the slot (a missed slot made later leaves out a
 * member that joined after it), and those of them a weekly sends from the start, once (joined after the cursor
 * moved). With the personal data choice, everything a delivery reads from the organisation besides its cursors.
 */
function scopeOf(org: Organisation, slotIso: string, weekly: boolean, seqFrom: number) {
  const members = org.members.filter((g) => !org.joinedAt[g] || org.joinedAt[g] <= slotIso);
  const catchUp = weekly && seqFrom > 0 ? org.catchUp.filter((g) => members.includes(g)) : [];
  return { members, catchUp, leaveOut: org.leavesOutPersonalData };
}

function sameScope(a: ReturnType<typeof scopeOf>, b: ReturnType<typeof scopeOf>): boolean {
  return (
    a.leaveOut === b.leaveOut &&
    a.members.join(',') === b.members.join(',') &&
    a.catchUp.join(',') === b.catchUp.join(',')
  );
}

interface MakeDelivery {
  readonly org: Organisation;
  readonly kind: DeliveryKind;
  readonly slot: Date;
  readonly now: Date;
  /** Highest message seq this delivery may include. */
  readonly cut: number;
  readonly linkCut: number;
  readonly extra: readonly ExtraFile[] | undefined;
}

/** Below this many seqs a delivery is formatted in this thread: starting workers would cost more. */
const WORKERS_FROM = 20_000;

function formatThreads(deps: DeliveryDeps, span: number): number {
  if (deps.formatWorkers !== undefined) return deps.formatWorkers;
  if (span < WORKERS_FROM) return 0;
  const cpus = availableParallelism();
  return cpus > 1 ? Math.min(4, cpus) : 0;
}

function localDate(instant: Date): string {
  const l = toLocal(instant, DELIVERY_TIME_ZONE);
  return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

/**
 * Builds one delivery's ZIP from the store (outside any transaction: it may take a while), then records it
 * and moves the organisation's cursor in one transaction that re-checks the cursor, so two workers that
 * raced on the same slot keep exactly one delivery.
 */
async function makeDelivery(
  deps: DeliveryDeps,
  d: MakeDelivery,
): Promise<MadeDelivery | typeof CHANGED | undefined> {
  const { org, kind, slot } = d;
  const weekly = kind === 'weekly';
  const seqFrom = weekly ? org.weeklySeq : 0;
  const seqTo = Math.max(seqFrom, d.cut);
  const linkSeqFrom = weekly ? org.weeklyLinkSeq : 0;
  const linkSeqTo = Math.max(linkSeqFrom, d.linkCut);
  // A weekly from cursor 0 (an organisation's first, or its first after `reprocess`) holds all data not
  // delivered before: its period starts where a history's does, or at its earliest exchange when that is
  // older (set below), as the catch-up below also reads seqFrom 0 as 'from the start'.
  const firstWeekly = weekly && seqFrom === 0;
  // Every bound is a UTC instant like the rest of the manifest: 1-1-2021 is Amsterdam midnight.
  let periodStart = weekly && !firstWeekly ? (org.weeklySlot as string) : HISTORY_START_INSTANT;
  const slotIso = slot.toISOString();
  const madeAt = d.now.getTime() > slot.getTime() ? d.now : slot;
  const ready = readyAt(slot);
  const availableAt = ready.getTime() > madeAt.getTime() ? ready : madeAt;
  const stamp = slotIso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const relFile = join('deliveries', org.code, `${kind}-${stamp}-${randomBytes(4).toString('hex')}.zip`);
  const zipPath = join(deps.dataDir, relFile);
  const fileName = `ketendata-${org.code}-${weekly ? 'wekelijks' : 'historie'}-${localDate(slot)}.zip`;
  // Before anything is opened: a key that cannot be had leaves nothing behind.
  const orgKey = deps.organisationKey(org.code);

  // Noted before the file exists, removed with its listing: a crash in between leaves a leftover that the
  // clean-up knows to be this store's (sweepLeftovers).
  await deps.store.db
    .insertInto('delivery_pending')
    .values({ file: relFile, started_at: new Date().toISOString() })
    .execute();
  const writer = await DeliveryWriter.open(join(deps.dataDir, 'deliveries', '.tmp'), deliveryFileSpecs());
  const scope = scopeOf(org, slotIso, weekly, seqFrom);
  const { members, catchUp } = scope;
  const following = members.filter((g) => !catchUp.includes(g));
  const threads = formatThreads(deps, seqTo - (catchUp.length > 0 ? 0 : seqFrom));
  const formatOptions = { leaveOutPersonalData: org.leavesOutPersonalData };
  const formatter =
    threads > 0 ? workerFormatter(orgKey, threads, formatOptions) : inlineFormatter(orgKey, formatOptions);
  let messages = 0;
  let written: Awaited<ReturnType<DeliveryWriter['finish']>>;
  try {
    const span = deps.batchSpan ? { span: deps.batchSpan } : {};
    const windows = [
      {
        gemeenten: following,
        seqFrom,
        seqTo,
        ...(weekly ? {} : { firstMomentFrom: HISTORY_START_INSTANT }),
        ...span,
      },
      { gemeenten: catchUp, seqFrom: 0, seqTo, ...span },
    ];
    // Keep a few batches in flight so the workers format while this thread reads the store and writes.
    const drain = async (keep: number) => {
      while (formatter.queued > keep) {
        for (const part of await formatter.next()) writer.appendBytes(part.name, part.bytes, part.rows);
        await writer.flushFull();
      }
    };
    for (const window of windows) {
      for await (const batch of messagesInWindow(deps.store, window)) {
        messages += batch.length;
        if (weekly && firstWeekly) {
          for (const m of batch)
            if (
              m.first_moment !== '' &&
              m.first_moment < HISTORY_START_INSTANT &&
              m.first_moment < periodStart
            )
              periodStart = m.first_moment;
        }
        formatter.submit(batch);
        await drain(threads * 2);
      }
    }
    await drain(0);
    // From 0 (a history, a first weekly, a member catching up) the Koppeltabel is a snapshot: one row per
    // relation that holds. After that a weekly carries the events since the last one, lapses included.
    const linkWindows = [
      {
        gemeenten: following,
        seqFrom: linkSeqFrom,
        seqTo: linkSeqTo,
        inForce: linkSeqFrom === 0,
        // A history's files start on 1-1-2021; so do the relations it lists.
        fromHistoryStart: !weekly,
      },
      { gemeenten: catchUp, seqFrom: 0, seqTo: linkSeqTo, inForce: true },
    ];
    for (const links of linkWindows) {
      for await (const batch of linksInWindow(deps.store, links)) await addLinks(writer, batch);
    }
    written = await writer.finish(zipPath, {
      extra: d.extra && org.leavesOutPersonalData ? withPersonalDataLeftOut(d.extra) : d.extra,
      mtime: madeAt,
      manifest: {
        organisation: org.code,
        name: org.name,
        members,
        catchUp,
        kind,
        release: schemaSet().release,
        period: { start: periodStart, end: slotIso },
        seq: { from: seqFrom, to: seqTo },
        linkSeq: { from: linkSeqFrom, to: linkSeqTo },
        madeAt: madeAt.toISOString(),
        availableAt: availableAt.toISOString(),
        messages: messages,
        // The columns with personal data in clear are empty in this delivery (the organisation's choice).
        personalDataLeftOut: org.leavesOutPersonalData,
      },
    });
  } catch (err) {
    await writer.abort();
    await rm(zipPath, { force: true });
    await deps.store.db.deleteFrom('delivery_pending').where('file', '=', relFile).execute();
    throw err;
  } finally {
    await formatter.close();
  }

  const id = await deps.store.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('delivery_pending').where('file', '=', relFile).execute();
    const row = await lockOrganisation(trx, deps.store.dialect, org.code);
    // Deactivated while this was built: it gets nothing more (its cursor stays for a re-activation).
    if (!row || Number(row.active) !== 1) return undefined;
    if (weekly) {
      // Someone else delivered this slot (or a later one) meanwhile: keep theirs.
      if (
        Number(row.weekly_seq) !== seqFrom ||
        (row.weekly_slot && Date.parse(row.weekly_slot) >= slot.getTime())
      ) {
        return undefined;
      }
    } else if (Number(row.history_requested) !== 1) {
      return undefined; // withdrawn meanwhile
    }
    // A member removed (or a choice to leave personal data out) while this was built: not to be sent so.
    const current = await getOrganisation(trx, org.code);
    if (!current || !sameScope(scope, scopeOf(current, slotIso, weekly, seqFrom))) return CHANGED;
    const inserted = await insertDelivery(trx, {
      organisation: org.code,
      kind,
      slot: slotIso,
      period_start: periodStart,
      period_end: slotIso,
      seq_from: seqFrom,
      seq_to: seqTo,
      link_seq_from: linkSeqFrom,
      link_seq_to: linkSeqTo,
      message_count: messages,
      personal_data_left_out: org.leavesOutPersonalData ? 1 : 0,
      catch_up: weekly ? catchUp.join(',') : null,
      made_at: madeAt.toISOString(),
      available_at: availableAt.toISOString(),
      expires_at: expiresAt(madeAt).toISOString(),
      file: relFile,
      file_name: fileName,
      size: written.size,
      sha256: written.sha256,
    });
    if (inserted === undefined) return undefined;
    if (weekly) {
      await trx
        .updateTable('organisation')
        .set({ weekly_seq: seqTo, weekly_link_seq: linkSeqTo, weekly_slot: slotIso })
        .where('code', '=', org.code)
        .execute();
      // Every member this weekly sent from the start (a first weekly sends them all so).
      await clearCatchUp(trx, org.code, seqFrom === 0 ? members : catchUp);
    } else {
      // Only the request this history was built for: one renewed meanwhile (untick, tick) stays for the next.
      await trx
        .updateTable('organisation')
        .set({ history_requested: 0, history_requested_at: null, history_requested_by: null })
        .where('code', '=', org.code)
        .where('history_requested_at', '=', org.historyRequestedAt)
        .execute();
    }
    await audit(trx, {
      at: madeAt,
      actor: 'system',
      organisation: org.code,
      action: 'delivery.make',
      detail: { id: inserted, kind, slot: slotIso, messages: messages },
    });
    return inserted;
  });
  if (id === undefined || id === CHANGED) {
    await rm(zipPath, { force: true });
    return id;
  }
  return { id, organisation: org.code, kind, slot: slotIso, messages: messages };
}
