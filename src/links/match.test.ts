import { describe, expect, it } from 'vitest';
import { compactKey, INFO_SEP, type LinkableMessage, type LinkEntry, linkEntries } from './entries.js';
import { desiredRecomputed, type PlannedLink, planGroup } from './match.js';
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
      // The prestatie of A2 answers another declaration (N9): no link, as for its message (TR376).
      expect(linksOf(index, 'prestatie-antwoord')).toEqual(['prestatie-antwoord A1:1.1 -> D:1.2']);
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

/** A 323 from AGB to GEM: `prestaties` by row (`_row` = ClientVolgnr.PrestatieVolgnr), clients by Bsn in order. */
const t323 = (
  id: string,
  dag: string,
  prestaties: Record<string, string>[],
  bsns: readonly string[] = ['B1'],
  identificatie = id,
) =>
  testMessage({
    id,
    code: 'JW323',
    afzender: AGB,
    ontvanger: GEM,
    identificatie,
    dagtekening: dag,
    main: { Declaratie_DeclaratieNummer: `N${id}` },
    rows: { Client: bsns.map((Bsn) => ({ Bsn })), Prestatie: prestaties },
  });
/** A 325 from GEM to AGB answering the 323 with Identificatie `declId` of `declDag`, rejecting `prestaties`. */
const t325 = (id: string, declId: string, declDag: string, prestaties: Record<string, string>[]) =>
  testMessage({
    id,
    code: 'JW325',
    afzender: GEM,
    ontvanger: AGB,
    dagtekening: '2024-02-20',
    main: {
      Header_DeclaratieIdentificatie_Identificatie: declId,
      Header_DeclaratieIdentificatie_Dagtekening: declDag,
    },
    rows: { Client: [{ Bsn: 'B1' }], Prestatie: prestaties },
  });

const linked = (messages: readonly LinkableMessage[], type?: string) => {
  const index = new MemoryLinkIndex();
  for (const m of messages) index.add([m]);
  return linksOf(index, type);
};
/** The pair links of one key group, every entry new: how entries as stored by an earlier version link. */
const pairLinks = (group: readonly LinkEntry[], type: string) =>
  planGroup(group, { isNew: () => true })
    .add.filter((l) => l.type === type)
    .map(show)
    .sort();
const twnEntries = (m: LinkableMessage) => linkEntries(m).filter((e) => e.key.startsWith('twn|'));

