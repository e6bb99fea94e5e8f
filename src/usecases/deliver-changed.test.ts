import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import type { Database } from '../store/database.js';
import type { Store } from '../store/open.js';
import { type DeliveryDeps, runDue } from './deliver.js';
import { ingestAt, parseCsv, readZip, testBsn, testKeys } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';
import {
  activateOrganisation,
  addOrganisation,
  cancelHistoryRequest,
  findOrganisation,
  requestHistory,
  setMembers,
  setPersonalData,
} from './organisations.js';

const ACTIVATED = new Date('2024-02-28T10:00:00Z');
const FIRST_SUNDAY = new Date('2024-03-03T05:01:00Z'); // 06:01 Amsterdam
const SUNDAY = new Date('2024-03-10T05:01:00Z');
const LATER = new Date('2024-03-11T06:00:00Z');

/** 0344 and 0363, and region R1 for both; each has had its first weekly; 0344 has a new message since. */
async function setUp(store: Store, dataDir: string): Promise<DeliveryDeps> {
  for (const code of ['0344', '0363'])
    await addOrganisation(store, { code, name: code, actor: 'test', now: ACTIVATED });
  await addOrganisation(store, {
    code: 'R1',
    name: 'Regio',
    members: ['0344', '0363'],
    actor: 'test',
    now: ACTIVATED,
  });
  for (const code of ['0344', '0363', 'R1'])
    await activateOrganisation(store, { code, actor: 'test', now: ACTIVATED });
  await ingestAt(store, new Date('2024-02-29T09:00:00Z'), {
    kind: 'JW301',
    gemeente: '0363',
    bsn: testBsn(1),
  });
  const deps: DeliveryDeps = {
    store,
    dataDir,
    worker: 'w1',
    organisationKey: (c) => testKeys().organisation(c),
  };
  await runDue(deps, FIRST_SUNDAY);
  await ingestAt(store, new Date('2024-03-05T09:00:00Z'), {
    kind: 'JW301',
    gemeente: '0344',
    bsn: testBsn(2),
  });
  return deps;
}

/** R1's weekly of SUNDAY: its municipalities (per JW301 row) and its manifest. */
async function regionWeekly(store: Store, dataDir: string) {
  const weeklies = (await listDeliveries(store, 'R1', { now: LATER })).filter(
    (d) => d.kind === 'weekly' && d.slot === '2024-03-10T05:00:00.000Z',
  );
  expect(weeklies).toHaveLength(1);
  const zip = await readZip(join(dataDir, weeklies[0]?.file as string));
  const manifest = JSON.parse((zip.get('manifest.json') as Buffer).toString('utf8')) as {
    members: string[];
    personalDataLeftOut: boolean;
  };
  const gemeenten = parseCsv(zip.get('JW301.csv') as Buffer).rows.map((r) => r.Gemeente);
  return { gemeenten, manifest, delivery: weeklies[0] };
}

/**
 * The store with every transaction held until `gate` has settled: a change started while a delivery is being
 * built is then committed before the delivery is recorded, as a slow build would let it.
 */
