import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { listAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { getJobRun } from '../store/jobs.js';
import type { Store } from '../store/open.js';
import { type DeliveryDeps, runDue, WEEKLY_JOB } from './deliver.js';
import { ingestAt, parseCsv, readZip, testBsn, testKeys } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';
import { activateOrganisation, addOrganisation, findOrganisation, requestHistory } from './organisations.js';

const MIN = 60_000;
const ACTIVATED = new Date('2024-10-01T10:00:00Z');
const SUNDAY = new Date('2024-10-06T04:00:00Z'); // 06:00 Amsterdam
const NEXT_SUNDAY = new Date('2024-10-13T04:00:00Z');
const LATER = new Date('2024-10-20T00:00:00Z');

let bsn = 1;
/** One JW301 for each municipality, passed the hub at `day`. */
async function ingestDay(store: Store, codes: readonly string[], day: string) {
  for (const gemeente of codes)
    await ingestAt(store, new Date(day), { kind: 'JW301', gemeente, bsn: testBsn(bsn++) });
}

/** Active municipalities with a message each in the week before SUNDAY. */
async function setUp(store: Store, codes: readonly string[]) {
  for (const code of codes) {
    await addOrganisation(store, { code, name: code, actor: 'test', now: ACTIVATED });
    await activateOrganisation(store, { code, actor: 'test', now: ACTIVATED });
  }
  await ingestDay(store, codes, '2024-10-02T10:00:00Z');
}

/** Deps whose key lookup fails for the organisations in `broken` (a stand-in for any error in one delivery). */
function depsWith(store: Store, dataDir: string, broken: Set<string>, wall: { now: Date }): DeliveryDeps {
  return {
    store,
    dataDir,
    worker: 'w1',
    wallClock: () => wall.now,
    organisationKey: (code) => {
      if (broken.has(code)) throw new Error(`no key for ${code}`);
      return testKeys().organisation(code);
    },
  };
}

async function weeklies(store: Store, code: string) {
  return (await listDeliveries(store, code, { now: LATER, includePending: true }))
    .filter((d) => d.kind === 'weekly')
    .reverse();
}

for (const dialect of DIALECTS) {
  describe(`a delivery that fails, on ${dialect}`, () => {
    it('is tried again after a wait that doubles per failure, without anyone stepping in', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363']);
        const broken = new Set(['0363']);
        const wall = { now: new Date('2026-03-01T05:00:00Z') };
        const deps = depsWith(store, dataDir, broken, wall);
        const t0 = wall.now.getTime();

        const first = await runDue(deps, SUNDAY);
        expect(first.made).toEqual([]);
        expect(first.failed).toEqual([
          { organisation: '0363', kind: 'weekly', slot: SUNDAY.toISOString(), reason: 'no key for 0363' },
        ]);
        let run = (await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString()))!;
        expect(run).toMatchObject({ status: 'failed', attempts: 1 });
        expect(Date.parse(run.leaseUntil) - t0).toBe(20 * MIN);

        // Before its wait is over (the hourly run 10 minutes later) nothing is tried: no spinning.
        wall.now = new Date(t0 + 10 * MIN);
        const early = await runDue(deps, new Date(SUNDAY.getTime() + 10 * MIN));
        expect(early.failed).toEqual([]);
        expect(early.waiting).toEqual([
          { slot: SUNDAY.toISOString(), retryAfter: new Date(t0 + 20 * MIN).toISOString() },
        ]);

        // Still broken at the next try: the wait doubles.
        wall.now = new Date(t0 + 60 * MIN);
        expect((await runDue(deps, new Date(SUNDAY.getTime() + 60 * MIN))).failed).toHaveLength(1);
        run = (await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString()))!;
        expect(run.attempts).toBe(2);
        expect(Date.parse(run.leaseUntil) - wall.now.getTime()).toBe(40 * MIN);

        // Mended: the next hourly run after the wait makes the Sunday's weekly; the slot is done.
        broken.clear();
        wall.now = new Date(t0 + 120 * MIN);
        const retry = await runDue(deps, new Date(SUNDAY.getTime() + 120 * MIN));
        expect(retry.made.map((m) => [m.organisation, m.slot])).toEqual([['0363', SUNDAY.toISOString()]]);
        expect((await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString()))!.status).toBe('done');
        // Shown on Monday morning as promised.
        expect((await weeklies(store, '0363'))[0]!.availableAt).toBe('2024-10-07T04:00:00.000Z');
      } finally {
        await drop();
      }
    });

    it("ends neither the slot nor later ones for the other organisations; the failed one gets each week's own", async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363', '0384', '0518']);
        const broken = new Set(['0384']);
        const wall = { now: new Date('2026-03-01T05:00:00Z') };
        const deps = depsWith(store, dataDir, broken, wall);

        const first = await runDue(deps, SUNDAY);
        expect(first.made.map((m) => m.organisation).sort()).toEqual(['0363', '0518']);
        expect(first.failed.map((f) => f.organisation)).toEqual(['0384']);
        const run = (await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString()))!;
        expect(run.status).toBe('failed');
        expect(run.detail).toContain('mislukt: 0384 wekelijks (no key for 0384)');
        const log = await listAudit(store.db, { organisation: '0384', actionPrefix: 'delivery.fail' });
        expect(log).toHaveLength(1);
        expect(JSON.parse(log[0]!.detail!)).toMatchObject({ kind: 'weekly', slot: SUNDAY.toISOString() });

        await ingestDay(store, ['0363', '0384', '0518'], '2024-10-09T10:00:00Z');
        // The next Sunday, with the first one still waiting for its retry: the others get their weekly;
        // 0384 waits, or its weekly would leapfrog the one it owes.
        wall.now = new Date(wall.now.getTime() + 10 * MIN);
        const second = await runDue(deps, NEXT_SUNDAY);
        expect(second.waiting.map((w) => w.slot)).toEqual([SUNDAY.toISOString()]);
        expect(second.made.map((m) => m.organisation).sort()).toEqual(['0363', '0518']);
        const next = (await getJobRun(store.db, WEEKLY_JOB, NEXT_SUNDAY.toISOString()))!;
        expect(next.status).toBe('failed');
        expect(next.detail).toContain('wacht op een eerdere week: 0384');

        // Mended: once the wait is over 0384 gets both Sundays, each its own weekly, chained.
        broken.clear();
        wall.now = new Date(wall.now.getTime() + 30 * MIN);
        const retry = await runDue(deps, new Date(NEXT_SUNDAY.getTime() + 40 * MIN));
        expect(retry.made.map((m) => [m.organisation, m.slot])).toEqual([
          ['0384', SUNDAY.toISOString()],
          ['0384', NEXT_SUNDAY.toISOString()],
        ]);
        for (const code of ['0363', '0384', '0518']) {
          const list = await weeklies(store, code);
          expect(list.map((d) => d.slot)).toEqual([SUNDAY.toISOString(), NEXT_SUNDAY.toISOString()]);
          expect(list[0]!.seqFrom).toBe(0);
          expect(list[1]!.seqFrom).toBe(list[0]!.seqTo);
          expect(list.map((d) => d.messageCount)).toEqual([1, 1]);
        }
        for (const slot of [SUNDAY, NEXT_SUNDAY])
          expect((await getJobRun(store.db, WEEKLY_JOB, slot.toISOString()))!.status).toBe('done');
      } finally {
        await drop();
      }
    });

    it('tries a failed history again within the hour, though the weeklies of its slot were all made', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363']);
        await requestHistory(store, { code: '0363', actor: 'ana', now: new Date('2024-10-03T10:00:00Z') });
        const wall = { now: new Date('2026-03-01T05:00:00Z') };
        let calls = 0;
        const deps: DeliveryDeps = {
          ...depsWith(store, dataDir, new Set(), wall),
          organisationKey: (code) => {
            // The weekly is the first delivery of the slot, the history the second.
            if (++calls === 2) throw new Error('disk full');
            return testKeys().organisation(code);
          },
        };
        const first = await runDue(deps, SUNDAY);
        expect(first.made.map((m) => m.kind)).toEqual(['weekly']);
        expect(first.failed.map((f) => f.kind)).toEqual(['history']);

        wall.now = new Date(wall.now.getTime() + 60 * MIN);
        const retry = await runDue(deps, new Date(SUNDAY.getTime() + 60 * MIN));
        expect(retry.made.map((m) => [m.kind, m.slot])).toEqual([['history', SUNDAY.toISOString()]]);
        expect((await findOrganisation(store, '0363'))!.historyRequested).toBe(false);
        expect((await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString()))!.status).toBe('done');
      } finally {
        await drop();
      }
    });

    it('takes over the slot of a worker that died holding it within minutes, not hours', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363']);
        const died = new Date('2026-03-01T05:00:00Z');
        // The worker loses its store for good after claiming (as a killed process does): it can neither
        // write a delivery nor finish its claim, which stays 'running'.
        const dead = new Proxy(store.db, {
          get(target, prop) {
            const value = Reflect.get(target, prop, target);
            if (typeof value !== 'function') return value;
            if (prop !== 'insertInto' && prop !== 'updateTable') return value.bind(target);
            return (table: string) => {
              if (table === (prop === 'insertInto' ? 'delivery_pending' : 'job_run'))
                throw new Error('killed');
              return value.call(target, table);
            };
          },
        }) as Kysely<Database>;
        const dying: DeliveryDeps = {
          ...depsWith(store, dataDir, new Set(), { now: died }),
          store: { ...store, db: dead },
          worker: 'dead',
        };
        await expect(runDue(dying, SUNDAY)).rejects.toThrow('killed');
        expect((await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString()))!.status).toBe('running');

        // The restart ten minutes later (its catch-up, or the hourly job) finds the slot free.
        const restart = {
          ...depsWith(store, dataDir, new Set(), { now: new Date(died.getTime() + 10 * MIN) }),
        };
        const report = await runDue(
          { ...restart, worker: 'restarted' },
          new Date(SUNDAY.getTime() + 10 * MIN),
        );
        expect(report.busy).toEqual([]);
        expect(report.made.map((m) => m.slot)).toEqual([SUNDAY.toISOString()]);
        expect(await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString())).toMatchObject({
          status: 'done',
          worker: 'restarted',
        });
      } finally {
        await drop();
      }
    });
  });
}

