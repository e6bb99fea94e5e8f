import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { listAudit } from '../store/audit.js';
import type { Store } from '../store/open.js';
import { type DeliveryDeps, runDue } from './deliver.js';
import { ingestAt, parseCsv, readZip, refusal, testBsn, testKeys } from './deliveries.fixtures.js';
import { type DeliveryView, listDeliveries } from './deliveries.js';
import { DeliveryError } from './deliveries-errors.js';
import { openDelivery } from './download.js';
import {
  activateOrganisation,
  addOrganisation,
  deactivateOrganisation,
  findOrganisation,
  listOrganisations,
  requestHistory,
} from './organisations.js';

const at = (iso: string) => new Date(iso);
const ACTIVATED = at('2024-02-28T10:00:00Z'); // a Wednesday
// Sundays 06:00 Amsterdam.
const SUN_1 = at('2024-03-03T05:00:00Z');
const SUN_2 = at('2024-03-10T05:00:00Z');
const SUN_3 = at('2024-03-17T05:00:00Z');
const SUN_4 = at('2024-03-24T05:00:00Z');
const SUN_5 = at('2024-03-31T04:00:00Z'); // summer time
const SUN_6 = at('2024-04-07T04:00:00Z');
const DEACTIVATED = at('2024-03-12T09:00:00Z');
const REACTIVATED = at('2024-03-27T09:00:00Z');

const code = (p: Promise<unknown>) => refusal(p);

/** BerichtIds of the main-table rows (one per message) in a delivery ZIP. */
async function berichtIds(dataDir: string, d: DeliveryView): Promise<string[]> {
  const zip = await readZip(join(dataDir, d.file));
  return ['JW301', 'JW305']
    .flatMap((c) => parseCsv(zip.get(`${c}.csv`)!).rows.map((r) => r.BerichtId!))
    .sort();
}

async function idsOf(store: Store, seqs: readonly number[]): Promise<string[]> {
  const rows = await store.db.selectFrom('message').select('bericht_id').where('seq', 'in', seqs).execute();
  return rows.map((r) => r.bericht_id).sort();
}

