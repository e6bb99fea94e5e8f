import { describe, expect, it } from 'vitest';
import { compactKey, linkEntries } from './entries.js';
import { desiredRecomputed, type PlannedLink } from './match.js';
import { MemoryLinkIndex } from './memory-index.js';
import { test301Version, testMessage, testRetour } from './test-messages.js';

const GEM = '0363';
const AGB = '12345678';

const t301 = (id: string, dag: string, products: Record<string, string>[], gem = GEM, agb = AGB) =>
  testMessage({
    id,
    code: 'JW301',
    afzender: gem,
    ontvanger: agb,
    dagtekening: dag,
    rows: { ToegewezenProduct: products },
  });
const t305 = (id: string, dag: string, rows: Record<string, string>[], bsn = 'B1') =>
  testMessage({
    id,
    code: 'JW305',
    afzender: AGB,
    ontvanger: GEM,
    dagtekening: dag,
    main: { Client_Bsn: bsn },
    rows: { StartProduct: rows },
  });
const t307 = (id: string, dag: string, rows: Record<string, string>[], bsn = 'B1') =>
  testMessage({
    id,
    code: 'JW307',
    afzender: AGB,
    ontvanger: GEM,
    dagtekening: dag,
    main: { Client_Bsn: bsn },
    rows: { StopProduct: rows },
  });

const show = (l: PlannedLink) =>
  `${l.type} ${l.fromBerichtId}${l.fromRow ? `:${l.fromRow}` : ''} -> ${l.toBerichtId}${l.toRow ? `:${l.toRow}` : ''}`;
