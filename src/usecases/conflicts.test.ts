import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import {
  EXAMPLES,
  type FixtureEntry,
  SECRET,
  writeExchangeFolder,
} from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { listConflicts } from './conflicts.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';

const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');

const jw305 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW305.xml'), 'utf8');
const jw301 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW301.xml'), 'utf8');
/** The JW305 with another Begindatum year: same message key, other content. */
const begindatumYear = (xml: string, year: number) => {
  const changed = xml.replace(/(<(?:[a-z0-9]+:)?Begindatum>)\d{4}-/, `$1${year}-`);
  if (changed === xml) throw new Error('fixture: no Begindatum');
  return changed;
};
/** The JW305 addressed to Rotterdam (0599): the gemeente is its Ontvanger. */
const toRotterdam = (xml: string) => xml.replace(/(<(?:[a-z0-9]+:)?Ontvanger>)0363</, '$10599<');

let n = 0;
const entry = (xml: string): FixtureEntry => {
  n++;
  return {
    file: `berichten/${String(n).padStart(3, '0')}.xml`,
    xml,
    moment: new Date(Date.UTC(2024, 2, 4, 9, 0, n)).toISOString(),
    verzender: '12345678',
    ontvanger: '0363',
    hubId: `GGK${String(n).padStart(8, '0')}`,
  };
};
const dir = writeExchangeFolder([
  entry(jw305), // 001: version 1 of the Amsterdam JW305
  entry(jw301), // 002: no conflict
  entry(toRotterdam(jw305)), // 003: version 1 of the Rotterdam JW305
  entry(begindatumYear(jw305, 2019)), // 004: version 2 (Amsterdam)
  entry(jw301), // 005: a duplicate, not a conflict
  entry(begindatumYear(toRotterdam(jw305), 2018)), // 006: version 2 (Rotterdam)
  entry(begindatumYear(jw305, 2017)), // 007: version 3 (Amsterdam)
]);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('conflicts on %s', (dialect) => {
  it('lists every version of every message that came with other content, message by message, with its file', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const summary = await ingestSource({ store, keys, now }, await openSource(dir), { batchSize: 3 });
      expect({
        stored: summary.stored,
        conflicts: summary.conflicts,
        duplicates: summary.duplicates,
      }).toEqual({
        stored: 6,
        conflicts: 3,
        duplicates: 1,
      });
      const all = await listConflicts(store);
      expect(all.map((v) => [v.group, v.gemeente, v.source])).toEqual([
        [1, '0363', 'berichten/001.xml'],
        [1, '0363', 'berichten/004.xml'],
        [1, '0363', 'berichten/007.xml'],
        [2, '0599', 'berichten/003.xml'],
        [2, '0599', 'berichten/006.xml'],
      ]);
      // Versions of one message share its key and differ in content (BerichtId); stored in seq order.
      const amsterdam = all.filter((v) => v.group === 1);
      expect(new Set(amsterdam.map((v) => `${v.code}|${v.identificatie}|${v.dagtekening}`)).size).toBe(1);
      expect(new Set(amsterdam.map((v) => v.berichtId)).size).toBe(3);
      expect(amsterdam.map((v) => v.seq)).toEqual([...amsterdam.map((v) => v.seq)].sort((a, b) => a - b));
      expect(amsterdam[0]).toMatchObject({
        code: 'JW305',
        passages: 1,
        firstMoment: '2024-03-04T09:00:01.000Z',
      });

      const rotterdam = await listConflicts(store, { gemeenten: ['0599'] });
      expect(rotterdam.map((v) => [v.group, v.source])).toEqual([
        [1, 'berichten/003.xml'],
        [1, 'berichten/006.xml'],
      ]);
      expect(await listConflicts(store, { gemeenten: ['0518'] })).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('lists nothing for a store without conflicts', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      expect(await listConflicts(store)).toEqual([]);
    } finally {
      await drop();
    }
  });
});
