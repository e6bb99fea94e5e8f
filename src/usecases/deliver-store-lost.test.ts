import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import type { Database } from '../store/database.js';
import { getJobRun } from '../store/jobs.js';
import type { Store } from '../store/open.js';
import {
  type DeliveryDeps,
  defaultWorkerId,
  type MadeDelivery,
  pidNamespace,
  runDue,
  WEEKLY_JOB,
} from './deliver.js';
import { activeWithMessage, claimWeeklySlot, testBsn, testKeys } from './deliveries.fixtures.js';

const MIN = 60_000;
const ACTIVATED = new Date('2024-10-01T10:00:00Z');
const SUNDAY = new Date('2024-10-06T04:00:00Z'); // 06:00 Amsterdam
const SLOT = SUNDAY.toISOString();
const WALL = new Date('2026-03-01T05:00:00Z');

/** The pid of a process that has ended (and been reaped): no process of this host has it now. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid!;
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  return pid;
}

/** This process's PID namespace as worker ids carry it: its inode and the boot id (Linux, as these tests run). */
const INODE = Number(/^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1]);
const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').replace(/-/g, '').slice(0, 8);
const NS = `pidns${INODE}.${BOOT}`;

/** A worker id as `defaultWorkerId` makes it, of a process on this host in this PID namespace. */
const here = (pid: number) => `${hostname()}:${pid}:abcdef:${NS}`;

let bsn = 1;
async function setUp(store: Store, codes: readonly string[]) {
  for (const code of codes) {
    await activeWithMessage(
      store,
      { code },
      { activatedAt: ACTIVATED, messageAt: new Date('2024-10-02T10:00:00Z') },
      testBsn(bsn++),
    );
  }
}

function deps(store: Store, dataDir: string, worker: string, wall: Date): DeliveryDeps {
  return {
    store,
    dataDir,
    worker,
    wallClock: () => wall,
    organisationKey: (code) => testKeys().organisation(code),
  };
}

/** A claim of the Sunday as a worker that ran before left it: running, its lease not over at WALL. */
const claimedBy = (store: Store, worker: string, leaseUntil: Date) =>
  claimWeeklySlot(store, { slot: SLOT, worker, leaseUntil, claimedAt: new Date(WALL.getTime() - MIN) });

const QUERIES = new Set(['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'transaction', 'with']);

/**
 * The store as a run sees it when PostgreSQL restarts under it: once `down`, every query fails, the first
 * with the server's own words, the ones after with a refused connection. With `backAfterJobRun`, the store
 * is back once the run's first try to mark its slot failed has failed (a short restart).
 */
function losable(
  db: Kysely<Database>,
  state: { down: boolean; failures: number; backAfterJobRun?: boolean },
) {
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (!state.down || !QUERIES.has(String(prop))) return value.bind(target);
      return (table: unknown) => {
        state.failures++;
        if (state.backAfterJobRun && prop === 'updateTable' && table === 'job_run') state.down = false;
        throw new Error(
          state.failures === 1
            ? 'the database system is shutting down'
            : 'connect ECONNREFUSED 127.0.0.1:5432',
        );
      };
    },
  }) as Kysely<Database>;
}

describe('the worker id of a claim', () => {
  it('names this host, process, PID namespace (the inode of /proc/self/ns/pid) and boot', () => {
    expect(pidNamespace()).toBe(NS);
    expect(defaultWorkerId()).toMatch(new RegExp(`^${hostname()}:${process.pid}:[0-9a-f]{6}:${NS}$`));
  });
});

