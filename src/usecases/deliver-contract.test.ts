// The delivery contract (docs/product.md, "Output: a delivery") checked on one real delivery: messages written
// by the simulator's builders, stored through the real ingest, delivered by the real weekly run, on both stores.
// The expected names below are spelled out on purpose: a rename in the code must fail here.
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { dayFromIso as d } from '../domain/calendar.js';
import type { Prestatie } from '../simulate/model.js';
import type { Store } from '../store/open.js';
import { runDue } from './deliver.js';
import { parseCsv, readZip, testKeys } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';
import { assigned, Journeys, person, product, requested, wmoProduct } from './indicators.fixtures.js';
import { activateOrganisation, addOrganisation } from './organisations.js';

const GEMEENTE = '0384';
const ACTIVATED = new Date('2024-06-03T08:00:00Z'); // a Monday: the first slot is the Sunday after
const SUNDAY = new Date('2024-06-09T04:00:00Z'); // 06:00 in Amsterdam (CEST)

/** The 28 main tables of the contract: iJw and iWmo 301 302 305 306 307 308 315 316 317 318 319 320 323 325. */
const MAIN_TABLES = [
  'JW301.csv',
  'JW302.csv',
  'JW305.csv',
  'JW306.csv',
  'JW307.csv',
  'JW308.csv',
  'JW315.csv',
  'JW316.csv',
  'JW317.csv',
  'JW318.csv',
  'JW319.csv',
  'JW320.csv',
  'JW323.csv',
  'JW325.csv',
  'WMO301.csv',
  'WMO302.csv',
  'WMO305.csv',
  'WMO306.csv',
  'WMO307.csv',
  'WMO308.csv',
  'WMO315.csv',
  'WMO316.csv',
  'WMO317.csv',
  'WMO318.csv',
  'WMO319.csv',
  'WMO320.csv',
  'WMO323.csv',
  'WMO325.csv',
];

/** Every repeating element's table, as the data dictionary (`ketendata dictionary`) lists them. */
const SUB_TABLES = [
  'JW301_Relatie JW301_ClientContact JW301_ToegewezenProduct',
  'JW302_Relatie JW302_ClientContact JW302_ToegewezenProduct JW302_RetourCode',
  'JW305_StartProduct',
  'JW306_StartProduct JW306_RetourCode',
  'JW307_StopProduct',
  'JW308_StopProduct JW308_RetourCode',
  'JW315_AangevraagdProduct',
  'JW316_AangevraagdProduct JW316_RetourCode',
  'JW317_OngewijzigdProduct JW317_TeWijzigenProduct JW317_NieuwProduct',
  'JW318_OngewijzigdProduct JW318_TeWijzigenProduct JW318_NieuwProduct JW318_RetourCode',
  'JW320_RetourCode',
  'JW323_Client JW323_Prestatie',
  'JW325_Client JW325_Prestatie JW325_RetourCode',
  'WMO301_Relatie WMO301_ClientContact WMO301_ToegewezenProduct',
  'WMO302_Relatie WMO302_ClientContact WMO302_ToegewezenProduct WMO302_RetourCode',
  'WMO305_StartProduct',
  'WMO306_StartProduct WMO306_RetourCode',
  'WMO307_StopProduct',
  'WMO308_StopProduct WMO308_RetourCode',
  'WMO315_AangevraagdProduct',
  'WMO316_AangevraagdProduct WMO316_RetourCode',
  'WMO317_OngewijzigdProduct WMO317_TeWijzigenProduct WMO317_NieuwProduct',
  'WMO318_OngewijzigdProduct WMO318_TeWijzigenProduct WMO318_NieuwProduct WMO318_RetourCode',
  'WMO320_RetourCode',
  'WMO323_Client WMO323_Prestatie',
  'WMO325_Client WMO325_Prestatie WMO325_RetourCode',
].flatMap((line) => line.split(' ').map((t) => `${t}.csv`));

/** The Koppeltabel's columns as docs/koppeltabel.md and the data dictionary give them. */
const KOPPELTABEL_COLUMNS = [
  'Type',
  'Van_Bestand',
  'Van_BerichtId',
  'Van_Rij',
  'Naar_Bestand',
  'Naar_BerichtId',
  'Naar_Rij',
  'Mutatie',
  'Gemeente',
];

const HASH = /^[0-9a-f]{32}$/;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// iJw client A: request (315, answered by a class-level 316 that copies it), toewijzing 7 for it (301, with a
// 302 copying it), the start of toewijzing "007" (305), and a declaratie (323) for A and B whose 325 rejects
// A's prestatie. iWmo client C: a toewijzing with its retour and a start, so the iWmo files hold rows too.
const clientA = person(9101);
const clientB = person(9102);
const clientC = person(9103);
const REFERENTIE = 'REF-A-0001';
const BESCHIKKING = 4711;

