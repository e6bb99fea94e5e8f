import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { DIALECTS, rowCounts, withFreshStore } from '../../test/support/databases.js';
import { SECRET, validExamples, writeExchangeFolder } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { type IngestSummary, ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { listQuarantine } from './quarantine.js';

// An unusable manifest line (here: a moment without a zone) under a hub id or line the store knows already is
// skipped only when it is that same exchange again; anything else is an item of its own, never dropped.

const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');
const examples = validExamples();
const xmlOf = (code: string) => examples.find((e) => e.name.endsWith(`/${code}.xml`))!.xml;
const parties = { verzender: '0384', ontvanger: '12345678' };
const moment = (n: number) => new Date(Date.UTC(2024, 2, 4, 9, 0, n)).toISOString();
/** A line whose moment has no zone: `ingest.manifest_invalid`, though it names its file and hub id. */
const badLine = (file: string, n: number, hubId?: string) =>
  JSON.stringify({ file, moment: moment(n).slice(0, 19), ...parties, ...(hubId ? { hubId } : {}) });
const goodLine = (file: string, n: number, hubId: string) =>
  JSON.stringify({ file, moment: moment(n), ...parties, hubId });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder with these manifest lines and files. */
function folder(lines: readonly string[], files: Record<string, string | Buffer> = {}): string {
  const dir = writeExchangeFolder([], lines);
  dirs.push(dir);
  for (const [name, xml] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), xml);
  }
  return dir;
}

async function ingest(store: Store, path: string, batchSize = 2, workers = 0): Promise<IngestSummary> {
  const s = await ingestSource({ store, keys, now }, await openSource(path), { batchSize, workers });
  expect(s.received).toBe(s.stored + s.duplicates + s.quarantined + s.skipped);
  return s;
}

const counts = (store: Store) => rowCounts(store, ['message', 'exchange', 'quarantine', 'raw_message']);

const items = async (store: Store, all = false) =>
  (await listQuarantine(store, { all })).map((q) => ({
    source: q.source,
    hubId: q.hubId,
    reasonCode: q.reasonCode,
    status: q.status,
    resolvedMessageSeq: q.resolvedMessageSeq,
  }));

async function seqOf(store: Store, code: string): Promise<number> {
  const row = await store.db
    .selectFrom('message')
    .select('seq')
    .where('code', '=', code)
    .executeTakeFirstOrThrow();
  return Number(row.seq);
}

/** Re-running a source adds nothing: every exchange already ingested, no row anywhere. */
async function expectNothingNew(store: Store, path: string, received: number): Promise<void> {
  const before = await counts(store);
  const openBefore = await items(store, true);
  expect(await ingest(store, path)).toMatchObject({ received, stored: 0, quarantined: 0, skipped: received });
  expect(await counts(store)).toEqual(before);
  expect(await items(store, true)).toEqual(openBefore);
}