function gated(store: Store, gate: () => Promise<unknown> | undefined): Store {
  const db = new Proxy(store.db, {
    get(target, prop) {
      if (prop === 'transaction') {
        return () => {
          const builder = target.transaction();
          return {
            execute: async <T>(
              fn: (trx: Parameters<Parameters<typeof builder.execute>[0]>[0]) => Promise<T>,
            ) => {
              await gate();
              return builder.execute(fn);
            },
          };
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Kysely<Database>;
  return { ...store, db } as Store;
}

/**
 * `deps` where a build of R1, once it has read R1, starts `change` (in its first build, or in every build with
 * `each`), committed before that build is recorded.
 */
function changingDuringBuild(deps: DeliveryDeps, change: () => Promise<unknown>, each = false): DeliveryDeps {
  let pending: Promise<unknown> | undefined;
  return {
    ...deps,
    store: gated(deps.store, () => pending),
    organisationKey: (code) => {
      // Asked once per build, after the organisation was read.
      if (code === 'R1' && (each || pending === undefined)) pending = change();
      return testKeys().organisation(code);
    },
  };
}

for (const dialect of DIALECTS) {
  describe(`an organisation changed during the weekly run, on ${dialect}`, () => {
    it('a member removed while earlier organisations of the slot were built is not in the region weekly', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = await setUp(store, dataDir);
        let change: Promise<unknown> | undefined;
        await runDue(deps, SUNDAY, {
          onMade: () => {
            // The operator removes 0344 from R1 while the run is busy with 0344's own weekly (codes sort first).
            change ??= setMembers(store, { code: 'R1', members: ['0363'], actor: 'op', now: SUNDAY });
          },
        });
        await change;
        const { gemeenten, manifest } = await regionWeekly(store, dataDir);
        expect(manifest.members).toEqual(['0363']);
        expect(gemeenten).toEqual([]);
      } finally {
        await drop();
      }
    });

    it('a member removed while the region weekly itself was built: built again without it', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = await setUp(store, dataDir);
        const run = changingDuringBuild(deps, () =>
          setMembers(store, { code: 'R1', members: ['0363'], actor: 'op', now: SUNDAY }),
        );
        const made = await runDue(run, SUNDAY);
        expect(made.made.filter((d) => d.organisation === 'R1')).toHaveLength(1);
        const { gemeenten, manifest } = await regionWeekly(store, dataDir);
        expect(manifest.members).toEqual(['0363']);
        expect(gemeenten).toEqual([]);
      } finally {
        await drop();
      }
    });

    it('a choice to leave personal data out made while the weekly was built applies to it', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = await setUp(store, dataDir);
        const run = changingDuringBuild(deps, () =>
          setPersonalData(store, { code: 'R1', leaveOut: true, actor: 'op', now: SUNDAY }),
        );
        await runDue(run, SUNDAY);
        const { gemeenten, manifest } = await regionWeekly(store, dataDir);
        expect(manifest.personalDataLeftOut).toBe(true);
        expect(gemeenten).toEqual(['0344']);
      } finally {
        await drop();
      }
    });

    it('a history asked again after the slot while it was built waits for the next Sunday, also when rebuilt', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = await setUp(store, dataDir);
        await requestHistory(store, { code: 'R1', actor: 'op', now: new Date('2024-03-08T10:00:00Z') });
        const later = new Date(SUNDAY.getTime() + 60_000);
        let builds = 0;
        let change: Promise<unknown> | undefined;
        const run: DeliveryDeps = {
          ...deps,
          store: gated(store, () => change),
          organisationKey: (code) => {
            // R1's second build is its history: the request is withdrawn and made again (after the slot), and
            // a member removed, so the build is refused as changed.
            if (code === 'R1' && ++builds === 2)
              change = (async () => {
                await cancelHistoryRequest(store, { code: 'R1', actor: 'op', now: later });
                await requestHistory(store, { code: 'R1', actor: 'op', now: later });
                await setMembers(store, { code: 'R1', members: ['0363'], actor: 'op', now: later });
              })();
            return testKeys().organisation(code);
          },
        };
        const report = await runDue(run, SUNDAY);
        expect(report.made.filter((d) => d.organisation === 'R1').map((d) => d.kind)).toEqual(['weekly']);
        expect((await findOrganisation(store, 'R1'))?.historyRequested).toBe(true);
      } finally {
        await drop();
      }
    });

    it('an organisation that keeps changing while it is built fails for now, and is delivered when it is still', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = await setUp(store, dataDir);
        let leaveOut = false;
        const wall = { now: SUNDAY };
        const run: DeliveryDeps = {
          ...changingDuringBuild(
            deps,
            () => {
              leaveOut = !leaveOut;
              return setPersonalData(store, { code: 'R1', leaveOut, actor: 'op', now: SUNDAY });
            },
            true,
          ),
          wallClock: () => wall.now,
        };
        const report = await runDue(run, SUNDAY);
        expect(report.failed.map((f) => [f.organisation, f.reason])).toEqual([
          ['R1', expect.stringContaining('changed while its delivery was made, 3 times')],
        ]);
        expect(report.made.map((d) => d.organisation)).toEqual(['0344', '0363']);
        // The slot is tried again later; by then nobody is changing it.
        wall.now = new Date(SUNDAY.getTime() + 24 * 3_600_000);
        const retry = await runDue({ ...deps, wallClock: () => wall.now }, wall.now);
        expect(retry.made.map((d) => d.organisation)).toEqual(['R1']);
        const { gemeenten, manifest } = await regionWeekly(store, dataDir);
        expect(manifest.personalDataLeftOut).toBe(true);
        expect(gemeenten).toEqual(['0344']);
      } finally {
        await drop();
      }
    });
  });
}