/** The 305 spells ToewijzingNummer 7 as `007` (LDT_Nummer is an xs:integer: the same number). */
function zeroPadded(xml: string): string {
  const out = xml.replace(/(<(?:\w+:)?ToewijzingNummer>)7(<)/, '$1007$2');
  if (out === xml) throw new Error('test setup: no ToewijzingNummer 7 to re-spell');
  return out;
}

function prestatie(referentieNummer: string, nummer: number): Prestatie {
  return {
    referentieNummer,
    nummer,
    categorie: '45',
    productCode: '45A03',
    begindatum: d('2024-05-01'),
    einddatum: d('2024-05-31'),
    volume: 4,
    eenheid: '04',
    tarief: 1000,
    bedrag: 4000,
    debetCredit: 'D',
  };
}

async function traffic(store: Store): Promise<void> {
  const j = new Journeys(store, GEMEENTE);
  await j.verzoek(
    'JW315',
    '2024-06-03',
    clientA,
    [{ ...requested(REFERENTIE, '2024-06-10'), beschikkingNummer: BESCHIKKING }],
    { dag: '2024-06-04', rowCodes: [['0200']] },
  );
  await j.toewijzing('JW301', '2024-06-04', clientA, [assigned(7, '2024-06-04', '2024-06-10', REFERENTIE)], {
    dag: '2024-06-05',
    rowCodes: [['0200']],
  });
  await j.start(
    'JW305',
    '2024-06-05',
    clientA,
    [{ nummer: 7, product, begindatum: d('2024-06-10'), status: '1' }],
    undefined,
    zeroPadded,
  );
  await j.declaratie(
    'JW323',
    '2024-06-06',
    {
      nummer: 'DN03841',
      periodeBegin: d('2024-05-01'),
      periodeEind: d('2024-05-31'),
      dagtekening: d('2024-06-06'),
      clienten: [
        { bsn: clientA.bsn, prestaties: [prestatie('PA1', 7)] },
        { bsn: clientB.bsn, prestaties: [prestatie('PB1', 8)] },
      ],
    },
    [[0, 0]],
  );
  await j.toewijzing(
    'WMO301',
    '2024-06-04',
    clientC,
    [assigned(9, '2024-06-04', '2024-06-10', undefined, wmoProduct)],
    { dag: '2024-06-05', rowCodes: [['0200']] },
  );
  await j.start('WMO305', '2024-06-05', clientC, [
    { nummer: 9, product: wmoProduct, begindatum: d('2024-06-10'), status: '1' },
  ]);
}

