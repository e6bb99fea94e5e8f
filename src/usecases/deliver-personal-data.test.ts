import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import type { LeftOut } from '../schema/personal-data.js';
import type { Store } from '../store/open.js';
import { type DeliveryDeps, runDue } from './deliver.js';
import { deliveryFileSpecs, deliveryPlans } from './deliver-content.js';
import { ingestAt, parseCsv, readZip, testBsn, testKeys } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';
import { activateOrganisation, addOrganisation, setPersonalData } from './organisations.js';

const T0 = new Date('2024-06-01T10:00:00Z'); // Saturday
const WEEK1 = new Date('2024-06-02T04:00:00Z');
const WEEK2 = new Date('2024-06-09T04:00:00Z');

/** A table's columns that hold personal data in clear, by name, with what leaving them out keeps. */
const personalColumns = (table: string): (readonly [string, LeftOut])[] => {
  const header = deliveryFileSpecs().find((f) => f.name === table)!.header;
  return deliveryPlans()
    .get(table)!
    .personal.map(([i, as]) => [header[i]!, as] as const);
};

/** What a column that leaves personal data out may still hold. */
const KEPT: Record<LeftOut, RegExp> = { empty: /^$/, year: /^(\d{4})?$/, pc4: /^(\d{4})?$/ };

for (const dialect of DIALECTS) {
  describe(`an organisation that leaves personal data out, on ${dialect}`, () => {
    let store: Store;
    let dataDir: string;
    let drop: () => Promise<void>;
    const zips = new Map<string, Map<string, Buffer>[]>();

    beforeAll(async () => {
      ({ store, dataDir, drop } = await freshStore(dialect));
      const deps = (formatWorkers: number): DeliveryDeps => ({
        store,
        dataDir,
        organisationKey: (c) => testKeys().organisation(c),
        formatWorkers,
      });
      await addOrganisation(store, {
        code: '0363',
        name: 'Amsterdam',
        leaveOutPersonalData: true,
        actor: 'test',
        now: T0,
      });
      await addOrganisation(store, { code: '0384', name: 'Diemen', actor: 'test', now: T0 });
      for (const code of ['0363', '0384'])
        await activateOrganisation(store, { code, actor: 'test', now: T0 });
      for (const [i, gemeente] of ['0363', '0384'].entries())
        await ingestAt(store, new Date(`2024-06-01T11:0${i}:00Z`), {
          kind: 'JW301',
          gemeente,
          bsn: testBsn(8001),
        });
      await runDue(deps(0), WEEK1);
      // Diemen changes its mind; its next delivery is formatted by a worker thread.
      await setPersonalData(store, { code: '0384', leaveOut: true, actor: 'test', now: WEEK1 });
      await ingestAt(store, new Date('2024-06-04T09:00:00Z'), {
        kind: 'JW301',
        gemeente: '0384',
        bsn: testBsn(8002),
      });
      await runDue(deps(1), WEEK2);
      for (const code of ['0363', '0384']) {
        const list = (await listDeliveries(store, code, { now: new Date('2024-06-10T12:00:00Z') })).reverse();
        zips.set(code, await Promise.all(list.map((d) => readZip(join(dataDir, d.file)))));
      }
    });
    afterAll(async () => drop());

    const rows = (code: string, week: number, table: string) =>
      parseCsv(zips.get(code)![week]!.get(`${table}.csv`)!).rows;

    it('leaves names, addresses and contact details empty, keeps a birth year and a 4-digit postcode, and nothing else changes', () => {
      for (const table of ['JW301', 'JW301_ClientContact', 'JW301_Relatie']) {
        const personal = personalColumns(table);
        expect(personal.length, table).toBeGreaterThan(0);
        const more = (rs: Record<string, string>[]) =>
          personal.filter(([c, as]) => rs.some((r) => !KEPT[as].test(r[c] ?? ''))).map(([c]) => c);
        // Diemen's first weekly, before its choice, has them in full: the check below is not vacuous.
        expect(more(rows('0384', 0, table)).length, table).toBeGreaterThan(0);
        expect(more(rows('0363', 0, table)), table).toEqual([]);
        expect(more(rows('0384', 1, table)), table).toEqual([]);
      }
      // The year and the four digits are those of the message.
      const full = rows('0384', 0, 'JW301')[0]!;
      const kept = rows('0363', 0, 'JW301')[0]!;
      expect(full.Client_Geboortedatum_Datum).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(kept.Client_Geboortedatum_Datum).toBe(full.Client_Geboortedatum_Datum!.slice(0, 4));
      const postcode = rows('0384', 0, 'JW301_ClientContact').find((r) => r.Adres_Postcode)?.Adres_Postcode;
      expect(postcode).toMatch(/^\d{4}[A-Z]{2}$/);
      expect(rows('0363', 0, 'JW301_ClientContact').map((r) => r.Adres_Postcode)).toContain(
        postcode!.slice(0, 4),
      );
      expect(kept.Client_Naam_Geslachtsnaam_Achternaam).toBe('');
      const [amsterdam] = rows('0363', 0, 'JW301');
      expect(amsterdam?.Client_Bsn).toMatch(/^[0-9a-f]{32}$/);
      expect(amsterdam?.Header_BerichtIdentificatie_Identificatie).not.toBe('');
      expect(rows('0363', 0, 'JW301_ToegewezenProduct').length).toBeGreaterThan(0);
      expect(rows('0363', 0, 'JW301_ToegewezenProduct').every((r) => r.Product_Categorie !== '')).toBe(true);
    });

    it('says so in the data dictionary and the manifest of those deliveries only', () => {
      const dictionary = (code: string, week: number) =>
        parse(zips.get(code)![week]!.get('Gegevenswoordenboek.csv')!, {
          delimiter: ';',
          bom: true,
        }) as string[][];
      const marks = (d: string[][]) =>
        d.filter((r) => /\((leeg gelaten|alleen het jaar|alleen de 4 cijfers)\)$/.test(r.at(-1) ?? ''))
          .length;
      expect(marks(dictionary('0363', 0))).toBeGreaterThan(50);
      expect(marks(dictionary('0384', 0))).toBe(0);
      expect(marks(dictionary('0384', 1))).toBe(marks(dictionary('0363', 0)));
      expect(zips.get('0363')![0]!.get('Gegevenswoordenboek.md')!.toString()).toContain(
        'in deze levering zijn die kolommen leeg',
      );
      const manifest = (code: string, week: number) =>
        JSON.parse(zips.get(code)![week]!.get('manifest.json')!.toString()) as {
          personalDataLeftOut: boolean;
        };
      expect(manifest('0363', 0).personalDataLeftOut).toBe(true);
      expect(manifest('0384', 0).personalDataLeftOut).toBe(false);
      expect(manifest('0384', 1).personalDataLeftOut).toBe(true);
    });

    it('lists each delivery as made with or without personal data, as the organisation chose then', async () => {
      const listed = async (code: string) =>
        (await listDeliveries(store, code, { now: new Date('2024-06-10T12:00:00Z') }))
          .reverse()
          .map((d) => d.personalDataLeftOut);
      expect(await listed('0363')).toEqual([true, true]);
      expect(await listed('0384')).toEqual([false, true]);
    });

    it('records the choice in the audit log, once', async () => {
      await setPersonalData(store, { code: '0384', leaveOut: true, actor: 'test', now: WEEK2 });
      const entries = await store.db
        .selectFrom('audit_log')
        .select(['organisation', 'detail'])
        .where('action', '=', 'organisation.personal_data')
        .execute();
      expect(entries.map((e) => e.organisation)).toEqual(['0384']);
    });
  });
}
