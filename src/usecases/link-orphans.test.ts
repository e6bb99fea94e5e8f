import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { INFO_SEP } from '../links/entries.js';
import { testMessage } from '../links/test-messages.js';
import { storedForLinks } from './link-batch.fixtures.js';
import { linkBatch } from './link-batch.js';
import { countOrphans } from './link-orphans.js';

const GEM = '0363';
const AGB = '12345678';

const stored = storedForLinks();

// Tuesday 2024-03-05: three working days after it is Friday 2024-03-08.
const answered = testMessage({
  id: 'A',
  code: 'JW301',
  afzender: GEM,
  ontvanger: AGB,
  dagtekening: '2024-03-05',
  rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T1' }] },
});
const retourA = testMessage({
  id: 'RA',
  code: 'JW302',
  afzender: GEM,
  ontvanger: AGB,
  identificatie: 'A',
  dagtekening: '2024-03-05',
});
const unanswered = testMessage({
  id: 'B',
  code: 'JW301',
  afzender: GEM,
  ontvanger: AGB,
  dagtekening: '2024-03-05',
  rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T2' }] },
});
const otherGemeente = testMessage({
  id: 'C',
  code: 'JW301',
  afzender: '0599',
  ontvanger: AGB,
  dagtekening: '2024-03-05',
  rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T2' }] },
});
const declaratie = testMessage({
  id: 'D',
  code: 'JW323',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-04-02',
  rows: {
    Client: [{ Bsn: 'B1' }],
    Prestatie: [
      {
        _row: '1.1',
        ProductReferentie_ReferentieNummer: 'P1',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'D',
      },
      {
        _row: '1.2',
        ProductReferentie_ReferentieNummer: 'P2',
        ToewijzingNummer: 'T9',
        IngediendBedrag_DebetCredit: 'D',
      },
    ],
  },
});

const stopRow = {
  ToewijzingNummer: 'T7',
  Begindatum: '2024-01-10',
  RedenBeeindiging: '31',
  Einddatum: '2024-05-31',
  StatusAanlevering: '1',
};
const lonelyStop = testMessage({
  id: 'P1',
  code: 'JW307',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-06-03',
  main: { Client_Bsn: 'B1' },
  rows: { StopProduct: [stopRow] },
});
// A stop deleted by a later status-3 row (IV008): it needs no start.
const deletedStop = testMessage({
  id: 'P3',
  code: 'JW307',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-06-03',
  main: { Client_Bsn: 'B3' },
  rows: { StopProduct: [{ ...stopRow, ToewijzingNummer: 'T1' }] },
});
const deletion = testMessage({
  id: 'P4',
  code: 'JW307',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-06-05',
  main: { Client_Bsn: 'B3' },
  rows: { StopProduct: [{ ...stopRow, ToewijzingNummer: 'T1', StatusAanlevering: '3' }] },
});
// A stop whose deletion is undone later (its correctie lapses, say when the deletion's retour rejects it):
// the stop stands again without a start.
const undeletedStop = testMessage({
  id: 'P5',
  code: 'JW307',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-06-03',
  main: { Client_Bsn: 'B5' },
  rows: { StopProduct: [{ ...stopRow, ToewijzingNummer: 'T1' }] },
});
const rejectedDeletion = testMessage({
  id: 'P6',
  code: 'JW307',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-06-05',
  main: { Client_Bsn: 'B5' },
  rows: { StopProduct: [{ ...stopRow, ToewijzingNummer: 'T1', StatusAanlevering: '3' }] },
});
const rejectedStop = testMessage({
  id: 'P2',
  code: 'JW307',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-06-04',
  main: { Client_Bsn: 'B2' },
  rows: { StopProduct: [stopRow] },
});
const rejection = testMessage({
  id: 'R2',
  code: 'JW308',
  afzender: AGB,
  ontvanger: GEM,
  identificatie: 'P2',
  dagtekening: '2024-06-04',
  rows: { RetourCode: [{ Niveau: 'StopProduct', RetourCode: '9069' }] },
});

// Two credits on T1: one reverses the debet P1 of D, the other a debet that never came ('|' in its reference).
const credits = testMessage({
  id: 'K',
  code: 'JW323',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-04-02',
  rows: {
    Client: [{ Bsn: 'B1' }],
    Prestatie: [
      {
        _row: '1.1',
        ProductReferentie_ReferentieNummer: 'K1',
        ProductReferentie_VorigReferentieNummer: 'P1',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'C',
      },
      {
        _row: '1.2',
        ProductReferentie_ReferentieNummer: 'K2',
        ProductReferentie_VorigReferentieNummer: 'P|0',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'C',
      },
    ],
  },
});

// A change request that lists T1 (assigned in A) unchanged, and a T8 that was never assigned.
const wijziging = testMessage({
  id: 'W',
  code: 'JW317',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-04-02',
  main: { Client_Verzoek_ReferentieAanbieder: 'R1' },
  rows: {
    OngewijzigdProduct: [{ ToewijzingNummer: 'T1' }],
    TeWijzigenProduct: [{ ToewijzingNummer: 'T8' }],
  },
});

// A 301 of B1's (after 2024-03-08: no retour due then) and two starts on its number: B1's own and B2's, which
// carries B1's ToewijzingNummer by error and so has no toewijzing of its client's.
const clientToewijzing = testMessage({
  id: 'M',
  code: 'JW301',
  afzender: GEM,
  ontvanger: AGB,
  dagtekening: '2024-03-20',
  main: { Client_Bsn: 'B1' },
  rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T5' }] },
});
const startOf = (id: string, bsn: string) =>
  testMessage({
    id,
    code: 'JW305',
    afzender: AGB,
    ontvanger: GEM,
    dagtekening: '2024-03-25',
    main: { Client_Bsn: bsn },
    rows: { StartProduct: [{ ToewijzingNummer: 'T5', Begindatum: '2024-03-21', StatusAanlevering: '1' }] },
  });
