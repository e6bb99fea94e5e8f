import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, SECRET } from '../../test/support/exchange-fixtures.js';
import { parseMessage } from '../ingest/index.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { keyedPseudonym } from '../pseudonymise/pseudonym.js';
import { exchangeKey, type Parse, prepareExchange, scrubReason } from './ingest-prepare.js';

const keys = deriveKeys(SECRET);
const xml = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW301.xml'));
const ex = {
  source: 'a.xml',
  bytes: xml,
  moment: '2024-03-04T09:00:00.000Z',
  verzender: '0384',
  ontvanger: '42420001',
  hubId: null,
};

describe('preparing an exchange', () => {
  it('quarantines a message whose municipality field holds no 4-digit code', () => {
    const noGemeente: Parse = (b, s) => {
      const r = parseMessage(b, s);
      return r.ok ? { ok: true, message: { ...r.message, gemeente: '' } } : r;
    };
    const p = prepareExchange(keys, ex, noGemeente);
    expect(p.kind).toBe('quarantine');
    if (p.kind === 'quarantine') {
      expect(p.reason_code).toBe('ingest.no_gemeente');
      expect(p.reason).toBe('a.xml: JW301: header field Afzender holds no 4-digit municipality code');
    }
  });

  it('replaces the BSN by its stored pseudonym and keeps the municipality from the header', () => {
    const p = prepareExchange(keys, ex);
    expect(p.kind).toBe('message');
    if (p.kind !== 'message') return;
    expect(p.message.gemeente).toBe('0384');
    expect(p.message.rows).not.toContain('999900006');
    expect(p.message.rows).toContain(keyedPseudonym(keys.pseudonym, 'Bsn', '999900006'));
    expect(p.message.bericht_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('identifies an exchange by its hub id, else by where, when, between whom and what', () => {
    expect(exchangeKey(keys, { ...ex, hubId: 'GGK1' })).toBe('hub:GGK1');
    const k = exchangeKey(keys, ex);
    expect(k).toMatch(/^src:[0-9a-f]{40}$/);
    expect(exchangeKey(keys, { ...ex })).toBe(k);
    expect(exchangeKey(keys, { ...ex, moment: '2024-03-04T09:00:01.000Z' })).not.toBe(k);
    expect(exchangeKey(keys, { ...ex, bytes: Buffer.concat([xml, Buffer.from(' ')]) })).not.toBe(k);
  });

  it('keeps the keys exchanges were stored under (a store recognises what it has, across versions)', () => {
    const pinned = deriveKeys('pinned-key-secret-pinned-key-secret-0123');
    const file = {
      source: 'week1/a.xml',
      moment: '2024-03-04T09:00:00.000Z',
      verzender: '0384',
      ontvanger: '12345678',
      hubId: null,
      bytes: Buffer.from('<Bericht/>'),
    };
    const problem = { ...file, moment: null, verzender: null, ontvanger: null, bytes: Buffer.alloc(0) };
    // As computed before a plain folder's problems were named with their folder.
    expect(exchangeKey(pinned, file)).toBe('src:24eb15bfea7f9a54f88a1a3ca93f8e887935d7da');
    expect(exchangeKey(pinned, { ...file, place: '/data/week1' })).toBe(exchangeKey(pinned, file));
    expect(exchangeKey(pinned, problem)).toBe('src:2fbda91db66509a3568162acc626d621680d01bb');
    expect(exchangeKey(pinned, problem, '/data/week1')).not.toBe(exchangeKey(pinned, problem));
    expect(exchangeKey(pinned, problem, '/data/week1')).not.toBe(exchangeKey(pinned, problem, '/data/week2'));
  });

  it('cuts a run of more than 300 characters in a reason (a quoted manifest field of megabytes)', () => {
    const reason = scrubReason(
      `manifest.ndjson line 1: file "${'a'.repeat(1_000_000)}.xml" must be relative`,
    );
    expect(reason).toBe(`manifest.ndjson line 1: file ${'"'}${'a'.repeat(299)}… must be relative`);
  });

  it('masks any run of nine or more digits in a reason, but not in the file name it is about', () => {
    expect(scrubReason("a.xml: '999900006' is not valid; AGB 12345678 ok; x999900006")).toBe(
      "a.xml: '*********' is not valid; AGB 12345678 ok; x*********",
    );
    // Nine digits as people group a BSN are masked too; dates, times, amounts and codes are not.
    expect(
      scrubReason(
        'fout bsn 999 435 978 (cliënt 999.43.59.78), 9994-35-978; op 2024-03-05 10:00, € 1.234.567,89',
      ),
    ).toBe('fout bsn *** *** *** (cliënt ***.**.**.**), ****-**-***; op 2024-03-05 10:00, € 1.234.567,89');
    expect(scrubReason('BSN 999 435 978 2024, bsn-999435978')).toBe('BSN *** *** *** 2024, bsn-*********');
    for (const kept of [
      'moment 2026-11-30T16:00:00.000Z, AGB 1234 5678, tel 06 1234 5678',
      'AGB 12345678 2 keer gestuurd, ticket 12345678 3 berichten, op 20240305 1 bericht',
      'op 2024-03-05 2 berichten dubbel, op 05-03-2024 9:30 gebeld',
      'items 101 102 103 dubbel, regel 1 2 3 4 5 6 7 8 9',
    ])
      expect(scrubReason(kept)).toBe(kept);
    const file = 'berichten/GGKCF400100001422.xml';
    expect(scrubReason(`${file}: line 2: 'BSN999900006' in ${file}`, file)).toBe(
      `${file}: line 2: 'BSN*********' in ${file}`,
    );
  });
});