for (const dialect of DIALECTS) {
  describe(`a delivered ZIP as the contract describes it, on ${dialect}`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let zip: Map<string, Buffer>;
    const table = (name: string) => parseCsv(zip.get(name)!).rows;
    const only = (name: string) => {
      const rows = table(name);
      expect(rows, name).toHaveLength(1);
      return rows[0]!;
    };

    beforeAll(async () => {
      let dataDir: string;
      ({ store, dataDir, drop } = await freshStore(dialect));
      await addOrganisation(store, { code: GEMEENTE, name: 'Diemen', actor: 'test', now: ACTIVATED });
      await activateOrganisation(store, { code: GEMEENTE, actor: 'test', now: ACTIVATED });
      await traffic(store);
      const run = await runDue(
        { store, dataDir, organisationKey: (c) => testKeys().organisation(c) },
        SUNDAY,
      );
      expect(run.made.map((m) => m.kind)).toEqual(['weekly']);
      const [delivery] = await listDeliveries(store, GEMEENTE, { now: new Date('2024-06-10T12:00:00Z') });
      zip = await readZip(join(dataDir, delivery!.file));
    });
    afterAll(async () => drop());

    it('holds exactly the 28 main tables, their sub-tables, the Koppeltabel, the dictionary and a manifest', () => {
      expect(MAIN_TABLES).toHaveLength(28);
      expect([...zip.keys()].sort()).toEqual(
        [
          ...MAIN_TABLES,
          ...SUB_TABLES,
          'Koppeltabel.csv',
          'Gegevenswoordenboek.csv',
          'Gegevenswoordenboek.md',
          'Codelijsten.csv',
          'manifest.json',
        ].sort(),
      );
      // A main table with no message of its type this week is there all the same, header only.
      expect(zip.get('JW319.csv')!.toString('utf8')).toMatch(/^\uFEFFBerichtId;[^\r\n]*\r\n$/);
    });

    it('writes every CSV as UTF-8 with a BOM, `;` between fields, CRLF line ends and a header row', () => {
      const DICTIONARY = new Set(['Gegevenswoordenboek.csv', 'Codelijsten.csv']);
      const manifest = JSON.parse(zip.get('manifest.json')!.toString('utf8')) as {
        files: { name: string; rows?: number }[];
      };
      const rowsOf = new Map(manifest.files.map((f) => [f.name, f.rows]));
      const csvs = [...zip.keys()].filter((n) => n.endsWith('.csv'));
      expect(csvs).toHaveLength(28 + 58 + 3);
      const dataRows = new Map<string, number>();
      for (const name of csvs) {
        const buf = zip.get(name)!;
        expect(buf.subarray(0, 3).equals(BOM), `${name} starts with a UTF-8 BOM`).toBe(true);
        const text = buf.subarray(3).toString('utf8');
        expect(Buffer.from(text, 'utf8').equals(buf.subarray(3)), `${name} is valid UTF-8`).toBe(true);
        expect(text.startsWith('\uFEFF'), `${name} has one BOM`).toBe(false);
        // Outside quoted fields every line break is CRLF, and the file ends with one.
        const unquoted = text.replace(/"(?:[^"]|"")*"/g, '');
        expect(unquoted, `${name} has a bare CR or LF`).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
        expect(text.endsWith('\r\n'), `${name} ends with CRLF`).toBe(true);
        // The first line is the header: column names (no data), separated by semicolons.
        const header = text.slice(0, text.indexOf('\r\n')).split(';');
        expect(header.length, `${name} header`).toBeGreaterThan(1);
        const names = DICTIONARY.has(name) ? /^[A-Z][a-z]+( [a-z]+)?$/ : /^[A-Z][A-Za-z0-9_]*$/;
        for (const col of header) expect(col, `${name} header`).toMatch(names);
        const records: string[][] = parse(text, { delimiter: ';', record_delimiter: '\r\n' });
        expect(records[0], name).toEqual(header);
        for (const r of records)
          expect(r.length, `${name}: a record with another field count`).toBe(header.length);
        // The manifest counts every CSV's data rows, header excluded (the dictionary's too).
        expect(records.length - 1, `${name}: data rows after the header`).toBe(rowsOf.get(name));
        dataRows.set(name, records.length - 1);
      }
      // Enough files with data rows that the row separators were checked too, in iJw and iWmo.
      expect([...dataRows.values()].filter((n) => n > 0).length).toBeGreaterThanOrEqual(20);
      for (const name of ['JW323_Prestatie.csv', 'WMO301_ToegewezenProduct.csv', ...DICTIONARY])
        expect(dataRows.get(name), name).toBeGreaterThan(0);
    });

    it('gives the Koppeltabel exactly its documented columns, and the links of the delivery as rows', () => {
      const buf = zip.get('Koppeltabel.csv')!;
      expect(buf.toString('utf8').split('\r\n')[0]).toBe(`\uFEFF${KOPPELTABEL_COLUMNS.join(';')}`);
      // The data dictionary in the ZIP describes the same columns, in the same order.
      const dictionary = parseCsv(zip.get('Gegevenswoordenboek.csv')!).rows;
      const described = dictionary.filter((r) => r.Bestand === 'Koppeltabel.csv');
      expect(described.map((r) => r.Kolom)).toEqual(KOPPELTABEL_COLUMNS);
      // Typed as the same values are in the message files: a gemeente code, BerichtIds as hashes.
      const typeOf = (column: string) => described.find((r) => r.Kolom === column)?.Type;
      expect([typeOf('Gemeente'), typeOf('Van_BerichtId'), typeOf('Naar_BerichtId'), typeOf('Type')]).toEqual(
        ['LDT_Gemeente', 'hash (32 hex)', 'hash (32 hex)', 'tekst'],
      );

      const bid = (file: string) => only(file).BerichtId!;
      const link = (
        type: string,
        van: [string, string, string],
        naar: [string, string, string],
      ): Record<string, string> => ({
        Type: type,
        Van_Bestand: van[0],
        Van_BerichtId: van[1],
        Van_Rij: van[2],
        Naar_Bestand: naar[0],
        Naar_BerichtId: naar[1],
        Naar_Rij: naar[2],
        Mutatie: 'toegevoegd',
        Gemeente: GEMEENTE,
      });
      const rows = table('Koppeltabel.csv');
      for (const expected of [
        link('retour', ['JW316', bid('JW316.csv'), ''], ['JW315', bid('JW315.csv'), '']),
        link('retour', ['JW302', bid('JW302.csv'), ''], ['JW301', bid('JW301.csv'), '']),
        link('retour', ['WMO302', bid('WMO302.csv'), ''], ['WMO301', bid('WMO301.csv'), '']),
        link(
          'verzoek-toewijzing',
          ['JW315_AangevraagdProduct', bid('JW315.csv'), '1'],
          ['JW301_ToegewezenProduct', bid('JW301.csv'), '1'],
        ),
        // The 305 wrote "007", the 301 "7": one number, one hash, so they link.
        link(
          'start-toewijzing',
          ['JW305_StartProduct', bid('JW305.csv'), '1'],
          ['JW301_ToegewezenProduct', bid('JW301.csv'), '1'],
        ),
        link(
          'start-toewijzing',
          ['WMO305_StartProduct', bid('WMO305.csv'), '1'],
          ['WMO301_ToegewezenProduct', bid('WMO301.csv'), '1'],
        ),
        link(
          'prestatie-toewijzing',
          // Ordinals joined by '_': '1.1' would be read as a decimal number.
          ['JW323_Prestatie', bid('JW323.csv'), '1_1'],
          ['JW301_ToegewezenProduct', bid('JW301.csv'), '1'],
        ),
        link('declaratie-antwoord', ['JW325', bid('JW325.csv'), ''], ['JW323', bid('JW323.csv'), '']),
        link(
          'prestatie-antwoord',
          ['JW325_Prestatie', bid('JW325.csv'), '1_1'],
          ['JW323_Prestatie', bid('JW323.csv'), '1_1'],
        ),
      ])
        expect(rows).toContainEqual(expected);
    });

    it('puts every link of the gemeente in the Koppeltabel once', async () => {
      const stored = await store.db.selectFrom('link').select('gemeente').execute();
      expect(stored.length).toBeGreaterThan(0);
      const rows = table('Koppeltabel.csv');
      expect(rows).toHaveLength(stored.filter((l) => l.gemeente === GEMEENTE).length);
      expect(new Set(rows.map((r) => JSON.stringify(r))).size).toBe(rows.length);
    });

    it('gives one clear value one hash in every file of the delivery', () => {
      // The client's BSN: main tables of each message, and the Client rows of the declaratie and its answer.
      const bsn = only('JW301.csv').Client_Bsn!;
      expect(bsn).toMatch(HASH);
      for (const file of ['JW302.csv', 'JW305.csv', 'JW315.csv', 'JW316.csv'])
        expect(only(file).Client_Bsn, file).toBe(bsn);
      const declared = table('JW323_Client.csv');
      expect(declared.map((r) => [r.ClientVolgnr, r.Bsn === bsn])).toEqual([
        ['1', true],
        ['2', false],
      ]);
      expect(declared[1]!.Bsn).toMatch(HASH);
      expect(only('JW325_Client.csv').Bsn).toBe(bsn);
      expect(only('WMO301.csv').Client_Bsn).not.toBe(bsn);

      // BeschikkingNummer: the request and the retour that copies it.
      const beschikking = only('JW315_AangevraagdProduct.csv').BeschikkingNummer!;
      expect(beschikking).toMatch(HASH);
      expect(only('JW316_AangevraagdProduct.csv').BeschikkingNummer).toBe(beschikking);

      // ReferentieAanbieder: the request, its 316, the toewijzing that answers it and that toewijzing's 302.
      const referentie = only('JW315_AangevraagdProduct.csv').ReferentieAanbieder!;
      expect(referentie).toMatch(HASH);
      expect(only('JW316_AangevraagdProduct.csv').ReferentieAanbieder).toBe(referentie);
      expect(only('JW301_ToegewezenProduct.csv').ReferentieAanbieder).toBe(referentie);
      expect(only('JW302_ToegewezenProduct.csv').ReferentieAanbieder).toBe(referentie);

      // ToewijzingNummer 7 of the 301 (and its 302, the 323 and the 325) is the "007" of the 305.
      const nummer = only('JW301_ToegewezenProduct.csv').ToewijzingNummer!;
      expect(nummer).toMatch(HASH);
      expect(only('JW305_StartProduct.csv').ToewijzingNummer).toBe(nummer);
      expect(only('JW302_ToegewezenProduct.csv').ToewijzingNummer).toBe(nummer);
      const prestaties = table('JW323_Prestatie.csv');
      expect(
        prestaties.map((p) => [p.ProductReferentie_ReferentieNummer, p.ToewijzingNummer === nummer]),
      ).toEqual([
        ['PA1', true],
        ['PB1', false],
      ]);
      expect(only('JW325_Prestatie.csv').ToewijzingNummer).toBe(nummer);

      // Four hashes, four values: the element name keeps the domains apart.
      expect(new Set([bsn, beschikking, referentie, nummer]).size).toBe(4);
    });

    it('lets none of the clear identifiers out', () => {
      for (const [name, buf] of zip) {
        const text = buf.toString('utf8');
        for (const clear of [clientA.bsn, clientB.bsn, clientC.bsn, REFERENTIE])
          expect(text.includes(clear), `${name} holds ${clear}`).toBe(false);
      }
    });
  });
}
