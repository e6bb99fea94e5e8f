import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { schemaSet } from '../schema/releases.js';
import type { Store } from '../store/open.js';
import { type DeliveryDeps, runDue } from './deliver.js';
import { ingestAt, parseCsv, readZip, testBsn, testKeys } from './deliveries.fixtures.js';
import { type DeliveryView, listDeliveries } from './deliveries.js';
import { activateOrganisation, addOrganisation, requestHistory } from './organisations.js';

const T0 = new Date('2024-06-01T10:00:00Z'); // Saturday
const WEEK1 = new Date('2024-06-02T04:00:00Z');
const WEEK2 = new Date('2024-06-09T04:00:00Z');
const SHARED_BSN = testBsn(7001);

for (const dialect of DIALECTS) {
  describe(`deliveries per organisation on ${dialect}`, () => {
    let store: Store;
    let dataDir: string;
    let drop: () => Promise<void>;
    const zips = new Map<string, Map<string, Buffer>[]>();

    beforeAll(async () => {
      ({ store, dataDir, drop } = await freshStore(dialect));
      const deps: DeliveryDeps = { store, dataDir, organisationKey: (c) => testKeys().organisation(c) };
      for (const [code, name, members] of [
        ['0363', 'Amsterdam', undefined],
        ['0384', 'Diemen', undefined],
        ['HO-AMSTEL', 'Regio Amstel', ['0363', '0599']],
      ] as const) {
        await addOrganisation(store, { code, name, ...(members ? { members } : {}), actor: 'test', now: T0 });
        await activateOrganisation(store, { code, actor: 'test', now: T0 });
      }
      // The same client (BSN) in three municipalities, and twice in Amsterdam (once each week).
      await ingestAt(store, new Date('2024-06-01T11:00:00Z'), {
        kind: 'JW301',
        gemeente: '0363',
        bsn: SHARED_BSN,
      });
      await ingestAt(store, new Date('2024-06-01T11:01:00Z'), {
        kind: 'JW301',
        gemeente: '0384',
        bsn: SHARED_BSN,
      });
      await ingestAt(store, new Date('2024-06-01T11:02:00Z'), {
        kind: 'JW305',
        gemeente: '0599',
        bsn: SHARED_BSN,
      });
      await ingestAt(store, new Date('2024-06-01T11:03:00Z'), {
        kind: 'JW301',
        gemeente: '0518',
        bsn: testBsn(7002),
      });
      await runDue(deps, WEEK1);
      await ingestAt(store, new Date('2024-06-04T09:00:00Z'), {
        kind: 'JW305',
        gemeente: '0363',
        bsn: SHARED_BSN,
      });
      await runDue(deps, WEEK2);
      for (const code of ['0363', '0384', 'HO-AMSTEL']) {
        const list: DeliveryView[] = (
          await listDeliveries(store, code, { now: new Date('2024-06-10T12:00:00Z') })
        ).reverse();
        zips.set(code, await Promise.all(list.map((d) => readZip(join(dataDir, d.file)))));
      }
    });
    afterAll(async () => drop());

    const rowsOf = (code: string, file: string) =>
      zips.get(code)!.flatMap((z) => parseCsv(z.get(file)!).rows);

    it("gives no organisation another's data", () => {
      const gemeenten = (code: string) =>
        new Set([...rowsOf(code, 'JW301.csv'), ...rowsOf(code, 'JW305.csv')].map((r) => r.Gemeente));
      expect(gemeenten('0363')).toEqual(new Set(['0363']));
      expect(gemeenten('0384')).toEqual(new Set(['0384']));
      expect(gemeenten('HO-AMSTEL')).toEqual(new Set(['0363', '0599']));
      expect(rowsOf('0363', 'JW301.csv')).toHaveLength(1);
      expect(rowsOf('HO-AMSTEL', 'JW301.csv').length + rowsOf('HO-AMSTEL', 'JW305.csv').length).toBe(3);
    });

    it('hashes one BSN differently per organisation but the same in every delivery of one organisation', () => {
      const amsterdam = [...rowsOf('0363', 'JW301.csv'), ...rowsOf('0363', 'JW305.csv')].map(
        (r) => r.Client_Bsn,
      );
      expect(amsterdam).toHaveLength(2); // week 1 (JW301) and week 2 (JW305)
      expect(amsterdam[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(amsterdam[1]).toBe(amsterdam[0]);
      const diemen = rowsOf('0384', 'JW301.csv')[0]!.Client_Bsn;
      const head = rowsOf('HO-AMSTEL', 'JW301.csv')[0]!.Client_Bsn;
      expect(new Set([amsterdam[0], diemen, head]).size).toBe(3);
      // Within the head organisation the client is one hash across its municipalities and weeks.
      const headAll = [...rowsOf('HO-AMSTEL', 'JW301.csv'), ...rowsOf('HO-AMSTEL', 'JW305.csv')].map(
        (r) => r.Client_Bsn,
      );
      expect(new Set(headAll)).toEqual(new Set([head]));
    });

    it('gives a message the same BerichtId in every organisation, the join between a municipality and its head organisation (the dictionary says so)', () => {
      const ids = (code: string) => new Set(rowsOf(code, 'JW301.csv').map((r) => r.BerichtId));
      const amsterdam = ids('0363');
      expect(amsterdam.size).toBe(1);
      expect([...amsterdam].filter((id) => ids('HO-AMSTEL').has(id))).toEqual([...amsterdam]);
      const text = zips.get('0363')![0]!.get('Gegevenswoordenboek.md')!.toString('utf8');
      expect(text).toContain('BerichtId is wel voor elke organisatie gelijk');
    });

    it('puts only the links of its own municipalities in the Koppeltabel, each once', async () => {
      const links = await store.db.selectFrom('link').select(['gemeente', 'seq']).execute();
      const count = (members: string[]) => links.filter((l) => members.includes(l.gemeente)).length;
      expect(count(['0363'])).toBeGreaterThan(0);
      for (const [code, members] of [
        ['0363', ['0363']],
        ['0384', ['0384']],
        ['HO-AMSTEL', ['0363', '0599']],
      ] as const) {
        const rows = rowsOf(code, 'Koppeltabel.csv');
        expect(rows.length, code).toBe(count([...members]));
        expect(
          rows.every((r) => (members as readonly string[]).includes(r.Gemeente!)),
          code,
        ).toBe(true);
      }
    });

    it('lets no clear BSN or stored pseudonym leave the service', async () => {
      const stored = await store.db.selectFrom('message').select('rows').execute();
      const pseudonyms = new Set(stored.flatMap((r) => JSON.stringify(r.rows).match(/[0-9a-f]{64}/g) ?? []));
      expect(pseudonyms.size).toBeGreaterThan(0);
      for (const list of zips.values()) {
        for (const zip of list) {
          for (const [name, buf] of zip) {
            const text = buf.toString('utf8');
            expect(text, name).not.toContain(SHARED_BSN);
            for (const p of pseudonyms) expect(text.includes(p), name).toBe(false);
          }
        }
      }
    });

    it('holds every table of the contract, the Koppeltabel and a manifest with counts and checksums', async () => {
      const zip = zips.get('0384')![0]!;
      const tables = schemaSet().messages.flatMap((m) => m.tables.map((t) => `${t.name}.csv`));
      expect(tables.length).toBeGreaterThanOrEqual(86);
      for (const t of [
        ...tables,
        'Koppeltabel.csv',
        'Gegevenswoordenboek.md',
        'Gegevenswoordenboek.csv',
        'Codelijsten.csv',
        'manifest.json',
      ]) {
        expect(zip.has(t), t).toBe(true);
      }
      expect(zip.get('Gegevenswoordenboek.md')!.toString('utf8')).toContain('Koppeltabel.csv');
      expect(parseCsv(zip.get('WMO325_RetourCode.csv')!).rows).toEqual([]);
      const manifest = JSON.parse(zip.get('manifest.json')!.toString('utf8'));
      expect(manifest).toMatchObject({ organisation: '0384', kind: 'weekly', messages: 1 });
      const { createHash } = await import('node:crypto');
      for (const f of manifest.files as { name: string; rows?: number; sha256: string }[]) {
        expect(createHash('sha256').update(zip.get(f.name)!).digest('hex'), f.name).toBe(f.sha256);
        if (f.rows !== undefined) expect(parseCsv(zip.get(f.name)!).rows.length, f.name).toBe(f.rows);
      }
      const main = parseCsv(zip.get('JW301.csv')!).rows[0]!;
      expect(main.Uitwisseling_Verzender).toBe('0384');
      expect(main.Uitwisseling_Moment).toBe('2024-06-01T11:01:00.000Z');
      expect(main.Uitwisseling_Aantal).toBe('1');
    });
  });
}

describe('delivery format workers', () => {
  it('make the same files as formatting in one thread', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      const T = new Date('2024-06-01T10:00:00Z');
      await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: T });
      await activateOrganisation(store, { code: '0363', actor: 'test', now: T });
      for (let i = 0; i < 6; i++) {
        const kind = i % 2 ? 'JW305' : 'JW301';
        await ingestAt(store, new Date(T.getTime() + (i + 1) * 60_000), {
          kind,
          gemeente: '0363',
          bsn: testBsn(8000 + i),
        });
      }
      await requestHistory(store, { code: '0363', actor: 'test', now: T });
      const key = (c: string) => testKeys().organisation(c);
      // The weekly in this thread, the history (same messages) over two workers in batches of one message.
      const made = await runDue({ store, dataDir, organisationKey: key, formatWorkers: 0 }, WEEK1);
      expect(made.made.map((m) => m.kind)).toEqual(['weekly', 'history']);
      const list = await listDeliveries(store, '0363', { now: new Date('2024-06-03T12:00:00Z') });
      const weekly = await readZip(join(dataDir, list.find((d) => d.kind === 'weekly')!.file));
      const inThread = await readZip(join(dataDir, list.find((d) => d.kind === 'history')!.file));
      expect(inThread.get('JW301.csv')!.equals(weekly.get('JW301.csv')!)).toBe(true);

      await requestHistory(store, { code: '0363', actor: 'test', now: new Date('2024-06-03T12:00:00Z') });
      await runDue({ store, dataDir, organisationKey: key, formatWorkers: 2, batchSpan: 1 }, WEEK2);
      const later = await listDeliveries(store, '0363', { now: new Date('2024-06-10T12:00:00Z') });
      const viaWorkers = await readZip(
        join(dataDir, later.find((d) => d.kind === 'history' && d.slot === WEEK2.toISOString())!.file),
      );
      for (const [name, buf] of inThread) {
        if (name === 'manifest.json') continue;
        expect(viaWorkers.get(name)?.equals(buf), name).toBe(true);
      }
      expect(parseCsv(viaWorkers.get('JW301.csv')!).rows).toHaveLength(3);
    } finally {
      await drop();
    }
  });
});
