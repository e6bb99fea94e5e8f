import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { gemeenteLabel } from '../schema/codelists.js';
import { listAudit } from '../store/audit.js';
import type { Store } from '../store/open.js';
import { type DeliveryDeps, runDue } from './deliver.js';
import { ingestAt, parseCsv, readZip, refusal, testBsn, testKeys } from './deliveries.fixtures.js';
import { type DeliveryView, listDeliveries } from './deliveries.js';
import { computeIndicators } from './indicators.js';
import {
  activateOrganisation,
  addOrganisation,
  findOrganisation,
  requestHistory,
  setFormerMunicipalities,
  setMembers,
} from './organisations.js';

// Weesp (0457) was merged into Amsterdam (0363) in 2022: its messages from before carry 0457, a code the
// CBS list (2026 indeling) no longer has.
const at = (iso: string) => new Date(iso);

const code = (p: Promise<unknown>) => refusal(p, true);

const deliveryDeps = (store: Store, dataDir: string): DeliveryDeps => ({
  store,
  dataDir,
  organisationKey: (c) => testKeys().organisation(c),
  worker: 'w1',
});

/** The JW301 rows of a delivery: BerichtId and the client's hashed BSN. */
async function jw301(dataDir: string, d: DeliveryView) {
  const zip = await readZip(join(dataDir, d.file));
  return parseCsv(zip.get('JW301.csv')!).rows.map((r) => ({ id: r.BerichtId!, bsn: r.Client_Bsn! }));
}

async function idsOf(store: Store, ...seqs: number[]): Promise<string[]> {
  const rows = await store.db.selectFrom('message').select('bericht_id').where('seq', 'in', seqs).execute();
  return rows.map((r) => r.bericht_id).sort();
}