for (const dialect of DIALECTS) {
  describe(`a slot claimed by a worker that is gone, on ${dialect}`, () => {
    it('is taken over at once by a run on the same host and PID namespace when the process that claimed it has ended', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363']);
        const gone = here(deadPid());
        await claimedBy(store, gone, new Date(WALL.getTime() + 4 * MIN));
        const report = await runDue(deps(store, dataDir, 'w1', WALL), SUNDAY);
        expect(report.busy).toEqual([]);
        expect(report.made.map((m) => [m.organisation, m.slot])).toEqual([['0363', SLOT]]);
        expect(await getJobRun(store.db, WEEKLY_JOB, SLOT)).toMatchObject({ status: 'done', worker: 'w1' });
      } finally {
        await drop();
      }
    });

    it('waits for the lease of a claim by another host or PID namespace, of an id without a namespace, or by a process that is still there', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363']);
        const lease = new Date(WALL.getTime() + 4 * MIN);
        const dead = deadPid();
        const otherNs = `pidns${INODE + 1}.${BOOT}`;
        // The same namespace number on another machine of this hostname (every root namespace has it).
        const otherBoot = `pidns${INODE}.${BOOT === '00000000' ? '00000001' : '00000000'}`;
        for (const worker of [
          // Another machine: its pids say nothing here, however this host's look.
          `other-host.example:${dead}:abcdef:${NS}`,
          // Another container with this hostname (Docker --network host, compose `hostname:`): its pids are
          // not this namespace's, so a pid missing here may well be running there.
          `${hostname()}:${dead}:abcdef:${otherNs}`,
          `${hostname()}:${dead}:abcdef:${otherBoot}`,
          // An id of the form before the boot id.
          `${hostname()}:${dead}:abcdef:pidns${INODE}`,
          // An id of an older release, or of a system without /proc: its namespace is not known.
          `${hostname()}:${dead}:abcdef`,
          `${hostname()}:${dead}`,
          here(process.ppid),
          // Another run in this very process (serve's weekly and hourly job).
          here(process.pid),
        ]) {
          await claimedBy(store, worker, lease);
          const report = await runDue(deps(store, dataDir, 'w1', WALL), SUNDAY);
          expect(report.made, worker).toEqual([]);
          expect(report.busy, worker).toEqual([{ slot: SLOT, worker, leaseUntil: lease.toISOString() }]);
          expect(await getJobRun(store.db, WEEKLY_JOB, SLOT)).toMatchObject({ status: 'running', worker });
        }
      } finally {
        await drop();
      }
    });
  });

  describe(`a run that loses its store, on ${dialect}`, () => {
    it('reports the error that stopped it, not the failing finishSlot, says until when the slot stays claimed, and has said what it made', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363', '0384']);
        const state = { down: false, failures: 0 };
        // The process that claimed it: ended by the time of the rerun below.
        const worker = here(deadPid());
        const base = deps(store, dataDir, worker, WALL);
        const dying: DeliveryDeps = {
          ...base,
          store: { ...store, db: losable(store.db, state) },
          organisationKey: (code) => {
            if (code === '0384') state.down = true;
            return testKeys().organisation(code);
          },
        };
        const said: MadeDelivery[] = [];
        const error = await runDue(dying, SUNDAY, { onMade: (m) => said.push(m) }).then(
          () => undefined,
          (err: unknown) => err as Error,
        );
        const lease = new Date(WALL.getTime() + 5 * MIN).toISOString();
        expect(error?.message).toBe(
          `the database system is shutting down; slot ${SLOT} could not be marked failed (connect ECONNREFUSED 127.0.0.1:5432): its claim is released when its lease ends at ${lease}, or at once for a deliver on this host after this process has ended`,
        );
        expect(said.map((m) => m.organisation)).toEqual(['0363']);
        expect(await getJobRun(store.db, WEEKLY_JOB, SLOT)).toMatchObject({
          status: 'running',
          worker,
          leaseUntil: lease,
        });

        // The rerun right away (the store is back, the process gone): it makes what is missing, no more.
        const rerun = await runDue(deps(store, dataDir, 'w2', new Date(WALL.getTime() + MIN)), SUNDAY);
        expect(rerun.busy).toEqual([]);
        expect(rerun.made.map((m) => m.organisation)).toEqual(['0384']);
        expect(await getJobRun(store.db, WEEKLY_JOB, SLOT)).toMatchObject({ status: 'done', worker: 'w2' });
      } finally {
        await drop();
      }
    });

    it('marks the slot failed when the store is back after a short pause, and throws the first error', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363', '0384']);
        const state = { down: false, failures: 0, backAfterJobRun: true };
        const dying: DeliveryDeps = {
          ...deps(store, dataDir, 'w1', WALL),
          store: { ...store, db: losable(store.db, state) },
          organisationKey: (code) => {
            if (code === '0384') state.down = true;
            return testKeys().organisation(code);
          },
        };
        await expect(runDue(dying, SUNDAY)).rejects.toThrow(/^the database system is shutting down$/);
        const run = await getJobRun(store.db, WEEKLY_JOB, SLOT);
        expect(run).toMatchObject({ status: 'failed', worker: 'w1', attempts: 1 });
        expect(run!.detail).toMatch(/^the database system is shutting down; nieuwe poging over 20 min$/);
      } finally {
        await drop();
      }
    });
  });
}