const ownStart = startOf('S1', 'B1');
const otherClientsStart = startOf('S2', 'B2');

for (const dialect of DIALECTS) {
  describe(`orphans (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshStore>>;
    beforeAll(async () => {
      db = await freshStore(dialect);
      await linkBatch(
        db.store,
        [
          answered,
          retourA,
          unanswered,
          otherGemeente,
          declaratie,
          lonelyStop,
          deletedStop,
          deletion,
          undeletedStop,
          rejectedDeletion,
          rejectedStop,
          rejection,
          wijziging,
          credits,
          clientToewijzing,
          ownStart,
          otherClientsStart,
        ].map(stored),
        {
          now: new Date('2024-04-03T00:00:00Z'),
        },
      );
    });
    afterAll(async () => db.drop());

    const count = async (now: string, gemeenten?: string[]) =>
      (await countOrphans(db.store, { now: new Date(now), ...(gemeenten ? { gemeenten } : {}) })).map(
        (c) => `${c.name} ${c.table} ${c.count}`,
      );

    it('counts a 301 without 302 only once three working days have passed, per gemeente', async () => {
      expect(await count('2024-03-07T12:00:00Z', [GEM])).not.toContain('heen-zonder-retour JW301 1');
      expect(await count('2024-03-08T12:00:00Z', [GEM])).toContain('heen-zonder-retour JW301 1');
      expect(await count('2024-03-08T12:00:00Z')).toContain('heen-zonder-retour JW301 2');
      // Days are Dutch days: at 00:30 on Friday 8 March in Amsterdam (23:30 UTC on the 7th) it is overdue.
      expect(await count('2024-03-07T23:30:00Z', [GEM])).toContain('heen-zonder-retour JW301 1');
      expect(await count('2024-03-07T22:30:00Z', [GEM])).not.toContain('heen-zonder-retour JW301 1');
    });

    it('counts a stop without its start or toewijzing, not one its retour rejected or a later row deleted, again once the deletion lapses', async () => {
      const counts = await count('2024-06-10T12:00:00Z', [GEM]);
      expect(counts).toContain('stop-zonder-start JW307_StopProduct 1');
      // The deletion of P5 lapses (a later event of the pair): P5 stands again, without a start.
      const correctie = await db.store.db
        .selectFrom('link')
        .selectAll()
        .where('type', '=', 'correctie')
        .where('from_bericht_id', '=', 'P6')
        .executeTakeFirstOrThrow();
      const { seq: _seq, ...pair } = correctie;
      await db.store.db
        .insertInto('link')
        .values({ ...pair, mutatie: 'vervallen' })
        .execute();
      expect(await count('2024-06-10T12:00:00Z', [GEM])).toContain('stop-zonder-start JW307_StopProduct 2');
      expect(counts).toContain('stop-zonder-toewijzing JW307_StopProduct 1');
    });

    it("counts a start on another client's ToewijzingNummer as a start without toewijzing, not the client's own", async () => {
      const counts = (await count('2024-04-03T12:00:00Z', [GEM])).filter((c) =>
        c.startsWith('start-zonder-toewijzing'),
      );
      expect(counts).toEqual(['start-zonder-toewijzing JW305_StartProduct 1']);
      const linked = await db.store.db
        .selectFrom('link')
        .select('from_bericht_id')
        .where('type', '=', 'start-toewijzing')
        .execute();
      expect(linked.map((l) => l.from_bericht_id)).toEqual(['S1']);
    });

    it('counts a declared prestatie whose ToewijzingNummer was never assigned', async () => {
      expect(await count('2024-04-03T12:00:00Z', [GEM])).toContain(
        'prestatie-zonder-toewijzing JW323_Prestatie 1',
      );
    });

    it("counts a credit whose debet never came, its info in the format of now or in the '|' format of before", async () => {
      const credit = (counts: string[]) => counts.filter((c) => c.startsWith('credit-zonder-debet'));
      expect(credit(await count('2024-04-03T12:00:00Z', [GEM]))).toEqual([
        'credit-zonder-debet JW323_Prestatie 1',
      ]);
      // As an earlier version indexed it: '|' between the fields (its VorigReferentieNummer had none).
      const entry = await db.store.db
        .selectFrom('link_key')
        .select(['k', 'info'])
        .where('bericht_id', '=', 'K')
        .where('row', '=', '1.1')
        .where('tag', '=', 'prestatie')
        .executeTakeFirstOrThrow();
      expect(entry.info.startsWith(`C${INFO_SEP}`)).toBe(true);
      await db.store.db
        .updateTable('link_key')
        .set({ info: entry.info.split(INFO_SEP).slice(0, 5).join('|') })
        .where('bericht_id', '=', 'K')
        .where('row', '=', '1.1')
        .where('tag', '=', 'prestatie')
        .execute();
      await db.store.db.deleteFrom('link').where('type', '=', 'credit-debet').execute();
      expect(credit(await count('2024-04-03T12:00:00Z', [GEM]))).toEqual([
        'credit-zonder-debet JW323_Prestatie 2',
      ]);
    });

    it('counts a product of a 317 whose ToewijzingNummer was never assigned, not one that was', async () => {
      const counts = (await count('2024-04-03T12:00:00Z', [GEM])).filter((c) =>
        c.startsWith('wijziging-zonder-toewijzing'),
      );
      expect(counts).toEqual(['wijziging-zonder-toewijzing JW317_TeWijzigenProduct 1']);
    });
  });
}