describe.each(DIALECTS)('an unusable manifest line under a known hub id or line on %s', (dialect) => {
  const withStore = (test: (store: Store) => Promise<void>) => withFreshStore(dialect, test);

  it('quarantines a bad line naming another message under a hub id already stored (w1, w2)', async () => {
    await withStore(async (store) => {
      const w1 = folder([goodLine('b/GGK1.xml', 1, 'RH-W')], { 'b/GGK1.xml': xmlOf('JW301') });
      expect(await ingest(store, w1)).toMatchObject({ received: 1, stored: 1 });
      const w2 = folder([badLine('b/GGK1.xml', 5, 'RH-W')], { 'b/GGK1.xml': xmlOf('JW305') });
      const second = await ingest(store, w2);
      expect(second).toMatchObject({ received: 1, stored: 0, quarantined: 1, skipped: 0 });
      expect(await items(store)).toEqual([
        {
          source: 'manifest.ndjson#1',
          hubId: 'RH-W',
          reasonCode: 'ingest.manifest_invalid',
          status: 'open',
          resolvedMessageSeq: null,
        },
      ]);
      await expectNothingNew(store, w2, 1);
      // The same message under that hub id, named by an unusable line, is the exchange stored: nothing new.
      const same = folder([badLine('b/GGK1.xml', 7, 'RH-W')], { 'b/GGK1.xml': xmlOf('JW301') });
      expect(await ingest(store, same)).toMatchObject({ received: 1, quarantined: 0, skipped: 1 });
      expect(await listQuarantine(store)).toHaveLength(1);
      // The hub's corrected line for w2 (its own moment, file and message) is stored and settles the item.
      const fixed = folder([goodLine('b/GGK1.xml', 5, 'RH-W')], { 'b/GGK1.xml': xmlOf('JW305') });
      expect(await ingest(store, fixed)).toMatchObject({ received: 1, stored: 1 });
      expect((await items(store, true)).map((q) => [q.status, q.resolvedMessageSeq])).toEqual([
        ['resolved', await seqOf(store, 'JW305')],
      ]);
      await expectNothingNew(store, w2, 1);
    });
  });

  it('still knows a bad line recorded before bad lines had a digest, on a re-run of its manifest', async () => {
    await withStore(async (store) => {
      const old = folder([badLine('b/GGK1.xml', 1, 'RH-O')], { 'b/GGK1.xml': xmlOf('JW301') });
      expect(await ingest(store, old)).toMatchObject({ quarantined: 1 });
      await store.db.updateTable('exchange').set({ content_digest: null }).execute();
      await expectNothingNew(store, old, 1);
      // Another line under that hub id is not it.
      const other = folder(['', badLine('b/GGK1.xml', 1, 'RH-O')], { 'b/GGK1.xml': xmlOf('JW301') });
      expect(await ingest(store, other)).toMatchObject({ received: 1, quarantined: 1 });
    });
  });

  it('leaves the item of a bad line open when another message comes under its hub id, and resolves it by the corrected line (v1, v2)', async () => {
    await withStore(async (store) => {
      const v1 = folder([badLine('b/GGK1.xml', 1, 'RH-V')], { 'b/GGK1.xml': xmlOf('JW301') });
      expect(await ingest(store, v1)).toMatchObject({ quarantined: 1 });
      const v2 = folder([goodLine('b/GGK1.xml', 5, 'RH-V')], { 'b/GGK1.xml': xmlOf('JW305') });
      expect(await ingest(store, v2)).toMatchObject({ received: 1, stored: 1, skipped: 0 });
      const open = await items(store);
      expect(open).toEqual([
        {
          source: 'manifest.ndjson#1',
          hubId: 'RH-V',
          reasonCode: 'ingest.manifest_invalid',
          status: 'open',
          resolvedMessageSeq: null,
        },
      ]);
      await expectNothingNew(store, v2, 1);
      await expectNothingNew(store, v1, 1);
      // The hub's corrected line: the same hub id, file and message.
      const fixed = folder([goodLine('b/GGK1.xml', 1, 'RH-V')], { 'b/GGK1.xml': xmlOf('JW301') });
      expect(await ingest(store, fixed)).toMatchObject({ received: 1, stored: 1 });
      expect(await items(store, true)).toEqual([
        { ...open[0], status: 'resolved', resolvedMessageSeq: await seqOf(store, 'JW301') },
      ]);
      await expectNothingNew(store, fixed, 1);
    });
  });

  it('resolves the item of a bad line whose file was missing only by a line naming that file', async () => {
    await withStore(async (store) => {
      const broken = folder([badLine('b/c9.xml', 1, 'RH-M')]);
      expect(await ingest(store, broken)).toMatchObject({ quarantined: 1 });
      const other = folder([goodLine('b/d.xml', 5, 'RH-M')], { 'b/d.xml': xmlOf('JW305') });
      expect(await ingest(store, other)).toMatchObject({ stored: 1 });
      expect((await items(store)).map((q) => q.status)).toEqual(['open']);
      const fixed = folder([goodLine('b/c9.xml', 1, 'RH-M')], { 'b/c9.xml': xmlOf('JW301') });
      expect(await ingest(store, fixed)).toMatchObject({ stored: 1 });
      expect((await items(store, true)).map((q) => [q.status, q.resolvedMessageSeq])).toEqual([
        ['resolved', await seqOf(store, 'JW301')],
      ]);
    });
  });

  it('keeps bad lines of one manifest that share a hub id apart, in one batch or several, with workers (g3)', async () => {
    for (const [batchSize, workers] of [
      [1, 0],
      [6, 0],
      [1, 2],
    ] as const) {
      await withStore(async (store) => {
        const g3 = folder(
          [
            goodLine('b/x.xml', 1, 'RH-G'),
            badLine('b/y.xml', 2, 'RH-G'),
            badLine('b/z.xml', 3, 'RH-G'),
            JSON.stringify({ moment: moment(4), ...parties, hubId: 'RH-G' }),
            badLine('b/m1.xml', 5, 'RH-H'),
            badLine('b/m2.xml', 6, 'RH-H'),
          ],
          { 'b/x.xml': xmlOf('JW301'), 'b/y.xml': xmlOf('JW305') },
        );
        const s = await ingest(store, g3, batchSize, workers);
        expect(s).toMatchObject({ received: 6, stored: 1, quarantined: 5, skipped: 0 });
        expect((await items(store)).map((q) => [q.source, q.hubId])).toEqual([
          ['manifest.ndjson#2', 'RH-G'],
          ['manifest.ndjson#3', 'RH-G'],
          ['manifest.ndjson#4', 'RH-G'],
          ['manifest.ndjson#5', 'RH-H'],
          ['manifest.ndjson#6', 'RH-H'],
        ]);
        await expectNothingNew(store, g3, 6);
      });
    }
  });

  it('keeps the same bad line without a hub id apart in two folders and two ZIPs whose files differ (f1, f2)', async () => {
    await withStore(async (store) => {
      const line = badLine('b/x.xml', 1);
      const f1 = folder([line], { 'b/x.xml': xmlOf('JW301') });
      const f2 = folder([line], { 'b/x.xml': xmlOf('JW305') });
      expect(await ingest(store, f1)).toMatchObject({ received: 1, quarantined: 1 });
      expect(await ingest(store, f2)).toMatchObject({ received: 1, quarantined: 1, skipped: 0 });
      const zips = await Promise.all(
        ['JW301', 'JW305'].map(async (code) => {
          const zip = new yazl.ZipFile();
          zip.addBuffer(Buffer.from(`${line}\n`), 'manifest.ndjson');
          zip.addBuffer(Buffer.from(xmlOf(code)), 'b/x.xml');
          zip.end();
          const path = join(folder([]), `${code}.zip`);
          await new Promise<void>((resolve, reject) => {
            zip.outputStream
              .pipe(createWriteStream(path))
              .on('close', () => resolve())
              .on('error', reject);
          });
          return path;
        }),
      );
      for (const zip of zips) expect(await ingest(store, zip)).toMatchObject({ received: 1, quarantined: 1 });
      expect((await items(store)).map((q) => q.source)).toEqual([
        'manifest.ndjson#1',
        'manifest.ndjson#1',
        'JW301.zip!manifest.ndjson#1',
        'JW305.zip!manifest.ndjson#1',
      ]);
      for (const path of [f1, f2, ...zips]) await expectNothingNew(store, path, 1);
    });
  });
});