describe('link keys (review fixes)', () => {
  it.each([
    ['with', 'T1'],
    ['without', ''],
  ])(
    'links a 325 to a 323 whose BerichtIdentificatie has surrounding whitespace, as the 325 reads it trimmed (%s ToewijzingNummer)',
    (_, twn) => {
      const decl = t323(
        'D',
        '2024-02-03',
        [{ _row: '1.1', ProductReferentie_ReferentieNummer: 'P1', ToewijzingNummer: twn }],
        ['B1'],
        ' DCL1\n',
      );
      const answer = t325('A', 'DCL1', '2024-02-03', [
        { _row: '1.1', ProductReferentie_ReferentieNummer: 'P1', ToewijzingNummer: twn },
      ]);
      for (const order of permutations([decl, answer])) {
        expect(linked(order).filter((l) => !l.startsWith('prestatie-toewijzing'))).toEqual([
          'declaratie-antwoord A -> D',
          'prestatie-antwoord A:1.1 -> D:1.1',
        ]);
      }
    },
  );

  it("keeps a '|' inside ReferentieNummer and VorigReferentieNummer from splitting the prestatie's fields", () => {
    const debets = t323('D', '2024-01-03', [
      {
        _row: '1.1',
        ProductReferentie_ReferentieNummer: 'R|2',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'D',
      },
      {
        _row: '1.2',
        ProductReferentie_ReferentieNummer: 'R|1',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'D',
      },
    ]);
    const credit = t323('C', '2024-02-03', [
      {
        _row: '1.1',
        ProductReferentie_ReferentieNummer: 'C9',
        ProductReferentie_VorigReferentieNummer: 'R|1',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'C',
      },
    ]);
    // The 325 rejects the debet R|2 of D (identified by its Identificatie and Dagtekening).
    const answer = t325('A', 'D', '2024-01-03', [
      { _row: '1.1', ProductReferentie_ReferentieNummer: 'R|2', ToewijzingNummer: 'T1' },
    ]);
    for (const order of permutations([debets, credit, answer])) {
      expect(linked(order, 'credit-debet')).toEqual(['credit-debet C:1.1 -> D:1.2']);
      expect(linked(order, 'prestatie-antwoord')).toEqual(['prestatie-antwoord A:1.1 -> D:1.1']);
    }
  });

  it("reads prestatie infos indexed before INFO_SEP ('|'-joined, no Bsn) beside new ones", () => {
    const debet = t323('D', '2024-01-03', [
      {
        _row: '1.1',
        ProductReferentie_ReferentieNummer: 'R1',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'D',
      },
    ]);
    const credit = t323('C', '2024-02-03', [
      {
        _row: '1.1',
        ProductReferentie_ReferentieNummer: 'R9',
        ProductReferentie_VorigReferentieNummer: 'R1',
        ToewijzingNummer: 'T1',
        IngediendBedrag_DebetCredit: 'C',
      },
    ]);
    const answer = t325('A', 'D', '2024-01-03', [
      { _row: '1.1', ProductReferentie_ReferentieNummer: 'R1', ToewijzingNummer: 'T1' },
    ]);
    const v = t301('V', '2024-01-02', [{ ToewijzingNummer: 'T1' }]);
    // As an earlier version stored them: '|' between the fields, no Bsn (prestatie, 301 row), no DeclaratieNummer
    // (prestatie, 325 row).
    const old = (m: LinkableMessage) =>
      twnEntries(m).map((e) => ({
        ...e,
        info:
          e.tag === 'toewijzing'
            ? e.info.split('|').slice(0, 2).join('|')
            : e.info
                .split(INFO_SEP)
                .slice(0, e.tag === 'antwoord' ? 3 : 5)
                .join('|'),
      }));
    expect(twnEntries(debet)[0]?.info).toBe(['D', 'R1', '', 'D', '2024-01-03', 'B1', 'ND'].join(INFO_SEP));
    expect(old(debet)[0]?.info).toBe('D|R1||D|2024-01-03');
    const all = [debet, credit, answer, v];
    for (const stored of all) {
      const group = all.flatMap((m) => (m === stored ? old(m) : twnEntries(m)));
      expect(pairLinks(group, 'credit-debet')).toEqual(['credit-debet C:1.1 -> D:1.1']);
      expect(pairLinks(group, 'prestatie-antwoord')).toEqual(['prestatie-antwoord A:1.1 -> D:1.1']);
      expect(pairLinks(group, 'prestatie-toewijzing')).toEqual([
        'prestatie-toewijzing C:1.1 -> V:1',
        'prestatie-toewijzing D:1.1 -> V:1',
      ]);
    }
    const allOld = all.flatMap(old);
    expect(pairLinks(allOld, 'credit-debet')).toEqual(['credit-debet C:1.1 -> D:1.1']);
    expect(pairLinks(allOld, 'prestatie-antwoord')).toEqual(['prestatie-antwoord A:1.1 -> D:1.1']);
    // An old info with a '|' in a field has more fields: its sixth is no Bsn, and it still links to a 301
    // row that carries one.
    const piped = old(debet).map((e) => ({ ...e, info: 'D|R|1||D|2024-01-03' }));
    const v1 = testMessage({
      id: 'V1',
      code: 'JW301',
      afzender: GEM,
      ontvanger: AGB,
      dagtekening: '2024-01-02',
      main: { Client_Bsn: 'B1' },
      rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T1' }] },
    });
    expect(twnEntries(v1)[0]?.info).toContain('B1');
    expect(pairLinks([...piped, ...twnEntries(v1)], 'prestatie-toewijzing')).toEqual([
      'prestatie-toewijzing D:1.1 -> V1:1',
    ]);
  });

  it("orders messages by the whole Identificatie when it holds a '|'", () => {
    // Same day, same Toewijzingsdatum and -tijd: message order decides, shorter Identificatie first.
    const version = (id: string, identificatie: string) =>
      test301Version({ id, identificatie, tijd: '09:00:00', nummer: 'T1', afzender: GEM, ontvanger: AGB });
    const a = version('A', 'X|10');
    const b = version('B', 'X|2');
    for (const order of permutations([a, b])) {
      expect(linked(order)).toEqual(['toewijzing-versie A:1 -> B:1']);
    }
  });

  it('orders 301 versions alike with and without the Bsn after Toewijzingsdatum|Toewijzingstijd', () => {
    const version = (id: string, identificatie: string) =>
      test301Version({ id, identificatie, tijd: '09:00:00', nummer: 'T1', afzender: GEM, ontvanger: AGB });
    const [v1, v2] = [version('V1', 'X1'), version('V2', 'A2')];
    const entry = (m: LinkableMessage, info: string) => ({ ...twnEntries(m)[0]!, info });
    // Same date and time: Identificatie A2 first, whichever of them carries a Bsn.
    for (const [i1, i2] of [
      ['2024-03-01|09:00:00', '2024-03-01|09:00:00|b1'],
      ['2024-03-01|09:00:00|b1', '2024-03-01|09:00:00'],
      ['2024-03-01|09:00:00|b2', '2024-03-01|09:00:00|b1'],
    ] as const) {
      expect(desiredRecomputed([entry(v1, i1), entry(v2, i2)], new Set()).map(show)).toEqual([
        'toewijzing-versie V1:1 -> V2:1',
      ]);
    }
  });

  it("links a prestatie only to a 301 row of the same client's (ToewijzingNummer + Bsn, TR338)", () => {
    const bsn301 = (id: string, bsn: string) =>
      testMessage({
        id,
        code: 'JW301',
        afzender: GEM,
        ontvanger: AGB,
        dagtekening: '2024-01-05',
        main: { Client_Bsn: bsn },
        rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T1' }] },
      });
    const mine = bsn301('V1', 'B1');
    // The gemeente gave the number to B1: B2's prestatie that carries it is not on B1's toewijzing.
    const declaration = t323(
      'D',
      '2024-02-03',
      [
        { _row: '1.1', ProductReferentie_ReferentieNummer: 'P1', ToewijzingNummer: 'T1' },
        { _row: '2.1', ProductReferentie_ReferentieNummer: 'P2', ToewijzingNummer: 'T1' },
      ],
      ['B1', 'B2'],
    );
    // A 301 without a Bsn (none stored) gets both, as before.
    const noBsn = t301('V0', '2024-01-04', [{ ToewijzingNummer: 'T1' }]);
    for (const order of permutations([mine, declaration, noBsn])) {
      expect(linked(order, 'prestatie-toewijzing')).toEqual([
        'prestatie-toewijzing D:1.1 -> V0:1',
        'prestatie-toewijzing D:1.1 -> V1:1',
        'prestatie-toewijzing D:2.1 -> V0:1',
      ]);
    }
    // Entries indexed before they carried the Bsn (either side) link on the number alone, as they did.
    const withoutBsn = (m: LinkableMessage) =>
      twnEntries(m).map((e) => ({
        ...e,
        info:
          e.tag === 'prestatie'
            ? e.info.split(INFO_SEP).slice(0, 5).join('|')
            : e.info.split('|').slice(0, 2).join('|'),
      }));
    const expected = ['prestatie-toewijzing D:1.1 -> V1:1', 'prestatie-toewijzing D:2.1 -> V1:1'];
    expect(pairLinks([...withoutBsn(mine), ...twnEntries(declaration)], 'prestatie-toewijzing')).toEqual(
      expected,
    );
    expect(pairLinks([...twnEntries(mine), ...withoutBsn(declaration)], 'prestatie-toewijzing')).toEqual(
      expected,
    );
  });

  it.each([
    ['start', 'JW305'],
    ['stop', 'JW307'],
  ] as const)(
    "links a %s (%s) only to a 301 row of the same client's (ToewijzingNummer + Bsn), and as before when indexed without the Bsn",
    (tag, code) => {
      const type = `${tag}-toewijzing`;
      const bsn301 = (id: string, dag: string, bsn: string) =>
        testMessage({
          id,
          code: 'JW301',
          afzender: GEM,
          ontvanger: AGB,
          dagtekening: dag,
          main: { Client_Bsn: bsn },
          rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T1' }] },
        });
      const row = {
        ToewijzingNummer: 'T1',
        Begindatum: '2024-01-10',
        RedenBeeindiging: '31',
        Einddatum: '2024-05-31',
        StatusAanlevering: '1',
      };
      const product = (id: string, bsn: string) =>
        (code === 'JW305' ? t305 : t307)(id, '2024-06-01', [row], bsn);
      const mine = bsn301('V1', '2024-01-05', 'B1');
      // A 301 without a Bsn (none stored) gets both, as before.
      const noBsn = t301('V0', '2024-01-04', [{ ToewijzingNummer: 'T1' }]);
      const own = product('S1', 'B1');
      // B2's message carries B1's ToewijzingNummer by error: it is not on B1's toewijzing.
      const other = product('S2', 'B2');
      expect(twnEntries(own)[0]?.info).toBe('1|B1');
      for (const order of permutations([mine, noBsn, own, other])) {
        expect(linked(order, type)).toEqual([
          `${type} S1:1 -> V0:1`,
          `${type} S1:1 -> V1:1`,
          `${type} S2:1 -> V0:1`,
        ]);
      }
      // Entries indexed before they carried the Bsn (either side) link on the number alone, as they did:
      // a start or stop with just its status, a 301 row with `Toewijzingsdatum|Toewijzingstijd` or ''.
      const withoutBsn = (m: LinkableMessage) =>
        twnEntries(m).map((e) => ({
          ...e,
          info: e.tag === 'toewijzing' ? e.info.split('|').slice(0, 2).join('|') : e.info.split('|')[0]!,
        }));
      expect(withoutBsn(other)[0]?.info).toBe('1');
      const both = [`${type} S1:1 -> V1:1`, `${type} S2:1 -> V1:1`];
      expect(pairLinks([...twnEntries(mine), ...withoutBsn(own), ...withoutBsn(other)], type)).toEqual(both);
      expect(pairLinks([...withoutBsn(mine), ...twnEntries(own), ...twnEntries(other)], type)).toEqual(both);
      const emptyInfo = twnEntries(mine).map((e) => ({ ...e, info: '' }));
      expect(pairLinks([...emptyInfo, ...twnEntries(own), ...twnEntries(other)], type)).toEqual(both);
      // A later 301 of B1's still gets B1's own old entry and B2's old one, not B2's new one.
      const later = bsn301('V2', '2024-02-05', 'B1');
      expect(
        pairLinks(
          [
            ...twnEntries(later),
            ...withoutBsn(own),
            ...withoutBsn(other),
            ...twnEntries(product('S3', 'B2')),
          ],
          type,
        ),
      ).toEqual([`${type} S1:1 -> V2:1`, `${type} S2:1 -> V2:1`]);
    },
  );

  it('links a stop to every 301 row that carried its ToewijzingNummer up to its Dagtekening, in any arrival order', () => {
    const v1 = t301('V1', '2024-01-05', [{ ToewijzingNummer: 'T1' }]);
    const v2 = t301('V2', '2024-06-01', [{ ToewijzingNummer: 'T2' }, { ToewijzingNummer: 'T1' }]);
    const v3 = t301('V3', '2024-07-01', [{ ToewijzingNummer: 'T1' }]);
    const elsewhere = t301('X', '2024-01-05', [{ ToewijzingNummer: 'T1' }], '0599');
    const otherAgb = t301('Y', '2024-01-05', [{ ToewijzingNummer: 'T1' }], GEM, '87654321');
    const stop = t307('P', '2024-06-01', [
      {
        ToewijzingNummer: 'T1',
        Begindatum: '2024-01-10',
        RedenBeeindiging: '31',
        Einddatum: '2024-05-31',
        StatusAanlevering: '1',
      },
    ]);
    for (const order of permutations([v1, v2, v3, elsewhere, otherAgb, stop])) {
      expect(linked(order, 'stop-toewijzing')).toEqual([
        'stop-toewijzing P:1 -> V1:1',
        'stop-toewijzing P:1 -> V2:2',
      ]);
    }
  });

  it.each([
    ['JW315', 'JW316', AGB, GEM],
    ['JW317', 'JW318', AGB, GEM],
    ['JW319', 'JW320', GEM, AGB],
    ['WMO305', 'WMO306', AGB, GEM],
  ])(
    'links a %s retour %s to the heen message whose header it copies, and to no other',
    (code, retourCode, afz, ont) => {
      const heen = (id: string, c = code, dag = '2024-03-01', identificatie = 'H1') =>
        testMessage({ id, code: c, afzender: afz, ontvanger: ont, identificatie, dagtekening: dag });
      const retour = testRetour({
        id: 'R',
        code: retourCode,
        afzender: afz,
        ontvanger: ont,
        heen: 'H1',
        dagtekening: '2024-03-01',
        rejected: false,
      });
      const otherLaw = `${code.startsWith('JW') ? 'WMO' : 'JW'}${code.replace(/^\D+/, '')}`;
      const decoys = [
        heen('OD', code, '2024-03-02'), // another Dagtekening
        heen('OI', code, '2024-03-01', 'H2'), // another Identificatie
        heen('OL', otherLaw), // the same header under the other law
        testMessage({
          id: 'OS',
          code,
          afzender: afz === AGB ? '87654321' : '0599',
          ontvanger: ont,
          identificatie: 'H1',
          dagtekening: '2024-03-01',
        }),
      ];
      for (const order of permutations([heen('H'), retour, ...decoys.slice(0, 2)])) {
        expect(linked([...order, ...decoys.slice(2)], 'retour')).toEqual(['retour R -> H']);
      }
    },
  );
});