describe('a worker that is alive', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renews its claim while it runs, so no other worker takes over a long delivery', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      await setUp(store, ['0363', '0384']);
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const wall = { now: new Date('2026-03-01T05:00:00Z') };
      const start = wall.now.getTime();
      let other: Promise<unknown> | undefined;
      const deps: DeliveryDeps = {
        ...depsWith(store, dataDir, new Set(), wall),
        organisationKey: (code) => {
          if (code === '0384') {
            // The first delivery took 8 minutes, past the lease taken at the start; heartbeats renewed it.
            for (let i = 0; i < 8; i++) {
              wall.now = new Date(wall.now.getTime() + MIN);
              vi.advanceTimersByTime(MIN);
            }
            other = runDue({ ...deps, worker: 'w2' }, SUNDAY);
          }
          return testKeys().organisation(code);
        },
      };
      const report = await runDue(deps, SUNDAY);
      expect(report.made.map((m) => m.organisation)).toEqual(['0363', '0384']);
      expect(await other).toMatchObject({
        made: [],
        busy: [{ slot: SUNDAY.toISOString(), worker: 'w1' }],
      });
      const run = (await getJobRun(store.db, WEEKLY_JOB, SUNDAY.toISOString()))!;
      expect(run).toMatchObject({ status: 'done', worker: 'w1' });
      expect(Date.parse(run.leaseUntil) - start).toBe(13 * MIN);
    } finally {
      await drop();
    }
  });
});

