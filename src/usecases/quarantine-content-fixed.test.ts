import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, seqOfHub, withFreshStore } from '../../test/support/databases.js';
import { SECRET, validExamples, writeExchangeFolder } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { type IngestSummary, ingestOne, ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { listQuarantine } from './quarantine.js';

const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');
const later = () => new Date('2024-03-06T10:00:00Z');
const examples = validExamples();
const xmlOf = (code: string) => examples.find((e) => e.name.endsWith(`/${code}.xml`))!.xml;
const truncated = (code: string) => xmlOf(code).subarray(0, Math.floor(xmlOf(code).length / 2));
const meta = (n: number) => ({
  moment: new Date(Date.UTC(2024, 2, 4, 9, 0, n)).toISOString(),
  verzender: '0384',
  ontvanger: '12345678',
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const folder = (...args: Parameters<typeof writeExchangeFolder>) => {
  const dir = writeExchangeFolder(...args);
  dirs.push(dir);
  return dir;
};

async function ingest(store: Store, dir: string, clock = now): Promise<IngestSummary> {
  const s = await ingestSource({ store, keys, now: clock }, await openSource(dir), { batchSize: 2 });
  expect(s.received).toBe(s.stored + s.duplicates + s.quarantined + s.skipped);
  return s;
}

describe.each(DIALECTS)('a content problem fixed under a new exchange key on %s', (dialect) => {
  const withStore = (test: (store: Store) => Promise<void>) => withFreshStore(dialect, test);

  it('resolves the item when the same hub passage (id, moment, parties, file) comes again with usable content', async () => {
    await withStore(async (store) => {
      // The extract read while its files were still being written: one cut off, one empty.
      const first = await ingest(
        store,
        folder([
          { file: 'a.xml', xml: truncated('JW301'), ...meta(1), hubId: 'HF1' },
          { file: 'b.xml', xml: '', ...meta(2), hubId: 'HF2' },
          { file: 'c.xml', xml: xmlOf('JW307'), ...meta(3), hubId: 'HF3' },
        ]),
      );
      expect(first.quarantinedByReason).toEqual({ 'ingest.not_well_formed': 1, 'ingest.empty': 1 });
      const items = await listQuarantine(store);
      expect(items.map((e) => e.hubId)).toEqual(['HF1', 'HF2']);

      const fixed = folder([
        { file: 'a.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'HF1' },
        { file: 'b.xml', xml: xmlOf('JW305'), ...meta(2), hubId: 'HF2' },
        { file: 'c.xml', xml: xmlOf('JW307'), ...meta(3), hubId: 'HF3' },
      ]);
      expect(await ingest(store, fixed, later)).toMatchObject({ stored: 2, quarantined: 0, skipped: 1 });
      expect(await listQuarantine(store)).toEqual([]);
      expect(await listQuarantine(store, { all: true })).toEqual(
        await Promise.all(
          items.map(async (e) => ({
            ...e,
            status: 'resolved',
            resolvedAt: later().toISOString(),
            resolvedMessageSeq: await seqOfHub(store, e.hubId!),
          })),
        ),
      );
      // Both copies are on record: each comes again as already ingested, and nothing reopens.
      expect(await ingest(store, fixed)).toMatchObject({ stored: 0, quarantined: 0, skipped: 3 });
      const broken = folder([{ file: 'a.xml', xml: truncated('JW301'), ...meta(1), hubId: 'HF1' }]);
      expect(await ingest(store, broken)).toMatchObject({ stored: 0, quarantined: 0, skipped: 1 });
      expect(await listQuarantine(store)).toEqual([]);
    });
  });

  it('resolves the item of a posted exchange when the same hub id is posted again with usable content', async () => {
    await withStore(async (store) => {
      const post = (bytes: Buffer) =>
        ingestOne(
          { store, keys, now },
          { source: 'http/HP1', bytes, moment: null, verzender: null, ontvanger: null, hubId: 'HP1' },
        );
      expect(await post(truncated('JW315'))).toMatchObject({ outcome: 'quarantined' });
      const [item] = await listQuarantine(store);
      const stored = await post(xmlOf('JW315'));
      expect(stored).toMatchObject({ outcome: 'stored' });
      expect(await listQuarantine(store, { all: true })).toEqual([
        { ...item, status: 'resolved', resolvedAt: now().toISOString(), resolvedMessageSeq: stored.seq },
      ]);
    });
  });

  it('leaves the item open when nothing certainly names the same passage', async () => {
    await withStore(async (store) => {
      await ingest(
        store,
        folder([
          { file: 'a.xml', xml: truncated('JW301'), ...meta(1), hubId: 'HG1' },
          { file: 'b.xml', xml: truncated('JW301'), ...meta(2), hubId: 'HG2' },
          { file: 'c.xml', xml: truncated('JW301'), ...meta(3), hubId: 'HG3' },
          { file: 'd.xml', xml: truncated('JW301'), ...meta(4) },
          { file: 'e.xml', xml: truncated('JW301'), ...meta(5), hubId: 'HG5' },
          { file: 'f.xml', xml: truncated('JW301'), ...meta(6), hubId: 'HG6' },
        ]),
      );
      const open = await listQuarantine(store);
      expect(open).toHaveLength(6);
      const second = await ingest(
        store,
        folder([
          // A new hub id and file: the sender's corrected message, or another one.
          { file: 'a2.xml', xml: xmlOf('JW301'), ...meta(7), hubId: 'HG7' },
          // The hub id and moment, but another file: two messages may share them.
          { file: 'b2.xml', xml: xmlOf('JW305'), ...meta(2), hubId: 'HG2' },
          // The hub id and file at another moment: another passage.
          { file: 'c.xml', xml: xmlOf('JW307'), ...meta(9), hubId: 'HG3' },
          // No hub id: without one the bytes are part of what names the exchange.
          { file: 'd.xml', xml: xmlOf('JW315'), ...meta(4) },
          // Other parties.
          { file: 'e.xml', xml: xmlOf('JW317'), ...meta(5), verzender: '0363', hubId: 'HG5' },
          // Still broken: a second item, and the first stays open.
          { file: 'f.xml', xml: '', ...meta(6), hubId: 'HG6' },
        ]),
      );
      expect(second).toMatchObject({ stored: 5, quarantined: 1 });
      expect(await listQuarantine(store)).toEqual([
        ...open,
        expect.objectContaining({ hubId: 'HG6', reasonCode: 'ingest.empty' }),
      ]);
    });
  });
});
