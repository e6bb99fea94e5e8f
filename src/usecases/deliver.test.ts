import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { readyAt, weeklySlotsBetween } from '../domain/delivery-week.js';
import { expiresAt } from '../domain/retention.js';
import { listAudit } from '../store/audit.js';
import { readIndicatorSnapshot } from '../store/indicators.js';
import { listJobRuns } from '../store/jobs.js';
import type { Store } from '../store/open.js';
import { type DeliveryDeps, firstSlotOwed, runDue, WEEKLY_JOB } from './deliver.js';
import { ingestAt, parseCsv, readZip, testBsn, testKeys } from './deliveries.fixtures.js';
import { type DeliveryView, listDeliveries } from './deliveries.js';
import { openDelivery } from './download.js';
import {
  activateOrganisation,
  addOrganisation,
  findOrganisation,
  requestHistory,
  setMembers,
} from './organisations.js';

const DAY = 86_400_000;
const ACTIVATED = new Date('2024-02-28T10:00:00Z'); // a Wednesday
const LAST_SUNDAY = new Date('2024-04-28T04:00:00Z');
const at = (iso: string) => new Date(iso);

/** BerichtIds of the main-table rows (one per message) in a delivery ZIP. */
async function berichtIds(dataDir: string, d: DeliveryView): Promise<string[]> {
  const zip = await readZip(join(dataDir, d.file));
  return ['JW301', 'JW305'].flatMap((code) =>
    parseCsv(zip.get(`${code}.csv`)!).rows.map((r) => r.BerichtId!),
  );
}

/** What `runDue` needs of a test store, with the test keys. */
const deliveryDeps = (store: Store, dataDir: string): DeliveryDeps => ({
  store,
  dataDir,
  organisationKey: (c) => testKeys().organisation(c),
  worker: 'w1',
});

async function storedIds(store: Store, gemeente: string, seqFrom: number, seqTo: number): Promise<string[]> {
  const rows = await store.db
    .selectFrom('message')
    .select('bericht_id')
    .where('gemeente', '=', gemeente)
    .where('seq', '>', seqFrom)
    .where('seq', '<=', seqTo)
    .execute();
  return rows.map((r) => r.bericht_id).sort();
}

