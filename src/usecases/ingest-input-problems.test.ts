import { execFileSync } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { DIALECTS, freshStore, seqOfHub, withFreshStore } from '../../test/support/databases.js';
import { SECRET, validExamples, writeExchangeFolder } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { settleFolderProblems } from '../store/ingest-repository.js';
import type { Store } from '../store/open.js';
import { formatSummary, type IngestSummary, ingestSource, summaryWarnings } from './ingest-exchanges.js';
import { exchangeKey } from './ingest-prepare.js';
import { MAX_EXCHANGE_BYTES, openSource } from './ingest-sources.js';
import { listQuarantine, retryQuarantine } from './quarantine.js';

const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');
const examples = validExamples();
const xmlOf = (code: string) => examples.find((e) => e.name.endsWith(`/${code}.xml`))!.xml;
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

// Small batches, so a batch holds exchanges of several kinds; every run accounts for all it received.
async function ingest(store: Store, dir: string): Promise<IngestSummary> {
  const s = await ingestSource({ store, keys, now }, await openSource(dir), { batchSize: 2 });
  expect(s.received).toBe(s.stored + s.duplicates + s.quarantined + s.skipped);
  return s;
}

async function count(
  store: Store,
  table: 'message' | 'exchange' | 'quarantine' | 'raw_message',
): Promise<number> {
  const r = await store.db
    .selectFrom(table)
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

const counts = async (store: Store) => ({
  message: await count(store, 'message'),
  exchange: await count(store, 'exchange'),
  quarantine: await count(store, 'quarantine'),
  raw: await count(store, 'raw_message'),
});

describe.each(DIALECTS)('input problems fixed and ingested again on %s', (dialect) => {
  const withStore = (test: (store: Store) => Promise<void>) => withFreshStore(dialect, test);

  it('stores an exchange whose file was missing once the file is there, resolves its item, and a third ingest adds nothing', async () => {
    await withStore(async (store) => {
      const dir = folder([
        { file: 'a1.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-A1' },
        { file: 'b4.xml', ...meta(2), hubId: 'QA-B4' },
      ]);
      const first = await ingest(store, dir);
      expect(first).toMatchObject({ received: 2, stored: 1, quarantined: 1, skipped: 0 });
      expect(first.quarantinedByReason).toEqual({ 'ingest.file_missing': 1 });
      const [item] = await listQuarantine(store);
      expect(item).toMatchObject({ hubId: 'QA-B4', reasonCode: 'ingest.file_missing', status: 'open' });

      writeFileSync(join(dir, 'b4.xml'), xmlOf('JW305'));
      const second = await ingest(store, dir);
      expect(second).toMatchObject({ received: 2, stored: 1, duplicates: 0, quarantined: 0, skipped: 1 });
      const seq = await seqOfHub(store, 'QA-B4');
      expect(await listQuarantine(store)).toEqual([]);
      expect(await listQuarantine(store, { all: true })).toEqual([
        { ...item, status: 'resolved', resolvedAt: now().toISOString(), resolvedMessageSeq: seq },
      ]);
      const exchange = await store.db
        .selectFrom('exchange')
        .selectAll()
        .where('exchange_key', '=', 'hub:QA-B4')
        .executeTakeFirstOrThrow();
      expect(Number(exchange.message_seq)).toBe(seq);
      expect(Number(exchange.quarantine_id)).toBe(item!.id);
      const m = await store.db
        .selectFrom('message')
        .select(['code', 'passages'])
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();
      expect(m).toEqual({ code: 'JW305', passages: 1 });
      expect(await counts(store)).toMatchObject({ message: 2, exchange: 2, quarantine: 1 });

      const before = await counts(store);
      const third = await ingest(store, dir);
      expect(third).toMatchObject({ received: 2, stored: 0, duplicates: 0, quarantined: 0, skipped: 2 });
      expect(await counts(store)).toEqual(before);
    });
  });

  it('resolves the item of a manifest line that was fixed, also when the exchange turns out a duplicate', async () => {
    await withStore(async (store) => {
      const dir = folder(
        [
          { file: 'a1.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-A1' },
          { file: 'c1.xml', xml: xmlOf('JW301'), ...meta(2), hubId: 'QA-C1' },
        ],
        [],
      );
      // The second line lacks its parties.
      const broken = JSON.stringify({ file: 'c1.xml', moment: meta(2).moment, hubId: 'QA-C1' });
      const good = readFileSync(join(dir, 'manifest.ndjson'), 'utf8').split('\n');
      writeFileSync(join(dir, 'manifest.ndjson'), `${good[0]}\n${broken}\n`);
      const first = await ingest(store, dir);
      expect(first.quarantinedByReason).toEqual({ 'ingest.manifest_invalid': 1 });
      const [item] = await listQuarantine(store);
      expect(item).toMatchObject({ hubId: 'QA-C1', reasonCode: 'ingest.manifest_invalid' });
      expect((await retryQuarantine({ store, keys, now }, [item!.id])).notRetryable).toEqual([item!.id]);

      writeFileSync(join(dir, 'manifest.ndjson'), `${good[0]}\n${good[1]}\n`);
      const second = await ingest(store, dir);
      expect(second).toMatchObject({ received: 2, stored: 0, duplicates: 1, quarantined: 0, skipped: 1 });
      const seq = await seqOfHub(store, 'QA-A1');
      expect(await listQuarantine(store)).toEqual([]);
      expect((await listQuarantine(store, { all: true }))[0]).toMatchObject({
        id: item!.id,
        status: 'resolved',
        resolvedMessageSeq: seq,
      });
      const m = await store.db
        .selectFrom('message')
        .select('passages')
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();
      expect(m.passages).toBe(2);
      expect(await counts(store)).toMatchObject({ message: 1, exchange: 2, quarantine: 1 });
    });
  });

  it('stores a later passage under the hub id of a manifest line that had no moment, once the line was fixed', async () => {
    await withStore(async (store) => {
      // A line with an unusable moment: its exchange is recorded without one.
      const broken = folder([{ file: 'x.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-M1' }], []);
      const lines = readFileSync(join(broken, 'manifest.ndjson'), 'utf8').trim();
      writeFileSync(join(broken, 'manifest.ndjson'), `${lines.replace(meta(1).moment, 'gisteren')}\n`);
      expect((await ingest(store, broken)).quarantinedByReason).toEqual({ 'ingest.manifest_invalid': 1 });
      // The fixed line is stored and settles the item; its exchange now has the passage's moment and parties.
      const fixed = folder([{ file: 'x.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-M1' }], []);
      expect(await ingest(store, fixed)).toMatchObject({ stored: 1, quarantined: 0 });
      const exchange = await store.db
        .selectFrom('exchange')
        .select(['moment', 'verzender', 'ontvanger'])
        .where('exchange_key', '=', 'hub:QA-M1')
        .executeTakeFirstOrThrow();
      expect(exchange).toEqual({ moment: meta(1).moment, verzender: '0384', ontvanger: '12345678' });
      // Another message under the same hub id at another moment is another passage: stored, not skipped.
      const later = folder([{ file: 'y.xml', xml: xmlOf('JW305'), ...meta(5), hubId: 'QA-M1' }], []);
      expect(await ingest(store, later)).toMatchObject({ stored: 1, skipped: 0 });
      expect(await count(store, 'message')).toBe(2);
    });
  });

  it('after a line without a moment was retried with its file, skips that file and stores other bytes under its hub id', async () => {
    await withStore(async (store) => {
      const broken = folder([{ file: 'x.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-R1' }], []);
      const lines = readFileSync(join(broken, 'manifest.ndjson'), 'utf8').trim();
      writeFileSync(join(broken, 'manifest.ndjson'), `${lines.replace(meta(1).moment, 'gisteren')}\n`);
      await ingest(store, broken);
      const [item] = await listQuarantine(store);
      const retried = await retryQuarantine({ store, keys, now }, [item!.id], {
        replacement: Buffer.from(xmlOf('JW301')),
      });
      expect(retried).toMatchObject({ resolved: 1, stored: 1 });
      // The time it reached us is the message's moment, not the exchange's: when it passed the hub is unknown.
      const exchange = await store.db
        .selectFrom('exchange')
        .select(['moment', 'content_digest'])
        .where('exchange_key', '=', 'hub:QA-R1')
        .executeTakeFirstOrThrow();
      expect(exchange.moment).toBe('');
      expect(exchange.content_digest).not.toBeNull();
      // The hub's corrected line with the same file is that exchange: received already, one passage.
      const fixed = folder([{ file: 'x.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-R1' }], []);
      expect(await ingest(store, fixed)).toMatchObject({ stored: 0, duplicates: 0, skipped: 1 });
      // Other bytes under the same hub id are another passage: stored, not skipped.
      const later = folder([{ file: 'y.xml', xml: xmlOf('JW305'), ...meta(5), hubId: 'QA-R1' }], []);
      expect(await ingest(store, later)).toMatchObject({ stored: 1, skipped: 0 });
      const passages = await store.db.selectFrom('message').select('passages').orderBy('seq').execute();
      expect(passages.map((m) => m.passages)).toEqual([1, 1]);
    });
  });

  it('stores an exchange named twice in one batch, first with a missing file, then with its file', async () => {
    for (const batchSize of [1, 2]) {
      await withStore(async (store) => {
        const dir = folder([
          { file: 'gone.xml', ...meta(1), hubId: 'QA-T1' },
          { file: 'here.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-T1' },
        ]);
        const s = await ingestSource({ store, keys, now }, await openSource(dir), { batchSize });
        expect(s.received, `batches of ${batchSize}`).toBe(2);
        expect(s.stored, `batches of ${batchSize}`).toBe(1);
        expect(await count(store, 'message')).toBe(1);
        // In one batch the missing file is the same exchange, received already; in two it was an item, settled.
        expect(await listQuarantine(store)).toEqual([]);
      });
    }
  });

  it('keeps the corrected file of a retry that still fails, so the next retry tries that file', async () => {
    await withStore(async (store) => {
      const dir = folder([{ file: 'gone.xml', ...meta(1), hubId: 'QA-G1' }], []);
      expect((await ingest(store, dir)).quarantinedByReason).toEqual({ 'ingest.file_missing': 1 });
      const [item] = await listQuarantine(store);
      // A corrected file that is still invalid: a Dagtekening that is no date.
      const almost = String(xmlOf('JW301')).replace(/(<(\w+:)?Dagtekening>)[^<]*/, '$1gisteren');
      const first = await retryQuarantine({ store, keys, now }, [item!.id], {
        replacement: Buffer.from(almost),
      });
      expect(first.quarantinedByReason).toEqual({ 'ingest.xsd_invalid': 1 });
      // Retried again without a file: the corrected file is what is kept and tried.
      const again = await retryQuarantine({ store, keys, now }, [item!.id]);
      expect(again.quarantinedByReason).toEqual({ 'ingest.xsd_invalid': 1 });
      expect((await listQuarantine(store))[0]).toMatchObject({
        id: item!.id,
        reasonCode: 'ingest.xsd_invalid',
      });
    });
  });

  it('stores a passage that reuses a hub id with another moment, in the same batch or a later run, once', async () => {
    await withStore(async (store) => {
      // Two extracts numbered alike: H1 and H2 stand for other passages in each.
      const first = folder(
        [
          { file: 'a.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'H1' },
          // In the same batch (of two): H1 again, another passage (another moment), the same message.
          { file: 'a2.xml', xml: xmlOf('JW301'), ...meta(5), hubId: 'H1' },
          { file: 'b.xml', xml: xmlOf('JW305'), ...meta(2), hubId: 'H2' },
        ],
        [],
      );
      expect(await ingest(store, first)).toMatchObject({ received: 3, stored: 2, duplicates: 1, skipped: 0 });
      const second = folder(
        [
          { file: 'c.xml', xml: xmlOf('JW315'), ...meta(7), hubId: 'H1' },
          { file: 'd.xml', xml: xmlOf('JW305'), ...meta(2), hubId: 'H2' },
        ],
        [],
      );
      // H1 with another moment is new; H2 with the same moment is the passage received before.
      expect(await ingest(store, second)).toMatchObject({ received: 2, stored: 1, skipped: 1 });
      const before = await counts(store);
      expect(await ingest(store, first)).toMatchObject({ stored: 0, duplicates: 0, skipped: 3 });
      expect(await ingest(store, second)).toMatchObject({ stored: 0, duplicates: 0, skipped: 2 });
      expect(await counts(store)).toEqual(before);
      expect(before).toMatchObject({ message: 3, exchange: 4 });
    });
  });

  it('stores a passage that reuses a hub id and its moment with other content, in the same batch or a later run, once', async () => {
    await withStore(async (store) => {
      // The hub's own id and moment, twice, for two messages: neither may be taken for the other.
      const first = folder(
        [
          { file: 'a.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'HC1' },
          { file: 'a2.xml', xml: xmlOf('JW305'), ...meta(1), hubId: 'HC1' },
          { file: 'b.xml', xml: xmlOf('JW307'), ...meta(2), hubId: 'HC2' },
        ],
        [],
      );
      expect(await ingest(store, first)).toMatchObject({ received: 3, stored: 3, skipped: 0 });
      const second = folder(
        [
          { file: 'c.xml', xml: xmlOf('JW315'), ...meta(2), hubId: 'HC2' },
          // The same bytes under the same id and moment: the passage received before.
          { file: 'd.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'HC1' },
        ],
        [],
      );
      expect(await ingest(store, second)).toMatchObject({ received: 2, stored: 1, skipped: 1 });
      // A later moment of HC1 twice, with two contents: the key of that moment is taken by the first.
      const third = folder(
        [
          { file: 'e.xml', xml: xmlOf('JW317'), ...meta(9), hubId: 'HC1' },
          { file: 'f.xml', xml: xmlOf('JW319'), ...meta(9), hubId: 'HC1' },
        ],
        [],
      );
      expect(await ingest(store, third)).toMatchObject({ received: 2, stored: 2, skipped: 0 });
      const fourth = folder([{ file: 'g.xml', xml: xmlOf('JW323'), ...meta(9), hubId: 'HC1' }], []);
      expect(await ingest(store, fourth)).toMatchObject({ received: 1, stored: 1, skipped: 0 });
      const before = await counts(store);
      expect(before).toMatchObject({ message: 7, exchange: 7, quarantine: 0 });
      for (const [dir, n] of [
        [first, 3],
        [second, 2],
        [third, 2],
        [fourth, 1],
      ] as const)
        expect(await ingest(store, dir)).toMatchObject({ stored: 0, duplicates: 0, skipped: n });
      expect(await counts(store)).toEqual(before);
    });
  });

  it('keeps the digest of an exchange first missing, so other bytes under its hub id and moment are told apart', async () => {
    await withStore(async (store) => {
      const dir = folder([{ file: 'm.xml', ...meta(1), hubId: 'HD1' }], []);
      expect((await ingest(store, dir)).quarantinedByReason).toEqual({ 'ingest.file_missing': 1 });
      writeFileSync(join(dir, 'm.xml'), xmlOf('JW301'));
      expect(await ingest(store, dir)).toMatchObject({ stored: 1 });
      const row = await store.db
        .selectFrom('exchange')
        .select('content_digest')
        .where('exchange_key', '=', 'hub:HD1')
        .executeTakeFirstOrThrow();
      expect(row.content_digest).toMatch(/^[0-9a-f]{32}$/);
      writeFileSync(join(dir, 'm.xml'), xmlOf('JW305'));
      expect(await ingest(store, dir)).toMatchObject({ stored: 1, skipped: 0 });
      expect(await ingest(store, dir)).toMatchObject({ stored: 0, skipped: 1 });
    });
  });

  it('tells contents apart under a hub id holding # or @, and when the first passage was a missing file', async () => {
    await withStore(async (store) => {
      const odd = folder(
        [
          { file: 'a.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'Y#1' },
          { file: 'b.xml', xml: xmlOf('JW305'), ...meta(1), hubId: 'Y#1' },
          { file: 'c.xml', xml: xmlOf('JW307'), ...meta(1), hubId: 'Z@2' },
          { file: 'd.xml', xml: xmlOf('JW315'), ...meta(2), hubId: 'Z@2' },
        ],
        [],
      );
      expect(await ingest(store, odd)).toMatchObject({ received: 4, stored: 4, skipped: 0 });
      expect(await ingest(store, odd)).toMatchObject({ stored: 0, skipped: 4 });
      // The file of M1 is missing at first; then it comes, with a second line of M1's id and moment.
      const dir = folder([{ file: 'm.xml', ...meta(3), hubId: 'M1' }], []);
      expect((await ingest(store, dir)).quarantinedByReason).toEqual({ 'ingest.file_missing': 1 });
      writeFileSync(join(dir, 'm.xml'), xmlOf('JW317'));
      writeFileSync(join(dir, 'n.xml'), xmlOf('JW319'));
      const manifest = join(dir, 'manifest.ndjson');
      writeFileSync(
        manifest,
        `${readFileSync(manifest, 'utf8')}${JSON.stringify({ file: 'n.xml', ...meta(3), hubId: 'M1' })}\n`,
      );
      expect(await ingest(store, dir)).toMatchObject({ received: 2, stored: 2, skipped: 0 });
      expect(await ingest(store, dir)).toMatchObject({ stored: 0, skipped: 2 });
    });
  });

  it('quarantines a ZIP a manifest line names as ingest.nested_zip, not as a message that is not UTF-8', async () => {
    await withStore(async (store) => {
      const dir = folder([{ file: 'a1.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'NZ-1' }]);
      const zip = new yazl.ZipFile();
      zip.addBuffer(Buffer.from(xmlOf('JW305')), 'b.xml');
      zip.end();
      await new Promise<void>((resolve, reject) => {
        zip.outputStream
          .pipe(createWriteStream(join(dir, 'inner.zip')))
          .on('close', resolve)
          .on('error', reject);
      });
      const manifest = join(dir, 'manifest.ndjson');
      writeFileSync(
        manifest,
        `${readFileSync(manifest, 'utf8')}${JSON.stringify({ file: 'inner.zip', ...meta(2), hubId: 'NZ-2' })}\n`,
      );
      const s = await ingest(store, dir);
      expect(s).toMatchObject({ received: 2, stored: 1, quarantined: 1 });
      expect(s.quarantinedByReason).toEqual({ 'ingest.nested_zip': 1 });
      const [item] = await listQuarantine(store);
      expect(item).toMatchObject({ reasonCode: 'ingest.nested_zip' });
      expect(item?.reason).toContain('inner.zip');
    });
  });

  it('names the files of a folder or ZIP without a manifest that it does not read, for not being .xml', async () => {
    await withStore(async (store) => {
      const dir = folder([], []);
      rmSync(join(dir, 'manifest.ndjson'));
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'a.xml'), xmlOf('JW301'));
      writeFileSync(join(dir, 'B.XML'), xmlOf('JW305'));
      for (const name of ['notes.txt', 'README', 'sub/inner.zip', 'sub/c.xml.gz'])
        writeFileSync(join(dir, name), 'x');
      const s = await ingest(store, dir);
      // The ZIP inside is no note: it is an item of its own (`ingest.nested_zip`), counted.
      expect(s).toMatchObject({ received: 3, stored: 2, quarantined: 1 });
      expect(s.quarantinedByReason).toEqual({ 'ingest.nested_zip': 1 });
      expect(s.notXml).toEqual({ count: 3, first: ['README', 'notes.txt', 'sub/c.xml.gz'] });
      expect(formatSummary(s)).toContain(
        '  not read: 3 files not named .xml (README, notes.txt, sub/c.xml.gz); not counted above',
      );
      // A ZIP without a manifest the same; one with every file read says nothing.
      const zipPath = join(dir, 'extract.zip');
      const zip = new yazl.ZipFile();
      zip.addBuffer(Buffer.from(xmlOf('JW315')), 'week/a.xml');
      zip.addBuffer(Buffer.from('x'), 'week/inner.zip');
      zip.addBuffer(Buffer.from('x'), 'week/notes.txt');
      zip.end();
      await new Promise<void>((resolve, reject) => {
        zip.outputStream.pipe(createWriteStream(zipPath)).on('close', resolve).on('error', reject);
      });
      const fromZip = await ingest(store, zipPath);
      expect(fromZip).toMatchObject({ received: 2, stored: 1, quarantined: 1 });
      expect(fromZip.quarantinedByReason).toEqual({ 'ingest.nested_zip': 1 });
      expect(formatSummary(fromZip)).toContain(
        '  not read: 1 file not named .xml (week/notes.txt); not counted above',
      );
      const withManifest = folder([{ file: 'm.xml', xml: xmlOf('JW317'), ...meta(1) }], []);
      writeFileSync(join(withManifest, 'notes.txt'), 'x');
      expect((await ingest(store, withManifest)).notXml).toBeUndefined();
    });
  });

  it('refuses a folder or ZIP without manifest.ndjson that holds what looks like one, before reading anything', async () => {
    await withStore(async (store) => {
      const refusal = (p: Promise<unknown>) =>
        p.then(
          () => 'read',
          (err: Error) => err.message,
        );
      const dir = folder([], []);
      rmSync(join(dir, 'manifest.ndjson'));
      writeFileSync(join(dir, 'a.xml'), xmlOf('JW301'));
      writeFileSync(join(dir, 'manifest.jsonl'), '{}');
      writeFileSync(join(dir, 'notes.txt'), 'x');
      const misnamed = await refusal(openSource(dir));
      expect(misnamed).toMatch(
        /^ingest\.manifest_misnamed: .* has no manifest\.ndjson of its own, but manifest\.jsonl looks like one: if it is the hub's manifest, name it manifest\.ndjson and ingest again\. Nothing was read\./,
      );
      expect(misnamed).toContain('add --without-manifest');
      expect(await count(store, 'exchange')).toBe(0);
      // Read anyway when asked: by the files' own times, the manifest-like file among those not read.
      const anyway = await ingestSource(
        { store, keys, now },
        await openSource(dir, { withoutManifest: true }),
      );
      expect(anyway).toMatchObject({ received: 1, stored: 1 });
      expect(anyway.notXml).toEqual({ count: 2, first: ['manifest.jsonl', 'notes.txt'] });
      // A folder per week, each with its manifest: read by subfolder (or as a ZIP), not as one plain folder.
      const weeks = folder([], []);
      rmSync(join(weeks, 'manifest.ndjson'));
      for (const w of ['w1', 'w2']) {
        mkdirSync(join(weeks, w));
        writeFileSync(join(weeks, w, 'manifest.ndjson'), '');
      }
      writeFileSync(join(weeks, 'w1', 'ground-truth.ndjson'), '');
      expect(await refusal(openSource(weeks))).toMatch(
        /but w1\/ground-truth\.ndjson, w1\/manifest\.ndjson, w2\/manifest\.ndjson look like one: a folder's manifests in subfolders are not read: ingest each subfolder on its own \(or a ZIP of the folder, which reads every manifest\.ndjson in it\)\. Nothing was read\./,
      );
      // A ZIP without a manifest the same.
      const zipPath = join(dir, 'extract.zip');
      const zip = new yazl.ZipFile();
      zip.addBuffer(Buffer.from(xmlOf('JW315')), 'week/a.xml');
      zip.addBuffer(Buffer.from('{}'), 'week/Manifest.NDJSON');
      zip.end();
      await new Promise<void>((resolve, reject) => {
        zip.outputStream.pipe(createWriteStream(zipPath)).on('close', resolve).on('error', reject);
      });
      expect(await refusal(openSource(zipPath))).toMatch(
        /but week\/Manifest\.NDJSON looks like one: if it is/,
      );
      // Plain notes are no reason to refuse, and a source with nothing to read at all warns.
      rmSync(join(dir, 'manifest.jsonl'));
      rmSync(zipPath);
      writeFileSync(join(dir, 'b.xml'), xmlOf('JW305'));
      expect(summaryWarnings(await ingest(store, dir))).toEqual([]);
      const empty = folder([], []);
      expect(summaryWarnings(await ingest(store, empty))).toEqual([
        'ingest: warning: the source holds no exchanges: no manifest line and no .xml file (ingest.source_empty)',
      ]);
    });
  });

  it("settles the item of a plain folder's broken link once the file it names is there", async () => {
    await withStore(async (store) => {
      const dir = folder([], []);
      rmSync(join(dir, 'manifest.ndjson'));
      mkdirSync(join(dir, 'real'));
      symlinkSync(join(dir, 'real', 'a.data'), join(dir, 'a.xml'));
      writeFileSync(join(dir, 'real', 'b.xml'), xmlOf('JW305'));
      expect(await ingest(store, dir)).toMatchObject({ received: 2, stored: 1, quarantined: 1 });
      expect(await listQuarantine(store)).toMatchObject([
        { source: 'a.xml', reasonCode: 'ingest.link_refused' },
      ]);
      writeFileSync(join(dir, 'real', 'a.data'), xmlOf('JW301'));
      // The link leads somewhere now: read under its own name (its target is no .xml), and the item settles.
      expect(await ingest(store, dir)).toMatchObject({ stored: 1, quarantined: 0 });
      expect(await listQuarantine(store)).toEqual([]);
      expect(await listQuarantine(store, { all: true })).toMatchObject([{ status: 'resolved' }]);
    });
  });

  it("leaves a plain folder's item open when a file of the same name is read in another folder", async () => {
    await withStore(async (store) => {
      const plain = () => {
        const dir = folder([], []);
        rmSync(join(dir, 'manifest.ndjson'));
        mkdirSync(join(dir, 'real'));
        return dir;
      };
      const week1 = plain();
      symlinkSync(join(week1, 'real', 'a.data'), join(week1, 'a.xml'));
      expect(await ingest(store, week1)).toMatchObject({ quarantined: 1 });
      // Another folder's a.xml is another file: the first is still not read, its item stays open.
      const week2 = plain();
      writeFileSync(join(week2, 'a.xml'), xmlOf('JW301'));
      expect(await ingest(store, week2)).toMatchObject({ stored: 1, quarantined: 0 });
      // The list says which folder's a.xml it is.
      expect(await listQuarantine(store)).toMatchObject([
        { source: 'a.xml', ingestSource: week1, reasonCode: 'ingest.link_refused', status: 'open' },
      ]);
      // An empty file read in a plain folder is no input problem: read again, it is already ingested.
      writeFileSync(join(week2, 'empty.xml'), '');
      expect(await ingest(store, week2)).toMatchObject({ quarantined: 1, skipped: 1 });
      expect(await ingest(store, week2)).toMatchObject({ quarantined: 0, skipped: 2 });
      // Its key is as it was before problems were named with their folder (stores made then know it).
      const emptyKey = exchangeKey(keys, {
        source: 'empty.xml',
        moment: statSync(join(week2, 'empty.xml')).mtime.toISOString(),
        verzender: null,
        ontvanger: null,
        hubId: null,
        bytes: Buffer.alloc(0),
      });
      const stored = await store.db.selectFrom('exchange').select('exchange_key').execute();
      expect(stored.map((e) => e.exchange_key)).toContain(emptyKey);
      // Still broken in its own folder: the same item. Read there at last: settled.
      expect(await ingest(store, week1)).toMatchObject({ quarantined: 0, skipped: 1 });
      writeFileSync(join(week1, 'real', 'a.data'), xmlOf('JW305'));
      expect(await ingest(store, week1)).toMatchObject({ stored: 1, quarantined: 0 });
      expect(await listQuarantine(store)).toMatchObject([{ reasonCode: 'ingest.empty' }]);
    });
  });

  it("leaves the item of a ZIP's unreadable entry open when an entry of that name is read from another ZIP", async () => {
    await withStore(async (store) => {
      const zipOf = async (path: string, xml: Buffer | string, encrypted: boolean) => {
        const zip = new yazl.ZipFile();
        zip.addBuffer(Buffer.from(xml), 'a.xml');
        zip.end();
        const chunks: Buffer[] = [];
        for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        // The central directory's flags (at +8): marked encrypted, the entry cannot be read.
        const at = bytes.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
        if (encrypted) bytes.writeUInt16LE(bytes.readUInt16LE(at + 8) | 1, at + 8);
        writeFileSync(path, bytes);
        return path;
      };
      const dir = folder([]);
      const first = await zipOf(join(dir, 'week1.zip'), xmlOf('JW301'), true);
      expect((await ingest(store, first)).quarantinedByReason).toEqual({ 'ingest.unreadable': 1 });
      await zipOf(join(dir, 'week2.zip'), xmlOf('JW305'), false);
      expect(await ingest(store, join(dir, 'week2.zip'))).toMatchObject({ stored: 1, quarantined: 0 });
      expect(await listQuarantine(store)).toMatchObject([
        { source: 'week1.zip!a.xml', reasonCode: 'ingest.unreadable', status: 'open' },
      ]);
      // The ZIP written again where it was, readable now: the item settles.
      await zipOf(first, xmlOf('JW301'), false);
      expect(await ingest(store, first)).toMatchObject({ stored: 1, quarantined: 0 });
      expect(await listQuarantine(store)).toEqual([]);
    });
  });

  it("settles the item of a plain folder's subfolder once that folder is read, and makes a new one if it fails again", async () => {
    await withStore(async (store) => {
      const dir = folder([], []);
      rmSync(join(dir, 'manifest.ndjson'));
      const outside = folder([], []);
      writeFileSync(join(outside, 'x.xml'), xmlOf('JW301'));
      mkdirSync(join(dir, 'real'));
      writeFileSync(join(dir, 'real', 'b.xml'), xmlOf('JW305'));
      // A link to a folder elsewhere: refused, an item of the folder; its files are not read.
      symlinkSync(outside, join(dir, 'sub'));
      expect(await ingest(store, dir)).toMatchObject({ stored: 1, quarantined: 1 });
      expect(await listQuarantine(store)).toMatchObject([
        { source: 'sub/', reasonCode: 'ingest.link_refused' },
      ]);
      // Still refused: the item stays open.
      expect(await ingest(store, dir)).toMatchObject({ stored: 0, quarantined: 0 });
      // Another source with a readable folder of that name settles nothing.
      const other = folder([], []);
      rmSync(join(other, 'manifest.ndjson'));
      mkdirSync(join(other, 'sub'));
      writeFileSync(join(other, 'sub', 'y.xml'), xmlOf('JW315'));
      expect((await ingest(store, other)).settledFolders).toBeUndefined();
      expect(await listQuarantine(store)).toMatchObject([{ source: 'sub/', status: 'open' }]);
      // The link now leads to a folder inside: its file is stored, and the folder's item settles.
      rmSync(join(dir, 'sub'));
      mkdirSync(join(dir, 'moved'));
      writeFileSync(join(dir, 'moved', 'x.xml'), xmlOf('JW301'));
      symlinkSync(join(dir, 'moved'), join(dir, 'sub'));
      const fixed = await ingest(store, dir);
      expect(fixed).toMatchObject({ stored: 1, quarantined: 0, settledFolders: 1 });
      expect(formatSummary(fixed)).toContain(
        '  settled 1 quarantined folder(s), read now (their files are counted above)',
      );
      expect(await listQuarantine(store)).toEqual([]);
      expect(await listQuarantine(store, { all: true })).toMatchObject([
        { source: 'sub/', status: 'resolved' },
      ]);
      // Refused again later: a new item, not "already ingested".
      rmSync(join(dir, 'sub'));
      symlinkSync(outside, join(dir, 'sub'));
      expect(await ingest(store, dir)).toMatchObject({ quarantined: 1 });
      expect(await listQuarantine(store)).toMatchObject([
        { source: 'sub/', reasonCode: 'ingest.link_refused', status: 'open' },
      ]);
    });
  });

  it('settles no folder item recorded after the run that read the folder began (a concurrent run made it)', async () => {
    await withStore(async (store) => {
      const dir = folder([], []);
      rmSync(join(dir, 'manifest.ndjson'));
      symlinkSync(folder([], []), join(dir, 'sub'));
      await ingest(store, dir); // at now(): the item of sub/
      const source = await openSource(dir);
      await source.close();
      const folderKey = exchangeKey(
        keys,
        {
          source: 'sub/',
          moment: null,
          verzender: null,
          ontvanger: null,
          hubId: null,
          bytes: Buffer.alloc(0),
        },
        source.place,
      );
      const settle = (before: Date) =>
        settleFolderProblems(store, {
          exchangeKeys: [folderKey],
          source: source.label,
          before: before.toISOString(),
          at: now().toISOString(),
        });
      expect(await settle(new Date(now().getTime() - 1000))).toBe(0);
      expect(await listQuarantine(store)).toMatchObject([{ source: 'sub/', status: 'open' }]);
      expect(await settle(now())).toBe(1);
      expect(await listQuarantine(store)).toEqual([]);
    });
  });

  it("settles the item of a plain folder's file too big once a file of that name can be read", async () => {
    await withStore(async (store) => {
      const dir = folder([], []);
      rmSync(join(dir, 'manifest.ndjson'));
      writeFileSync(join(dir, 'big.xml'), '');
      truncateSync(join(dir, 'big.xml'), MAX_EXCHANGE_BYTES + 1);
      expect((await ingest(store, dir)).quarantinedByReason).toEqual({ 'ingest.too_large': 1 });
      // Still too big: the same item, counted as already ingested.
      expect(await ingest(store, dir)).toMatchObject({ quarantined: 0, skipped: 1 });
      // The file written again (another file time): stored, and the item settles by name.
      writeFileSync(join(dir, 'big.xml'), xmlOf('JW301'));
      expect(await ingest(store, dir)).toMatchObject({ stored: 1, quarantined: 0 });
      expect(await listQuarantine(store)).toEqual([]);
      expect(await listQuarantine(store, { all: true })).toMatchObject([{ status: 'resolved' }]);
    });
  });

  it('quarantines a manifest line too long to be one, without holding it, and reads the lines after it', async () => {
    await withStore(async (store) => {
      const dir = folder(
        [
          { file: 'a.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-L1' },
          { file: 'c.xml', xml: xmlOf('JW305'), ...meta(3), hubId: 'QA-L3' },
        ],
        [],
      );
      const manifest = join(dir, 'manifest.ndjson');
      const [first, second] = readFileSync(manifest, 'utf8').trim().split('\n');
      writeFileSync(manifest, `${first}\n${'x'.repeat(200_000)}\n${second}\n`);
      const s = await ingest(store, dir);
      expect(s).toMatchObject({ received: 3, stored: 2, quarantined: 1 });
      const [item] = await listQuarantine(store);
      expect(item).toMatchObject({ reasonCode: 'ingest.manifest_invalid', source: 'manifest.ndjson#2' });
      expect(item!.reason).toContain('manifest.ndjson line 2: the line has 200,000 bytes, more than 65,536');
    });
  });

  it('quarantines a file too big for one exchange unread, and stores the rest of the source', async () => {
    await withStore(async (store) => {
      const dir = folder(
        [
          { file: 'a.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-Z1' },
          { file: 'big.xml', xml: ' '.repeat(MAX_EXCHANGE_BYTES + 1), ...meta(2), hubId: 'QA-Z2' },
          { file: 'c.xml', xml: xmlOf('JW305'), ...meta(3), hubId: 'QA-Z3' },
          { file: 'huge.xml', xml: '', ...meta(4), hubId: 'QA-Z4' },
        ],
        [],
      );
      truncateSync(join(dir, 'huge.xml'), 2_000_000_000); // sparse: no disk used
      const s = await ingest(store, dir);
      expect(s).toMatchObject({ received: 4, stored: 2, quarantined: 2 });
      expect(s.quarantinedByReason).toEqual({ 'ingest.too_large': 2 });
      const [item, huge] = await listQuarantine(store);
      expect(item).toMatchObject({ hubId: 'QA-Z2', reasonCode: 'ingest.too_large' });
      expect(item!.reason).toMatch(
        /big\.xml has 20,971,521 bytes, more than the 20,971,520 \(20 MB\) of one exchange$/,
      );
      // Ten digits in a row would have been masked as if they were a BSN.
      expect(huge!.reason).toMatch(/huge\.xml has 2,000,000,000 bytes, more than/);
    });
  });

  it('quarantines a FIFO (not a file) and a link to /dev/zero (outside the folder) named by the manifest, unread, and stores the rest', async () => {
    await withStore(async (store) => {
      const dir = folder([
        { file: 'a.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-F1' },
        { file: 'fifo.xml', ...meta(2), hubId: 'QA-F2' },
        { file: 'zero.xml', ...meta(3), hubId: 'QA-F3' },
        { file: 'c.xml', xml: xmlOf('JW305'), ...meta(4), hubId: 'QA-F4' },
      ]);
      // Read before the fix, the FIFO blocks forever (no writer) and /dev/zero never ends.
      execFileSync('mkfifo', [join(dir, 'fifo.xml')]);
      symlinkSync('/dev/zero', join(dir, 'zero.xml'));
      const s = await ingest(store, dir);
      expect(s).toMatchObject({ received: 4, stored: 2, quarantined: 2 });
      // /dev/zero is outside the source folder, so its link is not even followed.
      expect(s.quarantinedByReason).toEqual({ 'ingest.not_a_file': 1, 'ingest.link_refused': 1 });
      const items = await listQuarantine(store);
      expect(items.map((q) => [q.hubId, q.reasonCode, q.reason])).toEqual([
        [
          'QA-F2',
          'ingest.not_a_file',
          'fifo.xml: is a named pipe (FIFO), not a regular file: only regular files are read',
        ],
        [
          'QA-F3',
          'ingest.link_refused',
          'zero.xml: leads to /dev/zero, outside the source folder: only links that stay inside the source folder are followed',
        ],
      ]);
      expect((await ingest(store, dir)).skipped).toBe(4);
    });
  }, 10_000);

  it('names items from a ZIP by the ZIP and their full path, and keeps the same bad line of two weeks apart', async () => {
    await withStore(async (store) => {
      const zip = new yazl.ZipFile();
      const bad = '{"file":"x.xml","moment":"gisteren","verzender":"0384","ontvanger":"12345678"}';
      ['week1', 'week2'].forEach((week, i) => {
        const line = JSON.stringify({ file: 'a.xml', ...meta(i + 1) });
        zip.addBuffer(Buffer.from(`${line}\n${bad}\n`), `${week}/manifest.ndjson`);
        zip.addBuffer(Buffer.from(xmlOf(i ? 'JW305' : 'JW301')), `${week}/a.xml`);
      });
      zip.end();
      const path = join(folder([]), 'weeks.zip');
      await new Promise<void>((resolve, reject) => {
        zip.outputStream
          .pipe(createWriteStream(path))
          .on('close', () => resolve())
          .on('error', reject);
      });
      const s = await ingest(store, path);
      expect(s).toMatchObject({ received: 4, stored: 2, quarantined: 2, skipped: 0 });
      expect((await listQuarantine(store)).map((q) => [q.source, q.reasonCode, q.reason])).toEqual(
        ['week1', 'week2'].map((w) => [
          `weeks.zip!${w}/manifest.ndjson#2`,
          'ingest.manifest_invalid',
          `weeks.zip!${w}/manifest.ndjson line 2: moment "gisteren" is not an ISO-8601 date-time with zone`,
        ]),
      );
      const exchanges = await store.db.selectFrom('exchange').select('source').orderBy('source').execute();
      expect(exchanges.map((e) => e.source)).toContain('weeks.zip!week2/a.xml');
      expect(await ingest(store, path)).toMatchObject({ received: 4, skipped: 4 });
    });
  });

  it('stores a line without a moment, retried with its file, at the moment it reached us', async () => {
    await withStore(async (store) => {
      const dir = folder([{ file: 'm1.xml', xml: xmlOf('JW301'), ...meta(1), hubId: 'QA-M1' }], []);
      const { moment: _, ...withoutMoment } = { file: 'm1.xml', ...meta(1), hubId: 'QA-M1' };
      writeFileSync(join(dir, 'manifest.ndjson'), `${JSON.stringify(withoutMoment)}\n`);
      expect((await ingest(store, dir)).quarantinedByReason).toEqual({ 'ingest.manifest_invalid': 1 });
      const [item] = await listQuarantine(store);
      const retried = await retryQuarantine({ store, keys, now }, [item!.id], {
        replacement: readFileSync(join(dir, 'm1.xml')),
      });
      expect(retried).toMatchObject({ resolved: 1, stored: 1 });
      const m = await store.db
        .selectFrom('message')
        .select('first_moment')
        .where('hub_id', '=', 'QA-M1')
        .executeTakeFirstOrThrow();
      expect(m.first_moment).toBe(item!.receivedAt);
      expect(m.first_moment).toBe(now().toISOString());
    });
  });

  it('adds no second quarantine row when the input comes again still broken, and settles the items once fixed', async () => {
    await withStore(async (store) => {
      const dir = folder(
        [
          { file: 'b4.xml', ...meta(1), hubId: 'QA-B4' },
          { file: 'nohub.xml', ...meta(2) },
        ],
        [JSON.stringify({ file: 'c1.xml', moment: meta(3).moment })],
      );
      const first = await ingest(store, dir);
      expect(first).toMatchObject({ received: 3, quarantined: 3 });
      const items = await listQuarantine(store);
      const before = await counts(store);

      const again = await ingest(store, dir);
      expect(again).toMatchObject({ received: 3, stored: 0, quarantined: 0, skipped: 3 });
      expect(await counts(store)).toEqual(before);
      expect(await listQuarantine(store)).toEqual(items);

      // The files appear; the manifest line without a hub id stays as it was.
      writeFileSync(join(dir, 'b4.xml'), xmlOf('JW305'));
      writeFileSync(join(dir, 'nohub.xml'), xmlOf('JW315'));
      const fixed = await ingest(store, dir);
      expect(fixed).toMatchObject({ received: 3, stored: 2, quarantined: 0, skipped: 1 });
      const open = await listQuarantine(store);
      expect(open.map((e) => e.reasonCode)).toEqual(['ingest.manifest_invalid']);
      const all = await listQuarantine(store, { all: true });
      expect(all).toHaveLength(3);
      const noHub = all.find((e) => e.source === 'nohub.xml')!;
      const seq = Number(
        (
          await store.db
            .selectFrom('message')
            .select('seq')
            .where('code', '=', 'JW315')
            .executeTakeFirstOrThrow()
        ).seq,
      );
      expect(noHub).toMatchObject({ status: 'resolved', resolvedMessageSeq: seq });

      const settled = await counts(store);
      const last = await ingest(store, dir);
      expect(last).toMatchObject({ received: 3, stored: 0, quarantined: 0, skipped: 3 });
      expect(await counts(store)).toEqual(settled);
    });
  });

  it('keeps the item, now with the content reason, when the file appears but cannot be stored', async () => {
    await withStore(async (store) => {
      const dir = folder([{ file: 'b4.xml', ...meta(1), hubId: 'QA-B4' }]);
      await ingest(store, dir);
      const [item] = await listQuarantine(store);

      const jw301 = xmlOf('JW301');
      writeFileSync(join(dir, 'b4.xml'), jw301.subarray(0, jw301.length >> 1));
      const second = await ingest(store, dir);
      expect(second).toMatchObject({ received: 1, quarantined: 1, skipped: 0 });
      expect(second.quarantinedByReason).toEqual({ 'ingest.not_well_formed': 1 });
      const [now2] = await listQuarantine(store);
      expect(now2).toMatchObject({ id: item!.id, status: 'open', reasonCode: 'ingest.not_well_formed' });
      expect(await count(store, 'quarantine')).toBe(1);
      expect(await ingest(store, dir)).toMatchObject({ quarantined: 0, skipped: 1 });

      // The item now holds the file's bytes: a retry parses them (and fails the same way).
      const retry = await retryQuarantine({ store, keys, now }, [item!.id]);
      expect(retry).toMatchObject({ tried: 1, resolved: 0, notRetryable: [] });
      expect(retry.quarantinedByReason).toEqual({ 'ingest.not_well_formed': 1 });
    });
  });

  // The fixed files duplicate a stored message: no new row collides on a unique index, so only the
  // conditional settling of the item keeps a concurrent ingest from counting the passage twice.
  it('counts a missing file that appears once when several ingests bring it at the same time', async () => {
    await withStore(async (store) => {
      const dir = folder([
        { file: 'a1.xml', xml: xmlOf('JW305'), ...meta(1), hubId: 'QA-A1' },
        { file: 'b4.xml', ...meta(2), hubId: 'QA-B4' },
        { file: 'b5.xml', ...meta(3), hubId: 'QA-B5' },
      ]);
      await ingest(store, dir);
      writeFileSync(join(dir, 'b4.xml'), xmlOf('JW305'));
      writeFileSync(join(dir, 'b5.xml'), xmlOf('JW305'));
      const runs = await Promise.all([1, 2, 3, 4].map(() => ingest(store, dir)));
      const total = (k: 'stored' | 'duplicates' | 'skipped') => runs.reduce((n, r) => n + r[k], 0);
      expect({ stored: total('stored'), duplicates: total('duplicates'), skipped: total('skipped') }).toEqual(
        {
          stored: 0,
          duplicates: 2,
          skipped: 10,
        },
      );
      expect(await listQuarantine(store)).toEqual([]);
      const m = await store.db.selectFrom('message').select('passages').execute();
      expect(m).toEqual([{ passages: 3 }]);
      expect(await counts(store)).toMatchObject({ message: 1, exchange: 3, quarantine: 2 });
    });
  });

  // Deterministic form of the race above: another transaction settles the item while this ingest is at it.
  it.runIf(dialect === 'postgres')(
    'runs a batch again when a concurrent transaction settled the item first',
    async () => {
      const { store, url, drop } = await freshStore(dialect);
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        const dir = folder([
          { file: 'a1.xml', xml: xmlOf('JW305'), ...meta(1), hubId: 'QA-A1' },
          { file: 'b4.xml', ...meta(2), hubId: 'QA-B4' },
        ]);
        await ingest(store, dir);
        const [item] = await listQuarantine(store);
        const seq = await seqOfHub(store, 'QA-A1');
        writeFileSync(join(dir, 'b4.xml'), xmlOf('JW305'));
        await other.query('BEGIN');
        await other.query(
          "UPDATE quarantine SET status = 'resolved', resolved_at = $1, resolved_message_seq = $2 WHERE id = $3",
          ['2024-03-05T09:00:00.000Z', seq, item!.id],
        );
        await other.query("UPDATE exchange SET message_seq = $1 WHERE exchange_key = 'hub:QA-B4'", [seq]);
        await other.query('UPDATE message SET passages = passages + 1 WHERE seq = $1', [seq]);
        const running = ingest(store, dir);
        // Until the ingest waits for the row the other transaction holds.
        for (let waited = 0; ; waited += 20) {
          const { rows } = await other.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
          );
          if (Number(rows[0]!.n) > 0 || waited > 10_000) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await other.query('COMMIT');
        expect(await running).toMatchObject({ received: 2, duplicates: 0, skipped: 2 });
        const m = await store.db
          .selectFrom('message')
          .select('passages')
          .where('seq', '=', seq)
          .executeTakeFirstOrThrow();
        expect(m.passages).toBe(2);
        expect((await listQuarantine(store, { all: true }))[0]).toMatchObject({
          status: 'resolved',
          resolvedAt: '2024-03-05T09:00:00.000Z',
        });
      } finally {
        await other.end();
        await drop();
      }
    },
  );
});