describe('a history request renewed while the previous history is being built', () => {
  it('stays open for the next weekly run', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      await setUp(store, ['0363']);
      await requestHistory(store, { code: '0363', actor: 'ana', now: new Date('2024-10-03T10:00:00Z') });
      let calls = 0;
      const deps: DeliveryDeps = {
        ...depsWith(store, dataDir, new Set(), { now: new Date() }),
        organisationKey: (code) => {
          // The second delivery is the history: while it is built, the request is withdrawn and made again.
          if (++calls === 2) {
            store
              .sqlite!.prepare(
                `UPDATE organisation SET history_requested = 1, history_requested_at = '2024-10-06T04:05:00.000Z',
                 history_requested_by = 'bob' WHERE code = '0363'`,
              )
              .run();
          }
          return testKeys().organisation(code);
        },
      };
      const run = await runDue(deps, SUNDAY);
      expect(run.made.map((m) => m.kind)).toEqual(['weekly', 'history']);
      expect(await findOrganisation(store, '0363')).toMatchObject({
        historyRequested: true,
        historyRequestedAt: '2024-10-06T04:05:00.000Z',
      });
      await ingestDay(store, ['0363'], '2024-10-09T10:00:00Z');
      const next = await runDue(deps, NEXT_SUNDAY);
      expect(next.made.map((m) => [m.kind, m.slot])).toEqual([
        ['weekly', NEXT_SUNDAY.toISOString()],
        ['history', NEXT_SUNDAY.toISOString()],
      ]);
      expect((await findOrganisation(store, '0363'))!.historyRequested).toBe(false);
      const history = (await listDeliveries(store, '0363', { now: LATER })).find(
        (d) => d.kind === 'history' && d.slot === NEXT_SUNDAY.toISOString(),
      )!;
      const rows = parseCsv((await readZip(join(dataDir, history.file))).get('JW301.csv')!).rows;
      expect(rows).toHaveLength(2);
    } finally {
      await drop();
    }
  });
});