for (const dialect of DIALECTS) {
  describe(`weekly deliveries replayed over months on ${dialect}`, () => {
    let store: Store;
    let dataDir: string;
    let drop: () => Promise<void>;
    let deps: DeliveryDeps;
    let beforeActivation: number;
    const weeklyIds = new Map<string, string[]>();
    const sundays = weeklySlotsBetween(ACTIVATED, LAST_SUNDAY);

    beforeAll(async () => {
      ({ store, dataDir, drop } = await freshStore(dialect));
      deps = { store, dataDir, organisationKey: (c) => testKeys().organisation(c), worker: 'w1' };
      // Ingested before activation: not delivered before, so in the first weekly (and in the history).
      beforeActivation = await ingestAt(store, at('2024-02-20T09:00:00Z'), {
        kind: 'JW301',
        gemeente: '0363',
        bsn: testBsn(1),
      });
      await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: ACTIVATED });
      await activateOrganisation(store, { code: '0363', actor: 'test', now: ACTIVATED });

      // Two messages a week; the server runs on Sundays 06:00 but is down on 17 and 24 March (caught up
      // on Tuesday 26 March, while ingest went on) and runs a second time in the slot of 7 April.
      const down = new Set(['2024-03-17T05:00:00.000Z', '2024-03-24T05:00:00.000Z']);
      let prev = ACTIVATED.getTime();
      let n = 2;
      for (const sunday of sundays) {
        await ingestAt(store, new Date(prev + DAY), { kind: 'JW301', gemeente: '0363', bsn: testBsn(n++) });
        await ingestAt(store, new Date(prev + 3 * DAY), {
          kind: 'JW305',
          gemeente: '0363',
          bsn: testBsn(n++),
        });
        prev = sunday.getTime();
        if (sunday.toISOString() === '2024-03-24T05:00:00.000Z') {
          await ingestAt(store, at('2024-03-26T08:00:00Z'), {
            kind: 'JW301',
            gemeente: '0363',
            bsn: testBsn(n++),
          });
          const caughtUp = await runDue(deps, at('2024-03-26T09:00:00Z'));
          expect(caughtUp.made.map((m) => m.slot)).toEqual([
            '2024-03-17T05:00:00.000Z',
            '2024-03-24T05:00:00.000Z',
          ]);
        }
        if (down.has(sunday.toISOString())) continue;
        await runDue(deps, sunday);
      }
    });
    afterAll(async () => drop());

    it('makes one weekly per Sunday 06:00 Amsterdam across the change to summer time', async () => {
      const list = await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') });
      const weeklies = list.filter((d) => d.kind === 'weekly').reverse();
      expect(weeklies.map((d) => d.slot)).toEqual(sundays.map((s) => s.toISOString()));
      expect(weeklies.map((d) => d.slot)).toContain('2024-03-31T04:00:00.000Z'); // 06:00 CEST
      expect(weeklies.map((d) => d.slot)).toContain('2024-03-24T05:00:00.000Z'); // 06:00 CET
      const dst = weeklies.find((d) => d.slot === '2024-03-31T04:00:00.000Z')!;
      expect(dst.availableAt).toBe('2024-04-01T04:00:00.000Z');
      expect(dst.expiresAt).toBe(expiresAt(at(dst.madeAt)).toISOString());
    });

    it('gives each weekly the period since the slot before it; the first one since 1-1-2021', async () => {
      const weeklies = (await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') }))
        .filter((d) => d.kind === 'weekly')
        .reverse();
      expect(weeklies.map((d) => d.periodStart)).toEqual([
        '2020-12-31T23:00:00.000Z', // 1-1-2021 00:00 Amsterdam
        ...sundays.slice(0, -1).map((s) => s.toISOString()),
      ]);
      expect(weeklies.map((d) => d.periodEnd)).toEqual(sundays.map((s) => s.toISOString()));
    });

    it("refreshes the organisation's dashboard snapshot at the cut of its last weekly", async () => {
      const snap = await readIndicatorSnapshot(store.db, '0363');
      expect(snap?.computed_at).toBe(LAST_SUNDAY.toISOString());
      const last = (await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') }))[0]!;
      expect(snap?.message_seq).toBe(last.seqTo);
      expect(snap?.link_seq).toBe(last.linkSeqTo);
    });

    it('shows a Sunday delivery as ready only from Monday morning', async () => {
      const sunday = await listDeliveries(store, '0363', { now: at('2024-04-28T12:00:00Z') });
      expect(sunday.map((d) => d.slot)).not.toContain('2024-04-28T04:00:00.000Z');
      const monday = await listDeliveries(store, '0363', { now: at('2024-04-29T04:00:00Z') });
      expect(monday[0]?.slot).toBe('2024-04-28T04:00:00.000Z');
    });

    it('leaves no gap and no overlap: the seq ranges chain from 0 and the union is everything stored', async () => {
      const weeklies = (await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') }))
        .filter((d) => d.kind === 'weekly')
        .reverse();
      expect(weeklies[0]!.seqFrom).toBe(0);
      expect(weeklies[0]!.seqTo).toBeGreaterThanOrEqual(beforeActivation);
      for (let i = 1; i < weeklies.length; i++) {
        expect(weeklies[i]!.seqFrom).toBe(weeklies[i - 1]!.seqTo);
        expect(weeklies[i]!.linkSeqFrom).toBe(weeklies[i - 1]!.linkSeqTo);
      }
      // The Koppeltabel rows chain the same way: every link, in exactly one weekly.
      let koppel = 0;
      for (const d of weeklies)
        koppel += parseCsv((await readZip(join(dataDir, d.file))).get('Koppeltabel.csv')!).rows.length;
      const links = await store.db
        .selectFrom('link')
        .select('seq')
        .where('seq', '>', weeklies[0]!.linkSeqFrom)
        .execute();
      expect(links.length).toBeGreaterThan(0);
      expect(koppel).toBe(links.length);
      const all: string[] = [];
      for (const d of weeklies) {
        const ids = await berichtIds(dataDir, d);
        expect(ids.length).toBe(d.messageCount);
        weeklyIds.set(d.slot, ids);
        all.push(...ids);
      }
      expect(new Set(all).size).toBe(all.length);
      const last = weeklies[weeklies.length - 1]!;
      expect(all.sort()).toEqual(await storedIds(store, '0363', 0, Number.MAX_SAFE_INTEGER));
      expect(weeklyIds.get(weeklies[0]!.slot)).toEqual(
        expect.arrayContaining(await storedIds(store, '0363', 0, beforeActivation)),
      );
      expect(last.seqTo).toBe(
        Math.max(...(await store.db.selectFrom('message').select('seq').execute()).map((r) => Number(r.seq))),
      );
    });

    it('gives each missed Sunday what had been ingested by then', async () => {
      expect(weeklyIds.get('2024-03-17T05:00:00.000Z')).toHaveLength(2);
      // The catch-up on Tuesday took the message ingested on Tuesday into the latest missed slot.
      expect(weeklyIds.get('2024-03-24T05:00:00.000Z')).toHaveLength(3);
      expect(weeklyIds.get('2024-03-31T04:00:00.000Z')).toHaveLength(2);
    });

    it('adds nothing when a slot runs again, and claims each slot once', async () => {
      const before = await listDeliveries(store, '0363', {
        now: at('2024-04-30T00:00:00Z'),
        includePending: true,
      });
      const again = await runDue(deps, at('2024-04-28T07:30:00Z'));
      const other = await runDue({ ...deps, worker: 'w2' }, at('2024-04-28T07:31:00Z'));
      expect([...again.made, ...other.made]).toEqual([]);
      const after = await listDeliveries(store, '0363', {
        now: at('2024-04-30T00:00:00Z'),
        includePending: true,
      });
      expect(after.map((d) => d.id)).toEqual(before.map((d) => d.id));
      const runs = await listJobRuns(store.db, WEEKLY_JOB);
      expect(runs.map((r) => r.slot).sort()).toEqual(sundays.map((s) => s.toISOString()));
      expect(new Set(runs.map((r) => r.status))).toEqual(new Set(['done']));
    });

    it('keeps a delivery on day 59, deletes file and listing on day 60, and keeps the stored data', async () => {
      const first = (await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') })).at(-1)!;
      expect(first.slot).toBe('2024-03-03T05:00:00.000Z');
      const messages = (await store.db.selectFrom('message').select('seq').execute()).length;
      const day59 = new Date(Date.parse(first.madeAt) + 59 * DAY);
      expect((await runDue(deps, day59)).expired).toBe(0);
      expect(existsSync(join(dataDir, first.file))).toBe(true);
      const day60 = at(first.expiresAt);
      expect(day60.toISOString()).toBe('2024-05-02T04:00:00.000Z');
      // Expired is gone at once, even before the retention job has run.
      expect((await listDeliveries(store, '0363', { now: day60 })).map((d) => d.id)).not.toContain(first.id);
      const who = { organisation: '0363', actor: 'test', now: day60, id: first.id };
      await expect(openDelivery({ store, dataDir }, who)).rejects.toThrow('delivery.not_found');
      const dayBefore = new Date(day60.getTime() - 1);
      expect((await listDeliveries(store, '0363', { now: dayBefore })).map((d) => d.id)).toContain(first.id);
      expect((await runDue(deps, day60)).expired).toBe(1);
      expect(existsSync(join(dataDir, first.file))).toBe(false);
      const list = await listDeliveries(store, '0363', { now: day60 });
      expect(list.map((d) => d.id)).not.toContain(first.id);
      expect((await store.db.selectFrom('message').select('seq').execute()).length).toBe(messages);
      const log = await listAudit(store.db, { organisation: '0363', actionPrefix: 'delivery.expire' });
      expect(log).toHaveLength(1);
      expect(JSON.parse(log[0]!.detail!).id).toBe(first.id);
    });

    it('removes what an interrupted delivery of this store left behind once it is a day old, and nothing else', async () => {
      const listed = (await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') })).at(-1)!;
      const root = join(dataDir, 'deliveries');
      const twoDaysAgo = new Date(Date.now() - 2 * DAY);
      const put = (path: string, old: boolean, dir = false) => {
        mkdirSync(dirname(path), { recursive: true });
        if (dir) mkdirSync(path, { recursive: true });
        else writeFileSync(path, 'PK');
        if (old) utimesSync(path, twoDaysAgo, twoDaysAgo);
      };
      put(join(root, '.tmp', 'delivery-crashed'), true, true);
      put(join(root, '.tmp', 'delivery-running'), false, true);
      put(join(root, '0363', 'weekly-20240505T040000Z-dead.zip'), true);
      put(join(root, '0363', 'weekly-20240505T040000Z-busy.zip'), false);
      // A ZIP this store never began: another store's on the same data folder, however old.
      put(join(root, '0363', 'weekly-20240505T040000Z-other.zip'), true);
      utimesSync(join(dataDir, listed.file), twoDaysAgo, twoDaysAgo);
      await store.db
        .insertInto('delivery_pending')
        .values([
          {
            file: join('deliveries', '0363', 'weekly-20240505T040000Z-dead.zip'),
            started_at: twoDaysAgo.toISOString(),
          },
          {
            file: join('deliveries', '0363', 'weekly-20240505T040000Z-busy.zip'),
            started_at: new Date().toISOString(),
          },
        ])
        .execute();

      expect((await runDue(deps, at('2024-04-30T00:00:00Z'))).leftovers).toBe(2);
      expect(existsSync(join(root, '.tmp', 'delivery-crashed'))).toBe(false);
      expect(existsSync(join(root, '0363', 'weekly-20240505T040000Z-dead.zip'))).toBe(false);
      expect(existsSync(join(root, '.tmp', 'delivery-running'))).toBe(true);
      expect(existsSync(join(root, '0363', 'weekly-20240505T040000Z-busy.zip'))).toBe(true);
      expect(existsSync(join(root, '0363', 'weekly-20240505T040000Z-other.zip'))).toBe(true);
      expect(existsSync(join(dataDir, listed.file))).toBe(true);
      // Every delivery made so far has removed its own note; only the busy one's is left.
      expect(
        (await store.db.selectFrom('delivery_pending').select('file').execute()).map((r) => r.file),
      ).toEqual([join('deliveries', '0363', 'weekly-20240505T040000Z-busy.zip')]);
      rmSync(join(root, '.tmp', 'delivery-running'), { recursive: true });
      rmSync(join(root, '0363', 'weekly-20240505T040000Z-busy.zip'));
      rmSync(join(root, '0363', 'weekly-20240505T040000Z-other.zip'));
      await store.db.deleteFrom('delivery_pending').execute();
    });

    it('makes a requested history with the next weekly run; it equals the union of the weeklies', async () => {
      await requestHistory(store, { code: '0363', actor: 'ana@example.nl', now: at('2024-04-30T10:00:00Z') });
      expect((await runDue(deps, at('2024-05-01T10:00:00Z'))).made).toEqual([]);
      const run = await runDue(deps, at('2024-05-05T04:00:00Z'));
      expect(run.made.map((m) => m.kind).sort()).toEqual(['history', 'weekly']);
      expect((await findOrganisation(store, '0363'))!.historyRequested).toBe(false);
      const list = await listDeliveries(store, '0363', { now: at('2024-05-06T12:00:00Z') });
      const history = list.find((d) => d.kind === 'history')!;
      const weekly = list.find((d) => d.slot === '2024-05-05T04:00:00.000Z' && d.kind === 'weekly')!;
      expect(history.seqTo).toBe(weekly.seqTo);
      expect(history.fileName).toBe('ketendata-0363-historie-2024-05-05.zip');
      const union = [...[...weeklyIds.values()].flat(), ...(await berichtIds(dataDir, weekly))].sort();
      expect((await berichtIds(dataDir, history)).sort()).toEqual(union);
      // The next Sunday makes no second history.
      const next = await runDue(deps, at('2024-05-12T04:00:00Z'));
      expect(next.made.map((m) => m.kind)).toEqual(['weekly']);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`a history on ${dialect}`, () => {
    it('holds what passed the hub from 1-1-2021 00:00 Amsterdam on; the first weekly holds everything', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = deliveryDeps(store, dataDir);
        const on = (iso: string, n: number) =>
          ingestAt(store, at(iso), { kind: 'JW301', gemeente: '0363', bsn: testBsn(n) });
        const lastOf2020 = await on('2020-12-31T22:30:00Z', 1); // 23:30 on 31 December in Amsterdam
        const firstOf2021 = await on('2020-12-31T23:30:00Z', 2); // 00:30 on 1 January in Amsterdam
        await addOrganisation(store, {
          code: '0363',
          name: 'Amsterdam',
          actor: 'test',
          now: at('2024-05-01T10:00:00Z'),
        });
        await activateOrganisation(store, { code: '0363', actor: 'test', now: at('2024-05-01T10:00:00Z') });
        await requestHistory(store, { code: '0363', actor: 'test', now: at('2024-05-01T10:00:00Z') });
        const run = await runDue(deps, at('2024-05-05T04:00:00Z'));
        expect(run.made.map((m) => m.kind).sort()).toEqual(['history', 'weekly']);
        const list = await listDeliveries(store, '0363', { now: at('2024-05-06T12:00:00Z') });
        const ids = (kind: string) => berichtIds(dataDir, list.find((d) => d.kind === kind)!);
        expect(await ids('history')).toEqual(await storedIds(store, '0363', lastOf2020, firstOf2021));
        expect((await ids('weekly')).sort()).toEqual(await storedIds(store, '0363', 0, firstOf2021));
        // The later 301 is a version of the earlier one: a relation the weekly lists, the history not,
        // as the history leaves out the message of 2020 it points at.
        const koppel = async (kind: string) => {
          const d = list.find((x) => x.kind === kind)!;
          return parseCsv((await readZip(join(dataDir, d.file))).get('Koppeltabel.csv')!).rows;
        };
        const [old] = await storedIds(store, '0363', 0, lastOf2020);
        const mentions = (rows: Record<string, string>[]) =>
          rows.filter((r) => Object.values(r).includes(old!)).length;
        expect(mentions(await koppel('weekly'))).toBeGreaterThan(0);
        expect(mentions(await koppel('history'))).toBe(0);
        // The first weekly holds everything, so its period starts at its earliest exchange.
        expect(list.find((d) => d.kind === 'weekly')!.periodStart).toBe('2020-12-31T22:30:00.000Z');
        expect(list.find((d) => d.kind === 'history')!.periodStart).toBe('2020-12-31T23:00:00.000Z');
      } finally {
        await drop();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`a head organisation that gains a member on ${dialect}`, () => {
    it('leaves a member out of a missed slot made later when it joined after that slot', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = deliveryDeps(store, dataDir);
        const old0599 = await ingestAt(store, at('2024-04-01T09:00:00Z'), {
          kind: 'JW301',
          gemeente: '0599',
          bsn: testBsn(1),
        });
        await addOrganisation(store, {
          code: 'REGIO02',
          name: 'Regio',
          members: ['0363'],
          actor: 'test',
          now: at('2024-04-03T10:00:00Z'),
        });
        await activateOrganisation(store, {
          code: 'REGIO02',
          actor: 'test',
          now: at('2024-04-03T10:00:00Z'),
        });
        await runDue(deps, at('2024-04-07T04:00:00Z'));
        const a0363 = await ingestAt(store, at('2024-04-08T09:00:00Z'), {
          kind: 'JW301',
          gemeente: '0363',
          bsn: testBsn(2),
        });
        // The run of 14 April is missed; 0599 joins on the 17th; the run of the 21st catches up both slots.
        await setMembers(store, {
          code: 'REGIO02',
          members: ['0363', '0599'],
          actor: 'test',
          now: at('2024-04-17T10:00:00Z'),
        });
        const made = await runDue(deps, at('2024-04-21T04:00:00Z'));
        expect(made.made.map((m) => m.slot)).toEqual([
          '2024-04-14T04:00:00.000Z',
          '2024-04-21T04:00:00.000Z',
        ]);
        const weeklies = (await listDeliveries(store, 'REGIO02', { now: at('2024-04-30T00:00:00Z') }))
          .filter((d) => d.kind === 'weekly')
          .reverse();
        const manifest = async (d: DeliveryView) =>
          JSON.parse((await readZip(join(dataDir, d.file))).get('manifest.json')!.toString('utf8'));
        const [, missed, latest] = weeklies as [DeliveryView, DeliveryView, DeliveryView];
        expect(await manifest(missed)).toMatchObject({ members: ['0363'], catchUp: [] });
        // Every period bound is a full UTC instant, the first weekly's start too (1-1-2021 Amsterdam).
        expect((await manifest(weeklies[0]!)).period).toEqual({
          start: '2020-12-31T23:00:00.000Z',
          end: weeklies[0]!.slot,
        });
        expect((await manifest(missed)).period).toEqual({ start: weeklies[0]!.slot, end: missed.slot });
        expect(await manifest(latest)).toMatchObject({ members: ['0363', '0599'], catchUp: ['0599'] });
        const ids = async (...seqs: number[]) =>
          (await store.db.selectFrom('message').select('bericht_id').where('seq', 'in', seqs).execute())
            .map((r) => r.bericht_id)
            .sort();
        expect((await berichtIds(dataDir, missed)).sort()).toEqual(await ids(a0363));
        expect((await berichtIds(dataDir, latest)).sort()).toEqual(await ids(old0599));
        expect((await findOrganisation(store, 'REGIO02'))?.catchUp).toEqual([]);
      } finally {
        await drop();
      }
    });

    it("sends the new member's data so far with the next weekly, once, links in force included", async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = deliveryDeps(store, dataDir);
        let n = 1;
        const ingest = (iso: string, kind: 'JW301' | 'JW305', gemeente: string, bsn = testBsn(n++)) =>
          ingestAt(store, at(iso), { kind, gemeente, bsn });
        // Before the region acts for 0599: a 301 and the 305 that starts it for the same client (a link), and
        // one 301 of 0363.
        const old301 = await ingest('2024-04-01T09:00:00Z', 'JW301', '0599', testBsn(99));
        const old305 = await ingest('2024-04-02T09:00:00Z', 'JW305', '0599', testBsn(99));
        const old0363 = await ingest('2024-04-02T10:00:00Z', 'JW301', '0363');

        await addOrganisation(store, {
          code: 'REGIO01',
          name: 'Regio',
          members: ['0363'],
          actor: 'test',
          now: at('2024-04-03T10:00:00Z'),
        });
        await activateOrganisation(store, {
          code: 'REGIO01',
          actor: 'test',
          now: at('2024-04-03T10:00:00Z'),
        });
        await runDue(deps, at('2024-04-07T04:00:00Z'));
        const after1 = await ingest('2024-04-08T09:00:00Z', 'JW301', '0363');
        const new0599 = await ingest('2024-04-08T10:00:00Z', 'JW301', '0599');

        await setMembers(store, {
          code: 'REGIO01',
          members: ['0363', '0599'],
          actor: 'test',
          now: at('2024-04-09T10:00:00Z'),
        });
        expect((await findOrganisation(store, 'REGIO01'))?.catchUp).toEqual(['0599']);
        await runDue(deps, at('2024-04-14T04:00:00Z'));
        // Keeping the same members sends nothing again.
        await setMembers(store, {
          code: 'REGIO01',
          members: ['0363', '0599'],
          actor: 'test',
          now: at('2024-04-15T10:00:00Z'),
        });
        const later0599 = await ingest('2024-04-16T10:00:00Z', 'JW305', '0599');
        await runDue(deps, at('2024-04-21T04:00:00Z'));

        const weeklies = (await listDeliveries(store, 'REGIO01', { now: at('2024-04-30T00:00:00Z') }))
          .filter((d) => d.kind === 'weekly')
          .reverse();
        expect(weeklies).toHaveLength(3);
        const [first, second, third] = weeklies as [DeliveryView, DeliveryView, DeliveryView];
        const ids = async (...seqs: number[]) =>
          (await store.db.selectFrom('message').select('bericht_id').where('seq', 'in', seqs).execute())
            .map((r) => r.bericht_id)
            .sort();
        expect((await berichtIds(dataDir, first)).sort()).toEqual(await ids(old0363));
        expect((await berichtIds(dataDir, second)).sort()).toEqual(
          await ids(after1, old301, old305, new0599),
        );
        expect((await berichtIds(dataDir, third)).sort()).toEqual(await ids(later0599));

        const zip = await readZip(join(dataDir, second.file));
        expect(JSON.parse(zip.get('manifest.json')!.toString('utf8'))).toMatchObject({
          members: ['0363', '0599'],
          catchUp: ['0599'],
        });
        // Every link of 0599 up to the cut, the one between the old 301 and 305 among them.
        const links0599 = await store.db
          .selectFrom('link')
          .select(['from_bericht_id', 'to_bericht_id'])
          .where('gemeente', '=', '0599')
          .where('seq', '<=', second.linkSeqTo)
          .execute();
        const [b301, b305] = [...(await ids(old301)), ...(await ids(old305))];
        expect(links0599).toContainEqual({ from_bericht_id: b305, to_bericht_id: b301 });
        const koppel = parseCsv(zip.get('Koppeltabel.csv')!).rows.filter((r) => r.Gemeente === '0599');
        expect(koppel).toHaveLength(links0599.length);
        expect((await findOrganisation(store, 'REGIO01'))?.catchUp).toEqual([]);
        const thirdZip = await readZip(join(dataDir, third.file));
        expect(JSON.parse(thirdZip.get('manifest.json')!.toString('utf8')).catchUp).toEqual([]);
      } finally {
        await drop();
      }
    });
  });
}

describe('a request or an activation at the very instant of a slot', () => {
  it('belongs to the next slot, and the date promised for it is when it is listed', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      const deps = deliveryDeps(store, dataDir);
      const sunday = at('2024-05-05T04:00:00Z'); // 06:00:00 in Amsterdam
      const next = at('2024-05-12T04:00:00Z');
      await ingestAt(store, at('2024-05-01T09:00:00Z'), { kind: 'JW301', gemeente: '0363', bsn: testBsn(1) });
      await ingestAt(store, at('2024-05-01T09:00:00Z'), { kind: 'JW301', gemeente: '0599', bsn: testBsn(2) });
      await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: ACTIVATED });
      await activateOrganisation(store, { code: '0363', actor: 'test', now: ACTIVATED });
      await addOrganisation(store, { code: '0599', name: 'Rotterdam', actor: 'test', now: ACTIVATED });
      await activateOrganisation(store, { code: '0599', actor: 'test', now: sunday });
      await runDue(deps, at('2024-04-28T04:00:00Z'));
      await requestHistory(store, { code: '0363', actor: 'ana', now: sunday });
      const amsterdam = (await findOrganisation(store, '0363'))!;
      const rotterdam = (await findOrganisation(store, '0599'))!;
      expect(firstSlotOwed(amsterdam, 'history')).toEqual(next);
      expect(firstSlotOwed(rotterdam, 'weekly')).toEqual(next);

      const run = await runDue(deps, sunday);
      expect(run.made.map((d) => [d.organisation, d.kind])).toEqual([['0363', 'weekly']]);
      const later = await runDue(deps, next);
      expect(later.made.map((d) => [d.organisation, d.kind, d.slot])).toEqual([
        ['0363', 'weekly', next.toISOString()],
        ['0363', 'history', next.toISOString()],
        ['0599', 'weekly', next.toISOString()],
      ]);
      const listed = await listDeliveries(store, '0363', { now: at('2024-05-20T00:00:00Z') });
      expect(listed.find((d) => d.kind === 'history')!.availableAt).toBe(readyAt(next).toISOString());
    } finally {
      await drop();
    }
  });
});

describe('a run told not to refresh the dashboards', () => {
  it('delivers and leaves the snapshots to a later refresh (the delivery bench times them apart)', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      await ingestAt(store, at('2024-05-01T09:00:00Z'), { kind: 'JW301', gemeente: '0363', bsn: testBsn(1) });
      await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: ACTIVATED });
      await activateOrganisation(store, { code: '0363', actor: 'test', now: ACTIVATED });
      const run = await runDue(deliveryDeps(store, dataDir), at('2024-05-05T04:00:00Z'), {
        refreshIndicators: false,
      });
      expect(run.made.length).toBeGreaterThan(0);
      expect(run.indicators).toBe(0);
      expect(await readIndicatorSnapshot(store.db, '0363')).toBeUndefined();
    } finally {
      await drop();
    }
  });
});