for (const dialect of DIALECTS) {
  describe(`deactivating and re-activating an organisation on ${dialect}`, () => {
    let store: Store;
    let dataDir: string;
    let drop: () => Promise<void>;
    let deps: DeliveryDeps;
    let n = 1;
    const ingest = (when: Date, gemeente = '0363', kind: 'JW301' | 'JW305' = 'JW301') =>
      ingestAt(store, when, { kind, gemeente, bsn: testBsn(n++) });
    const weekliesOf = async (org: string, now: Date) =>
      (await listDeliveries(store, org, { now })).filter((d) => d.kind === 'weekly').reverse();
    const seqs: Record<string, number[]> = { before: [], first: [], meanwhile: [], after: [] };

    beforeAll(async () => {
      ({ store, dataDir, drop } = await freshStore(dialect));
      deps = { store, dataDir, organisationKey: (c) => testKeys().organisation(c), worker: 'w1' };
      for (const c of ['0363', '0599']) {
        await addOrganisation(store, { code: c, name: `Gemeente ${c}`, actor: 'op', now: ACTIVATED });
        await activateOrganisation(store, { code: c, actor: 'op', now: ACTIVATED });
      }
      await addOrganisation(store, { code: '0384', name: 'Nooit actief', actor: 'op', now: ACTIVATED });
      seqs.before!.push(await ingest(at('2024-02-29T09:00:00Z')));
      await runDue(deps, SUN_1);
      seqs.first!.push(await ingest(at('2024-03-05T09:00:00Z'), '0363', 'JW305'));
      await ingest(at('2024-03-05T09:00:00Z'), '0599');
      await runDue(deps, SUN_2);
    });
    afterAll(async () => drop());

    it('deactivates an active organisation, withdraws its pending history request, and writes an audit line', async () => {
      await requestHistory(store, { code: '0363', actor: 'ana', now: at('2024-03-11T08:00:00Z') });
      const cursor = (await findOrganisation(store, '0363'))!;
      const r = await deactivateOrganisation(store, { code: '0363', actor: 'op', now: DEACTIVATED });
      expect(r.historyWithdrawn).toEqual({ requestedAt: '2024-03-11T08:00:00.000Z', requestedBy: 'ana' });
      expect(r.organisation).toMatchObject({
        active: false,
        deactivatedAt: DEACTIVATED.toISOString(),
        historyRequested: false,
        // The cursor stays for a re-activation.
        weeklySeq: cursor.weeklySeq,
        weeklyLinkSeq: cursor.weeklyLinkSeq,
        weeklySlot: SUN_2.toISOString(),
      });
      const line = (await listAudit(store.db, { organisation: '0363' }))[0]!;
      expect(line).toMatchObject({ action: 'organisation.deactivate', actor: 'op' });
      expect(JSON.parse(line.detail!)).toEqual({ historyWithdrawn: '2024-03-11T08:00:00.000Z' });
      // The list tells a deactivated organisation from one never activated.
      const listed = await listOrganisations(store);
      expect(listed.map((o) => [o.code, o.active, o.deactivatedAt])).toEqual([
        ['0363', false, DEACTIVATED.toISOString()],
        ['0384', false, null],
        ['0599', true, null],
      ]);
    });

    it('refuses to deactivate one that is not active, or not registered; no history request while inactive', async () => {
      expect(await code(deactivateOrganisation(store, { code: '0363', actor: 'op', now: DEACTIVATED }))).toBe(
        'organisation.not_active',
      );
      expect(await code(deactivateOrganisation(store, { code: '0384', actor: 'op', now: DEACTIVATED }))).toBe(
        'organisation.not_active',
      );
      expect(await code(deactivateOrganisation(store, { code: '9999', actor: 'op', now: DEACTIVATED }))).toBe(
        'organisation.not_found',
      );
      expect(await code(requestHistory(store, { code: '0363', actor: 'ana', now: DEACTIVATED }))).toBe(
        'organisation.inactive',
      );
      expect(
        (await listAudit(store.db, { organisation: '0363' })).filter(
          (a) => a.action === 'organisation.deactivate',
        ),
      ).toHaveLength(1);
      expect(new DeliveryError('organisation.not_active', 'x').status).toBe(409);
    });

    // Its users keep working: a request made at the moment it is deactivated was kept, and served after a
    // later activation (review).
    it('leaves no history request behind when one is made while it is deactivated', async () => {
      const now = at('2024-03-06T09:00:00Z');
      await addOrganisation(store, { code: '0518', name: 'Den Haag', actor: 'op', now });
      await activateOrganisation(store, { code: '0518', actor: 'op', now });
      await Promise.allSettled([
        deactivateOrganisation(store, { code: '0518', actor: 'op', now }),
        requestHistory(store, { code: '0518', actor: 'analist', now }),
      ]);
      expect(await findOrganisation(store, '0518')).toMatchObject({ active: false, historyRequested: false });
      await activateOrganisation(store, { code: '0518', actor: 'op', now: at('2024-03-07T09:00:00Z') });
      expect((await findOrganisation(store, '0518'))?.historyRequested).toBe(false);
      await deactivateOrganisation(store, { code: '0518', actor: 'op', now: at('2024-03-07T10:00:00Z') });
    });

    it('makes nothing for it on the Sundays it is inactive; its deliveries made stay downloadable', async () => {
      seqs.meanwhile!.push(await ingest(at('2024-03-13T09:00:00Z')));
      await ingest(at('2024-03-13T09:00:00Z'), '0599');
      const third = await runDue(deps, SUN_3);
      seqs.meanwhile!.push(await ingest(at('2024-03-20T09:00:00Z'), '0363', 'JW305'));
      const fourth = await runDue(deps, SUN_4);
      // The run goes on for the others; the history request withdrawn is not served either.
      expect([...third.made, ...fourth.made].map((m) => [m.organisation, m.kind, m.slot])).toEqual([
        ['0599', 'weekly', SUN_3.toISOString()],
        ['0599', 'weekly', SUN_4.toISOString()],
      ]);
      const now = at('2024-03-26T09:00:00Z');
      const made = await weekliesOf('0363', now);
      expect(made.map((d) => d.slot)).toEqual([SUN_1.toISOString(), SUN_2.toISOString()]);
      expect(made.every((d) => d.deletedAt === null)).toBe(true);
      const file = await openDelivery(
        { store, dataDir },
        { organisation: '0363', id: made[1]!.id, actor: 'ana', now },
      );
      let read = 0;
      for await (const chunk of file.stream) read += (chunk as Buffer).length;
      expect(read).toBe(file.size);
      await file.recordDownloaded();
    });

    it('re-activated, its next weekly holds exactly what came in meanwhile: nothing repeated, nothing missing', async () => {
      const back = await activateOrganisation(store, { code: '0363', actor: 'op', now: REACTIVATED });
      const before = (await weekliesOf('0363', REACTIVATED)).at(-1)!;
      expect(back).toMatchObject({
        active: true,
        activatedAt: REACTIVATED.toISOString(),
        deactivatedAt: null,
        weeklySeq: before.seqTo,
        weeklyLinkSeq: before.linkSeqTo,
        weeklySlot: SUN_2.toISOString(),
      });
      const line = (await listAudit(store.db, { organisation: '0363' }))[0]!;
      expect(line.action).toBe('organisation.activate');
      expect(JSON.parse(line.detail!)).toEqual({ deactivatedAt: DEACTIVATED.toISOString() });

      seqs.meanwhile!.push(await ingest(at('2024-03-28T09:00:00Z')));
      const fifth = await runDue(deps, SUN_5);
      // One weekly, for the first Sunday after the re-activation: none for the Sundays it was inactive.
      expect(fifth.made.filter((m) => m.organisation === '0363').map((m) => [m.kind, m.slot])).toEqual([
        ['weekly', SUN_5.toISOString()],
      ]);
      const weeklies = await weekliesOf('0363', at('2024-04-01T09:00:00Z'));
      expect(weeklies.map((d) => d.slot)).toEqual([SUN_1, SUN_2, SUN_5].map((s) => s.toISOString()));
      const resumed = weeklies.at(-1)!;
      // Its period and seqs go on where the last weekly stopped.
      expect(resumed.periodStart).toBe(SUN_2.toISOString());
      expect(resumed.seqFrom).toBe(before.seqTo);
      expect(resumed.linkSeqFrom).toBe(before.linkSeqTo);
      expect(await berichtIds(dataDir, resumed)).toEqual(await idsOf(store, seqs.meanwhile!));
      // Taken together the weeklies hold every message once.
      const all = (await Promise.all(weeklies.map((d) => berichtIds(dataDir, d)))).flat().sort();
      expect(all).toEqual(await idsOf(store, [...seqs.before!, ...seqs.first!, ...seqs.meanwhile!]));
      expect(new Set(all).size).toBe(all.length);

      seqs.after!.push(await ingest(at('2024-04-02T09:00:00Z')));
      await runDue(deps, SUN_6);
      const next = (await weekliesOf('0363', at('2024-04-08T09:00:00Z'))).at(-1)!;
      expect(next.slot).toBe(SUN_6.toISOString());
      expect(next.periodStart).toBe(SUN_5.toISOString());
      expect(await berichtIds(dataDir, next)).toEqual(await idsOf(store, seqs.after!));
    });

    it('re-activates one that never had a weekly as a first activation: all its data in its first weekly', async () => {
      await addOrganisation(store, { code: '0344', name: 'Utrecht', actor: 'op', now: SUN_6 });
      const s1 = await ingest(at('2024-04-08T09:00:00Z'), '0344');
      await activateOrganisation(store, { code: '0344', actor: 'op', now: at('2024-04-09T09:00:00Z') });
      await deactivateOrganisation(store, { code: '0344', actor: 'op', now: at('2024-04-10T09:00:00Z') });
      const again = at('2024-04-17T09:00:00Z');
      const org = await activateOrganisation(store, { code: '0344', actor: 'op', now: again });
      expect(org).toMatchObject({ weeklySeq: 0, weeklySlot: again.toISOString() });
      const s2 = await ingest(at('2024-04-18T09:00:00Z'), '0344');
      const run = await runDue(deps, at('2024-04-21T04:00:00Z'));
      expect(run.made.filter((m) => m.organisation === '0344').map((m) => m.slot)).toEqual([
        '2024-04-21T04:00:00.000Z',
      ]);
      const [first] = await weekliesOf('0344', at('2024-04-22T09:00:00Z'));
      expect(first!.periodStart).toBe('2020-12-31T23:00:00.000Z');
      expect(await berichtIds(dataDir, first!)).toEqual(await idsOf(store, [s1, s2]));
    });

    it('owes nothing for the Sundays it was inactive even when no run made them (the server was down)', async () => {
      // The weekly of 21 April was its last; 28 April has no run at all.
      const last = (await weekliesOf('0363', at('2024-04-22T09:00:00Z'))).at(-1)!;
      expect(last.slot).toBe('2024-04-21T04:00:00.000Z');
      await deactivateOrganisation(store, { code: '0363', actor: 'op', now: at('2024-04-23T09:00:00Z') });
      const meanwhile = [await ingest(at('2024-04-24T09:00:00Z'))];
      await activateOrganisation(store, { code: '0363', actor: 'op', now: at('2024-05-01T09:00:00Z') });
      meanwhile.push(await ingest(at('2024-05-02T09:00:00Z')));
      const run = await runDue(deps, at('2024-05-05T04:00:00Z'));
      // The run catches 28 April up for the organisation that was active then, not for this one.
      expect(run.slots).toEqual(['2024-04-28T04:00:00.000Z', '2024-05-05T04:00:00.000Z']);
      expect(run.made.filter((m) => m.organisation === '0599').map((m) => m.slot)).toEqual(run.slots);
      expect(run.made.filter((m) => m.organisation === '0363').map((m) => m.slot)).toEqual([
        '2024-05-05T04:00:00.000Z',
      ]);
      const resumed = (await weekliesOf('0363', at('2024-05-06T09:00:00Z'))).at(-1)!;
      expect(resumed.periodStart).toBe(last.slot);
      expect(resumed.seqFrom).toBe(last.seqTo);
      expect(await berichtIds(dataDir, resumed)).toEqual(await idsOf(store, meanwhile));
    });

    it('keeps nothing of a weekly being built while the organisation is deactivated', async () => {
      let deactivating: Promise<unknown> | undefined;
      const sunday = at('2024-05-12T04:00:00Z');
      // The organisation is deactivated once its weekly is under way; the delivery is recorded after that.
      const db = new Proxy(store.db, {
        get(target, prop) {
          if (prop === 'transaction')
            return () => {
              const trx = target.transaction();
              return {
                execute: async <T>(fn: Parameters<typeof trx.execute<T>>[0]) => {
                  await deactivating;
                  return trx.execute(fn);
                },
              };
            };
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const racing: DeliveryDeps = {
        ...deps,
        store: { ...store, db } as Store,
        organisationKey: (c) => {
          if (c === '0599' && !deactivating)
            deactivating = deactivateOrganisation(store, { code: '0599', actor: 'op', now: sunday });
          return testKeys().organisation(c);
        },
      };
      await ingest(at('2024-05-06T09:00:00Z'), '0599');
      const before = (await findOrganisation(store, '0599'))!;
      const run = await runDue(racing, sunday);
      expect(deactivating).toBeDefined();
      expect(run.made.map((m) => m.organisation)).not.toContain('0599');
      expect(run.failed).toEqual([]);
      const after = (await findOrganisation(store, '0599'))!;
      expect(after).toMatchObject({
        active: false,
        weeklySeq: before.weeklySeq,
        weeklySlot: before.weeklySlot,
      });
      expect((await weekliesOf('0599', at('2024-05-13T09:00:00Z'))).at(-1)!.slot).toBe(before.weeklySlot);
      expect(await store.db.selectFrom('delivery_pending').selectAll().execute()).toEqual([]);
    });
  });
}