for (const dialect of DIALECTS) {
  describe(`former municipalities on ${dialect}`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ store, drop } = await freshStore(dialect));
    });
    afterAll(async () => drop());

    it('registers a municipality with a former code as a member, in the audit log', async () => {
      const now = at('2024-05-01T09:00:00Z');
      const org = await addOrganisation(store, {
        code: '0363',
        name: 'Amsterdam',
        former: [' 0457 ', '0457'],
        actor: 'op',
        now,
      });
      expect(org).toMatchObject({ kind: 'gemeente', members: ['0363', '0457'], catchUp: [] });
      const line = (await listAudit(store.db, { organisation: '0363' })).find(
        (a) => a.action === 'organisation.add',
      );
      expect(JSON.parse(line!.detail!)).toMatchObject({ members: ['0363', '0457'], former: ['0457'] });
    });

    it('refuses a current code, or one that is not 4 digits, as a former municipality', async () => {
      const now = at('2024-05-01T09:00:00Z');
      expect(
        await code(addOrganisation(store, { code: '0384', name: 'X', former: ['0363'], actor: 'op', now })),
      ).toBe(
        'organisation.invalid_members: organisation.invalid_members: organisation 0384: 0363 is a municipality of the code list (2026 indeling): a current code is a member, not a former one',
      );
      expect(
        await code(addOrganisation(store, { code: '0384', name: 'X', former: ['457'], actor: 'op', now })),
      ).toMatch(/^organisation\.invalid_members: .*4-digit CBS code.*not: 457$/);
      expect(
        await code(setFormerMunicipalities(store, { code: '0363', former: ['0363'], actor: 'op', now })),
      ).toMatch(/^organisation\.invalid_members: .*a current code is a member, not a former one$/);
      expect(
        await code(setFormerMunicipalities(store, { code: '0363', former: ['Weesp'], actor: 'op', now })),
      ).toMatch(/^organisation\.invalid_members: /);
      // `--members` stays for current municipalities; it points at --former.
      expect(
        await code(addOrganisation(store, { code: 'HO-X', name: 'X', members: ['0457'], actor: 'op', now })),
      ).toMatch(/^organisation\.invalid_members: .*--former/);
      expect(await findOrganisation(store, '0384')).toBeUndefined();
      expect((await findOrganisation(store, '0363'))?.members).toEqual(['0363', '0457']);
    });

    // `former` keeps the other members: it read them before a concurrent `members` wrote, and dropped the
    // member that one added (review: every time on SQLite).
    it('keeps a member added by a concurrent change of members while naming a former code', async () => {
      const now = at('2024-05-01T09:00:00Z');
      await addOrganisation(store, {
        code: 'R-RACE',
        name: 'Regio',
        members: ['0310', '0312'],
        actor: 'op',
        now,
      });
      await Promise.all([
        setMembers(store, { code: 'R-RACE', members: ['0310', '0312', '0344'], actor: 'a', now }),
        setFormerMunicipalities(store, { code: 'R-RACE', former: ['0457'], actor: 'b', now }),
      ]);
      expect((await findOrganisation(store, 'R-RACE'))?.members).toContain('0344');
    });

    it('lets two organisations name the same former code, as members of head organisations may overlap', async () => {
      const now = at('2024-05-01T09:00:00Z');
      const region = await addOrganisation(store, {
        code: 'HO-F',
        name: 'Regio',
        members: ['0363'],
        former: ['0457'],
        actor: 'op',
        now,
      });
      expect(region.members).toEqual(['0363', '0457']);
      // The whole list, as the operator page shows it, may hold the former code (the page posts it back).
      const again = await setMembers(store, {
        code: 'HO-F',
        members: ['0363', '0457', '0599'],
        actor: 'op',
        now,
      });
      expect(again.members).toEqual(['0363', '0457', '0599']);
      // Naming other former codes keeps the current members.
      const renamed = await setFormerMunicipalities(store, {
        code: 'HO-F',
        former: ['0370'],
        actor: 'op',
        now,
      });
      expect(renamed.members).toEqual(['0363', '0370', '0599']);
      const line = (await listAudit(store.db, { organisation: 'HO-F' })).find(
        (a) => a.action === 'organisation.former',
      );
      expect(JSON.parse(line!.detail!)).toEqual({
        before: ['0457'],
        after: ['0370'],
        members: ['0363', '0370', '0599'],
      });
    });

    it('labels a former code as a former municipality', () => {
      expect(gemeenteLabel('0363')).toBe('Amsterdam (0363)');
      expect(gemeenteLabel('0457')).toBe('0457 (voormalige gemeente)');
    });
  });

  describe(`deliveries of a former municipality's messages on ${dialect}`, () => {
    it('delivers them to an organisation registered with the former code, under its one hash key', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const bsn = testBsn(457);
        const weesp = await ingestAt(store, at('2024-04-01T09:00:00Z'), {
          kind: 'JW301',
          gemeente: '0457',
          bsn,
        });
        const amsterdam = await ingestAt(store, at('2024-04-02T09:00:00Z'), {
          kind: 'JW301',
          gemeente: '0363',
          bsn,
        });
        await addOrganisation(store, {
          code: '0363',
          name: 'Amsterdam',
          former: ['0457'],
          actor: 'test',
          now: at('2024-04-03T10:00:00Z'),
        });
        await activateOrganisation(store, { code: '0363', actor: 'test', now: at('2024-04-03T10:00:00Z') });
        await runDue(deliveryDeps(store, dataDir), at('2024-04-07T04:00:00Z'));
        const [weekly, ...more] = await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') });
        expect(more).toEqual([]);
        expect(weekly?.kind).toBe('weekly');
        const rows = await jw301(dataDir, weekly!);
        expect(rows.map((r) => r.id).sort()).toEqual(await idsOf(store, weesp, amsterdam));
        // One organisation key: the same BSN hashes the same under the old code and the current one.
        expect(new Set(rows.map((r) => r.bsn)).size).toBe(1);
        expect(rows[0]!.bsn).toMatch(/^[0-9a-f]{32,}$/);

        // The dashboard: one scope per code, the former one among them.
        const snap = await computeIndicators(store, (await findOrganisation(store, '0363'))!, {
          now: at('2024-04-08T00:00:00Z'),
        });
        expect(snap.members).toEqual(['0363', '0457']);
        expect(Object.keys(snap.scopes).sort()).toEqual(['0363', '0457', 'alle']);
      } finally {
        await drop();
      }
    });

    it('catches a former code named later up in the next weekly, once, and in the history', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = deliveryDeps(store, dataDir);
        let n = 1;
        const ingest = (iso: string, gemeente: string) =>
          ingestAt(store, at(iso), { kind: 'JW301', gemeente, bsn: testBsn(n++) });
        const old0457 = await ingest('2022-01-10T09:00:00Z', '0457');
        const old0363 = await ingest('2024-04-01T09:00:00Z', '0363');
        await addOrganisation(store, {
          code: '0363',
          name: 'Amsterdam',
          actor: 'test',
          now: at('2024-04-03T10:00:00Z'),
        });
        await activateOrganisation(store, { code: '0363', actor: 'test', now: at('2024-04-03T10:00:00Z') });
        await runDue(deps, at('2024-04-07T04:00:00Z'));
        const later0457 = await ingest('2024-04-08T09:00:00Z', '0457');
        const after0363 = await ingest('2024-04-08T10:00:00Z', '0363');

        const named = await setFormerMunicipalities(store, {
          code: '0363',
          former: ['0457'],
          actor: 'test',
          now: at('2024-04-09T10:00:00Z'),
        });
        expect(named).toMatchObject({ members: ['0363', '0457'], catchUp: ['0457'] });
        await requestHistory(store, { code: '0363', actor: 'test', now: at('2024-04-09T11:00:00Z') });
        await runDue(deps, at('2024-04-14T04:00:00Z'));
        const new0457 = await ingest('2024-04-15T09:00:00Z', '0457');
        await runDue(deps, at('2024-04-21T04:00:00Z'));

        const all = (await listDeliveries(store, '0363', { now: at('2024-04-30T00:00:00Z') })).reverse();
        const weeklies = all.filter((d) => d.kind === 'weekly');
        expect(weeklies).toHaveLength(3);
        const ids = async (d: DeliveryView) => (await jw301(dataDir, d)).map((r) => r.id).sort();
        expect(await ids(weeklies[0]!)).toEqual(await idsOf(store, old0363));
        // Every stored 0457 message so far, once; then only what came since.
        expect(await ids(weeklies[1]!)).toEqual(await idsOf(store, old0457, later0457, after0363));
        expect(await ids(weeklies[2]!)).toEqual(await idsOf(store, new0457));
        const zip = await readZip(join(dataDir, weeklies[1]!.file));
        expect(JSON.parse(zip.get('manifest.json')!.toString('utf8'))).toMatchObject({
          members: ['0363', '0457'],
          catchUp: ['0457'],
        });
        const history = all.find((d) => d.kind === 'history')!;
        expect(await ids(history)).toEqual(await idsOf(store, old0457, old0363, later0457, after0363));
        expect((await findOrganisation(store, '0363'))?.catchUp).toEqual([]);
      } finally {
        await drop();
      }
    });
  });
}