const linksOf = (index: MemoryLinkIndex, type?: string) =>
  index
    .links()
    .filter((l) => !type || l.type === type)
    .map(show)
    .sort();

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe('link rules', () => {
  it('links a retour to the heen message whose header it copies, and to no other', () => {
    const heen = t301('A', '2024-03-01', [{ ToewijzingNummer: 'T1' }]);
    const other = testMessage({
      id: 'B',
      code: 'JW301',
      afzender: '0599',
      ontvanger: AGB,
      identificatie: 'A',
      dagtekening: '2024-03-01',
    });
    const retour = testMessage({
      id: 'R',
      code: 'JW302',
      afzender: GEM,
      ontvanger: AGB,
      identificatie: 'A',
      dagtekening: '2024-03-01',
    });
    const index = new MemoryLinkIndex();
    index.add([retour]);
    index.add([other, heen]);
    expect(linksOf(index, 'retour')).toEqual(['retour R -> A']);
  });

  it('links a start to every 301 row that carried its ToewijzingNummer up to its Dagtekening, in any arrival order', () => {
    const v1 = t301('V1', '2024-01-05', [{ ToewijzingNummer: 'T1' }]);
    const v2 = t301('V2', '2024-02-05', [{ ToewijzingNummer: 'T2' }, { ToewijzingNummer: 'T1' }]);
    const v3 = t301('V3', '2024-04-05', [{ ToewijzingNummer: 'T1' }]);
    const start = t305('S', '2024-03-01', [
      { ToewijzingNummer: 'T1', Begindatum: '2024-01-10', StatusAanlevering: '1' },
    ]);
    const elsewhere = t301('X', '2024-01-05', [{ ToewijzingNummer: 'T1' }], '0599');
    const expected = ['start-toewijzing S:1 -> V1:1', 'start-toewijzing S:1 -> V2:2'];
    for (const order of permutations([v1, v2, v3, start, elsewhere])) {
      const index = new MemoryLinkIndex();
      for (const m of order) index.add([m]);
      expect(linksOf(index, 'start-toewijzing')).toEqual(expected);
    }
  });

  it('keeps the toewijzing-versie chain right when a middle version arrives late, lapsing the link it splits', () => {
    const v1 = t301('V1', '2024-01-05', [{ ToewijzingNummer: 'T1' }]);
    const v2 = t301('V2', '2024-02-05', [{ ToewijzingNummer: 'T1' }]);
    const v3 = t301('V3', '2024-04-05', [{ ToewijzingNummer: 'T1' }]);
    const index = new MemoryLinkIndex();
    index.add([v1]);
    expect(index.add([v3]).add.map(show)).toEqual(['toewijzing-versie V3:1 -> V1:1']);
    const late = index.add([v2]);
    expect(late.revoke.map(show)).toEqual(['toewijzing-versie V3:1 -> V1:1']);
    expect(late.add.map(show).sort()).toEqual([
      'toewijzing-versie V2:1 -> V1:1',
      'toewijzing-versie V3:1 -> V2:1',
    ]);
    for (const order of permutations([v1, v2, v3])) {
      const other = new MemoryLinkIndex();
      for (const m of order) other.add([m]);
      expect(linksOf(other)).toEqual(['toewijzing-versie V2:1 -> V1:1', 'toewijzing-versie V3:1 -> V2:1']);
    }
  });

  it('orders toewijzing versions by Toewijzingsdatum and -tijd, not by Identificatie (OP087, TR056)', () => {
    // Two 301s of one day: Identificatie is unique per sender only, the later version sorts first by it.
    const version = (id: string, identificatie: string, tijd: string) =>
      test301Version({ id, identificatie, tijd, nummer: 'T1', afzender: GEM, ontvanger: AGB });
    const v1 = version('V1', 'X1', '09:00:00');
    const v2 = version('V2', 'A2', '10:00:00');
    for (const order of permutations([v1, v2])) {
      const index = new MemoryLinkIndex();
      for (const m of order) index.add([m]);
      expect(linksOf(index)).toEqual(['toewijzing-versie V2:1 -> V1:1']);
    }
    // Entries indexed before they carried the time (info '') keep the old order: Identificatie A2 first.
    const old = [v1, v2].flatMap((m) =>
      linkEntries(m)
        .filter((e) => e.key.startsWith('twn|'))
        .map((e) => ({ ...e, info: '' })),
    );
    expect(desiredRecomputed(old, new Set()).map(show)).toEqual(['toewijzing-versie V1:1 -> V2:1']);
  });

  it('links a stop to the status-1 start with the same logical key, and a status-3 line to the line it cancels', () => {
    const key = {
      ToewijzingNummer: 'T1',
      Product_Categorie: '45',
      Product_Code: '45A01',
      Begindatum: '2024-01-10',
    };
    const start = t305('S1', '2024-01-12', [{ ...key, StatusAanlevering: '1' }]);
    const fix = t305('S2', '2024-01-20', [
      { ...key, StatusAanlevering: '3' },
      { ...key, Begindatum: '2024-01-11', StatusAanlevering: '1' },
    ]);
    const stop = t307('P1', '2024-06-01', [
      {
        ...key,
        Begindatum: '2024-01-11',
        RedenBeeindiging: '31',
        Einddatum: '2024-05-31',
        StatusAanlevering: '1',
      },
    ]);
    const otherClient = t307(
      'P2',
      '2024-06-01',
      [
        {
          ...key,
          Begindatum: '2024-01-11',
          RedenBeeindiging: '31',
          Einddatum: '2024-05-31',
          StatusAanlevering: '1',
        },
      ],
      'B2',
    );
    for (const order of permutations([start, fix, stop, otherClient])) {
      const index = new MemoryLinkIndex();
      for (const m of order) index.add([m]);
      expect(linksOf(index, 'stop-start')).toEqual(['stop-start P1:1 -> S2:2']);
      expect(linksOf(index, 'correctie')).toEqual(['correctie S2:1 -> S1:1']);
    }
  });

  it('lets a stop or start that a later status-3 row deletes end no start, lapsing its stop-start (IV008)', () => {
    const key = {
      ToewijzingNummer: 'T1',
      Product_Categorie: '45',
      Product_Code: '45A03',
      Begindatum: '2024-03-04',
    };
    const stopOn = (einddatum: string, status: string) => ({
      ...key,
      RedenBeeindiging: '31',
      Einddatum: einddatum,
      StatusAanlevering: status,
    });
    const start = t305('S', '2024-03-05', [{ ...key, StatusAanlevering: '1' }]);
    const t1 = t307('T1', '2024-06-03', [stopOn('2024-05-31', '1')]);
    // T1 deleted and replaced with the right Einddatum in one message; T3 deletes T1 without replacement.
    const t2 = t307('T2', '2024-06-10', [stopOn('2024-05-31', '3'), stopOn('2024-05-28', '1')]);
    const t3 = t307('T3', '2024-06-10', [stopOn('2024-05-31', '3')]);
    for (const order of permutations([start, t1, t2])) {
      const index = new MemoryLinkIndex();
      for (const m of order) index.add([m]);
      expect(linksOf(index, 'stop-start')).toEqual(['stop-start T2:2 -> S:1']);
    }
    const index = new MemoryLinkIndex();
    index.add([start]);
    index.add([t1]);
    expect(index.add([t3]).revoke.map(show)).toEqual(['stop-start T1:1 -> S:1']);
    expect(linksOf(index)).toEqual(['correctie T3:1 -> T1:1']);
    // A deleted start is ended by no stop either.
    const gone = t305('D', '2024-07-01', [{ ...key, StatusAanlevering: '3' }]);
    for (const order of permutations([start, t1, gone])) {
      const other = new MemoryLinkIndex();
      for (const m of order) other.add([m]);
      expect(linksOf(other, 'stop-start')).toEqual([]);
    }
  });

  it('keeps linking stops indexed before they carried RedenBeeindiging and Einddatum (info just the status)', () => {
    const key = {
      ToewijzingNummer: 'T1',
      Product_Categorie: '45',
      Product_Code: '45A03',
      Begindatum: '2024-03-04',
    };
    const stop = { ...key, RedenBeeindiging: '31', Einddatum: '2024-05-31' };
    const asStored = (m: ReturnType<typeof t305>) =>
      linkEntries(m)
        .filter((e) => e.key.startsWith('start|'))
        .map((e) => ({ ...e, info: e.info.slice(0, 1) }));
    const group = [
      ...asStored(t305('S', '2024-03-05', [{ ...key, StatusAanlevering: '1' }])),
      ...asStored(t307('T1', '2024-06-03', [{ ...stop, StatusAanlevering: '1' }])),
      // A new deletion cannot be matched to an old stop: it stays, as it was linked.
      ...linkEntries(t307('T3', '2024-06-10', [{ ...stop, StatusAanlevering: '3' }])).filter((e) =>
        e.key.startsWith('start|'),
      ),
    ];
    expect(desiredRecomputed(group, new Set()).map(show)).toEqual(['stop-start T1:1 -> S:1']);
  });

  it('leaves a message its retour rejected out of stop-start, lapsing the link when the rejection comes later', () => {
    const key = { ToewijzingNummer: 'T1', Product_Categorie: '45', Begindatum: '2024-01-10' };
    const stopRow = { ...key, RedenBeeindiging: '31', Einddatum: '2024-05-31', StatusAanlevering: '1' };
    const first = t305('S1', '2024-01-12', [{ ...key, StatusAanlevering: '1' }]);
    const resent = t305('S2', '2024-01-15', [{ ...key, StatusAanlevering: '1' }]);
    const stop = t307('P1', '2024-06-03', [stopRow]);
    const stopAgain = t307('P2', '2024-06-05', [stopRow]);
    const retour = (id: string, code: string, heen: string, dagtekening: string, rejected: boolean) =>
      testRetour({ id, code, afzender: AGB, ontvanger: GEM, heen, dagtekening, rejected });
    const rejectStop = retour('R1', 'JW308', 'P1', '2024-06-03', true);
    const rejectStart = retour('R2', 'JW306', 'S2', '2024-01-15', true);
    const index = new MemoryLinkIndex();
    index.add([first, stop]);
    expect(linksOf(index, 'stop-start')).toEqual(['stop-start P1:1 -> S1:1']);
    const plan = index.add([resent]);
    expect(plan.revoke.map(show)).toEqual(['stop-start P1:1 -> S1:1']);
    expect(linksOf(index, 'stop-start')).toEqual(['stop-start P1:1 -> S2:1']);
    index.add([rejectStop, stopAgain]);
    expect(linksOf(index, 'stop-start')).toEqual(['stop-start P2:1 -> S2:1']);
    index.add([rejectStart]);
    expect(linksOf(index, 'stop-start')).toEqual(['stop-start P2:1 -> S1:1']);
    for (const order of permutations([first, resent, stop, stopAgain, rejectStop, rejectStart])) {
      const other = new MemoryLinkIndex();
      for (const m of order) other.add([m]);
      expect(linksOf(other, 'stop-start')).toEqual(['stop-start P2:1 -> S1:1']);
    }
  });

  it.each([
    ['with', 'T1'],
    ['without', ''],
  ])(
    'links a 325 and its rejected prestaties to the 323 it answers only when the DeclaratieNummer agrees (%s ToewijzingNummer)',
    (_, twn) => {
      const decl = testMessage({
        id: 'D',
        code: 'JW323',
        afzender: AGB,
        ontvanger: GEM,
        identificatie: 'DCL1',
        dagtekening: '2024-02-03',
        main: { Declaratie_DeclaratieNummer: 'N1' },
        rows: {
          Client: [{ Bsn: 'B1' }],
          Prestatie: [
            {
              _row: '1.1',
              ProductReferentie_ReferentieNummer: 'P1',
              ToewijzingNummer: twn,
              IngediendBedrag_DebetCredit: 'D',
            },
            {
              _row: '1.2',
              ProductReferentie_ReferentieNummer: 'P2',
              ProductReferentie_VorigReferentieNummer: 'P0',
              ToewijzingNummer: twn,
              IngediendBedrag_DebetCredit: 'C',
            },
          ],
        },
      });
      const earlier = testMessage({
        id: 'E',
        code: 'JW323',
        afzender: AGB,
        ontvanger: GEM,
        identificatie: 'DCL0',
        dagtekening: '2024-01-03',
        main: { Declaratie_DeclaratieNummer: 'N0' },
        rows: {
          Client: [{ Bsn: 'B1' }],
          Prestatie: [
            {
              _row: '1.1',
              ProductReferentie_ReferentieNummer: 'P0',
              ToewijzingNummer: twn,
              IngediendBedrag_DebetCredit: 'D',
            },
          ],
        },
      });
      const answer = (id: string, nummer: string) =>
        testMessage({
          id,
          code: 'JW325',
          afzender: GEM,
          ontvanger: AGB,
          identificatie: id,
          dagtekening: '2024-02-10',
          main: {
            Header_DeclaratieIdentificatie_Identificatie: 'DCL1',
            Header_DeclaratieIdentificatie_Dagtekening: '2024-02-03',
            DeclaratieAntwoord_DeclaratieNummer: nummer,
          },
          rows: {
            Client: [{ Bsn: 'B1' }],
            Prestatie: [{ _row: '1.1', ProductReferentie_ReferentieNummer: 'P2', ToewijzingNummer: twn }],
          },
        });
      const index = new MemoryLinkIndex();
      index.add([answer('A1', 'N1'), answer('A2', 'N9')]);
      index.add([decl, earlier]);
      expect(linksOf(index, 'declaratie-antwoord')).toEqual(['declaratie-antwoord A1 -> D']);
      expect(linksOf(index, 'prestatie-antwoord')).toContain('prestatie-antwoord A1:1.1 -> D:1.2');
      expect(linksOf(index, 'credit-debet')).toEqual(['credit-debet D:1.2 -> E:1.1']);
    },
  );

  it('links a request to its answer and to every assigned product with its ReferentieAanbieder, within the aanbieder', () => {
    const vot = testMessage({
      id: 'Q',
      code: 'JW315',
      afzender: AGB,
      ontvanger: GEM,
      dagtekening: '2024-01-02',
      rows: { AangevraagdProduct: [{ ReferentieAanbieder: 'R1' }, { ReferentieAanbieder: 'R2' }] },
    });
    const vow = testMessage({
      id: 'W',
      code: 'JW317',
      afzender: AGB,
      ontvanger: GEM,
      dagtekening: '2024-05-02',
      main: { Client_Verzoek_ReferentieAanbieder: 'R3' },
    });
    const no = testMessage({
      id: 'N',
      code: 'JW319',
      afzender: GEM,
      ontvanger: AGB,
      dagtekening: '2024-01-05',
      main: { Antwoord_ReferentieAanbieder: 'R2' },
    });
    const otherAgb = testMessage({
      id: 'O',
      code: 'JW319',
      afzender: GEM,
      ontvanger: '87654321',
      dagtekening: '2024-01-05',
      main: { Antwoord_ReferentieAanbieder: 'R1' },
    });
    const yes = t301('Y', '2024-01-06', [{ ToewijzingNummer: 'T1', ReferentieAanbieder: 'R1' }]);
    const change = t301('Z', '2024-05-06', [
      { ToewijzingNummer: 'T1', ReferentieAanbieder: 'R3' },
      { ToewijzingNummer: 'T2', ReferentieAanbieder: 'R3' },
    ]);
    const index = new MemoryLinkIndex();
    for (const m of [change, yes, otherAgb, no, vow, vot]) index.add([m]);
    expect(linksOf(index, 'verzoek-antwoord')).toEqual(['verzoek-antwoord Q:2 -> N']);
    expect(linksOf(index, 'verzoek-toewijzing')).toEqual([
      'verzoek-toewijzing Q:1 -> Y:1',
      'verzoek-toewijzing W -> Z:1',
      'verzoek-toewijzing W -> Z:2',
    ]);
  });

  it('links each product of a 317 to every 301 row that carried its ToewijzingNummer up to the 317, in any arrival order', () => {
    const t317 = (id: string, dag: string, gem = GEM, agb = AGB) =>
      testMessage({
        id,
        code: 'JW317',
        afzender: agb,
        ontvanger: gem,
        dagtekening: dag,
        main: { Client_Verzoek_ReferentieAanbieder: 'R9' },
        rows: {
          OngewijzigdProduct: [{ ToewijzingNummer: 'T1' }, { ToewijzingNummer: 'T3' }],
          TeWijzigenProduct: [{ ToewijzingNummer: 'T2', GewensteIngangsdatum: '2024-04-01' }],
          NieuwProduct: [{ Product_Categorie: '45', GewensteIngangsdatum: '2024-04-01' }],
        },
      });
    const v1 = t301('V1', '2024-01-05', [{ ToewijzingNummer: 'T1' }, { ToewijzingNummer: 'T2' }]);
    // Same day as the 317: a Dagtekening is a date, so this version counts as known to it.
    const v2 = t301('V2', '2024-03-01', [{ ToewijzingNummer: 'T2' }, { ToewijzingNummer: 'T1' }]);
    // Later versions (the 301 that honours the request) are not what the 317 referred to.
    const v3 = t301('V3', '2024-03-08', [{ ToewijzingNummer: 'T1' }, { ToewijzingNummer: 'T2' }]);
    const vow = t317('W', '2024-03-01');
    // The same numbers at another gemeente or another aanbieder are other toewijzingen.
    const elsewhere = t301(
      'X',
      '2024-01-05',
      [{ ToewijzingNummer: 'T1' }, { ToewijzingNummer: 'T2' }],
      '0599',
    );
    const otherAgb = t301('Y', '2024-01-05', [{ ToewijzingNummer: 'T3' }], GEM, '87654321');
    const entries = linkEntries(vow).filter((e) => e.tag === 'wijziging');
    expect(entries.map((e) => `${e.table}:${e.row}`)).toEqual([
      'JW317_OngewijzigdProduct:1',
      'JW317_OngewijzigdProduct:2',
      'JW317_TeWijzigenProduct:1',
    ]);
    for (const order of permutations([v1, v2, v3, vow, elsewhere, otherAgb])) {
      const index = new MemoryLinkIndex();
      for (const m of order) index.add([m]);
      const links = index.links().filter((l) => l.type === 'wijziging-toewijzing');
      expect(links.map((l) => `${l.fromTable}:${l.fromRow} -> ${l.toBerichtId}:${l.toRow}`).sort()).toEqual([
        'JW317_OngewijzigdProduct:1 -> V1:1',
        'JW317_OngewijzigdProduct:1 -> V2:2',
        'JW317_TeWijzigenProduct:1 -> V1:2',
        'JW317_TeWijzigenProduct:1 -> V2:1',
      ]);
    }
  });

  it('links a 319 "in onderzoek" to every 301 row with its ReferentieAanbieder from its Dagtekening on, in any arrival order', () => {
    const t319 = (id: string, dag: string, antwoord: string, agb = AGB, gem = GEM) =>
      testMessage({
        id,
        code: 'JW319',
        afzender: gem,
        ontvanger: agb,
        dagtekening: dag,
        main: { Antwoord_ReferentieAanbieder: 'R1', Antwoord_VerzoekAntwoord: antwoord },
      });
    const onderzoek = t319('O', '2024-01-10', '2');
    // A rejection is an answer that ends the request: no 301 is its sequel.
    const afgewezen = t319('A', '2024-01-10', '1');
    // A 319 after a 301 with that ReferentieAanbieder breaks TR359: no ordered pair.
    const late = t319('L', '2024-03-10', '2');
    const otherAgb = t319('P', '2024-01-10', '2', '87654321');
    const otherGem = t319('G', '2024-01-10', '2', AGB, '0599');
    const before = t301('V0', '2024-01-09', [{ ToewijzingNummer: 'T1', ReferentieAanbieder: 'R1' }]);
    const v1 = t301('V1', '2024-02-20', [
      { ToewijzingNummer: 'T2' },
      { ToewijzingNummer: 'T1', ReferentieAanbieder: 'R1' },
    ]);
    const v2 = t301('V2', '2024-05-01', [{ ToewijzingNummer: 'T1', ReferentieAanbieder: 'R1' }]);
    for (const order of permutations([onderzoek, afgewezen, late, otherAgb, otherGem, before, v1, v2])) {
      if (order[0] !== v2 && order[0] !== onderzoek && order[0] !== late) continue; // 3 × 7! orders suffice
      const index = new MemoryLinkIndex();
      for (const m of order) index.add([m]);
      expect(linksOf(index, 'antwoord-toewijzing')).toEqual([
        'antwoord-toewijzing L -> V2:1',
        'antwoord-toewijzing O -> V1:2',
        'antwoord-toewijzing O -> V2:1',
      ]);
    }
  });

  it('scopes ToewijzingNummer keys by law, gemeente and aanbieder', () => {
    const jw = linkEntries(t301('A', '2024-01-01', [{ ToewijzingNummer: 'T1' }]));
    const wmo = linkEntries(
      testMessage({
        id: 'B',
        code: 'WMO301',
        afzender: GEM,
        ontvanger: AGB,
        dagtekening: '2024-01-01',
        rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T1' }] },
      }),
    );
    const twn = (es: typeof jw) => es.find((e) => e.key.startsWith('twn|'))?.key;
    expect(twn(jw)).toBe(compactKey(`twn|JW|${GEM}|${AGB}|T1`));
    expect(twn(wmo)).toBe(compactKey(`twn|WMO|${GEM}|${AGB}|T1`));
    expect(twn(jw)).not.toBe(twn(wmo));
    const otherAanbieder = linkEntries(
      t301('C', '2024-01-01', [{ ToewijzingNummer: 'T1' }], GEM, '87654321'),
    );
    expect(twn(otherAanbieder)).not.toBe(twn(jw));
  });
});
