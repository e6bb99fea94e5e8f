import { rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import {
  exampleTraffic,
  SECRET,
  validExamples,
  writeExchangeFolder,
} from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { decryptRaw, rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { defaultParseWorkers, ingestOne, ingestSource, summaryWarnings } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');

describe.each(DIALECTS)('ingest on %s', (dialect) => {
  it('accounts for every exchange: stored, duplicate, conflict or quarantined, and a second run adds nothing', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const first = await ingestSource({ store, keys, now }, await openSource(traffic.dir), { batchSize: 7 });
      expect({
        received: first.received,
        stored: first.stored,
        duplicates: first.duplicates,
        conflicts: first.conflicts,
        quarantined: first.quarantined,
      }).toEqual(traffic.expected);
      expect(first.quarantinedByReason).toEqual({
        'ingest.not_well_formed': 1,
        'ingest.xsd_invalid': 1,
        'ingest.unknown_type': 1,
        'ingest.file_missing': 1,
        'ingest.manifest_invalid': 1,
      });
      const counts = async () => ({
        message: (
          await store.db
            .selectFrom('message')
            .select(({ fn }) => fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
        exchange: (
          await store.db
            .selectFrom('exchange')
            .select(({ fn }) => fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
        quarantine: (
          await store.db
            .selectFrom('quarantine')
            .select(({ fn }) => fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
        raw: (
          await store.db
            .selectFrom('raw_message')
            .select(({ fn }) => fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
        passages: (
          await store.db
            .selectFrom('message')
            .select(({ fn }) => fn.sum<number>('passages').as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      });
      const before = await counts();
      expect(Number(before.message)).toBe(traffic.expected.stored);
      expect(Number(before.exchange)).toBe(traffic.expected.received);
      expect(Number(before.passages)).toBe(traffic.expected.stored + traffic.expected.duplicates);

      const second = await ingestSource({ store, keys, now }, await openSource(traffic.dir), {
        batchSize: 5,
      });
      expect(second).toMatchObject({
        received: traffic.expected.received,
        stored: 0,
        duplicates: 0,
        quarantined: 0,
      });
      expect(second.skipped).toBe(traffic.expected.received);
      expect(await counts()).toEqual(before);
    } finally {
      await drop();
    }
  });

  it('flags both versions of a message whose identification came back with other content', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const flagged = await store.db
        .selectFrom('message')
        .select(['code', 'key_hash', 'conflict'])
        .where('conflict', '=', 1)
        .execute();
      expect(flagged).toHaveLength(2);
      expect(flagged.map((m) => m.code)).toEqual(['JW305', 'JW305']);
      expect(flagged[0]!.key_hash).toBe(flagged[1]!.key_hash);
      const resent = await store.db
        .selectFrom('message')
        .select(['passages', 'gemeente'])
        .where('code', '=', 'JW301')
        .executeTakeFirstOrThrow();
      expect(resent).toEqual({ passages: 2, gemeente: '0384' });
    } finally {
      await drop();
    }
  });

  it('keeps the raw message encrypted and stores the rows with pseudonyms and the BerichtId filled in', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const m = await store.db
        .selectFrom('message')
        .selectAll()
        .where('code', '=', 'JW301')
        .executeTakeFirstOrThrow();
      const rows = JSON.parse(m.rows) as Record<string, (string | null)[][]>;
      const main = rows.JW301![0]!;
      expect(main[0]).toBe(m.bericht_id);
      expect(m.rows).not.toContain('999900006');
      const raw = await store.db
        .selectFrom('raw_message')
        .selectAll()
        .where('id', '=', m.raw_id)
        .executeTakeFirstOrThrow();
      expect(raw.key_id).toBe(keys.rawKeyId);
      const xml = decryptRaw(rawKeyRing(keys.rawEncryption), raw).toString('utf8');
      expect(xml).toContain('<jw301:Bsn>999900006</jw301:Bsn>');
    } finally {
      await drop();
    }
  });

  // Workers only move parsing off the main thread; one dialect shows it (their start-up is slow under test).
  it.runIf(dialect === 'sqlite')('gives the same store with parse workers as without', async () => {
    const one = await freshStore(dialect);
    const two = await freshStore(dialect);
    try {
      const a = await ingestSource({ store: one.store, keys, now }, await openSource(traffic.dir), {
        batchSize: 4,
      });
      const b = await ingestSource({ store: two.store, keys, now }, await openSource(traffic.dir), {
        batchSize: 4,
        workers: 2,
      });
      expect({ ...b, runId: 0 }).toEqual({ ...a, runId: 0 });
      const rows = (s: typeof one.store) =>
        s.db
          .selectFrom('message')
          .select(['seq', 'bericht_id', 'rows', 'passages', 'conflict'])
          .orderBy('seq')
          .execute();
      expect(await rows(two.store)).toEqual(await rows(one.store));
      // The workers compute the link entries and send them packed: the same entries, the same links.
      const linked = async (s: typeof one.store) => ({
        keys: await s.db
          .selectFrom('link_key')
          .selectAll()
          .orderBy(['k', 'bericht_id', 'tbl', 'row', 'tag'])
          .execute(),
        links: await s.db.selectFrom('link').selectAll().orderBy('seq').execute(),
      });
      const withWorkers = await linked(two.store);
      expect(withWorkers.links.length).toBeGreaterThan(0);
      expect(withWorkers).toEqual(await linked(one.store));
    } finally {
      await one.drop();
      await two.drop();
    }
  });

  it('ends a batch at the byte cap as well as at the count, with the same outcome as one big batch', async () => {
    const one = await freshStore(dialect);
    const two = await freshStore(dialect);
    try {
      const whole = await ingestSource({ store: one.store, keys, now }, await openSource(traffic.dir));
      const batches: number[] = [];
      const capped = await ingestSource({ store: two.store, keys, now }, await openSource(traffic.dir), {
        batchBytes: 1,
        onProgress: (done) => batches.push(done),
      });
      expect({ ...capped, runId: 0 }).toEqual({ ...whole, runId: 0 });
      // Under the count of 1000, yet each batch ends at the first exchange past the byte cap (one without
      // bytes, a missing file, rides along with the next).
      expect(batches.at(-1)).toBe(traffic.expected.received);
      expect(batches.length).toBeGreaterThan(traffic.expected.received / 2);
      expect(Math.max(...batches.map((d, i) => d - (batches[i - 1] ?? 0)))).toBeLessThanOrEqual(2);
      const links = (s: typeof one.store) =>
        s.db
          .selectFrom('message')
          .select(['seq', 'bericht_id', 'passages', 'conflict'])
          .orderBy('seq')
          .execute();
      expect(await links(two.store)).toEqual(await links(one.store));
    } finally {
      await one.drop();
      await two.drop();
    }
  });
});

describe('hub moments after the run', () => {
  const xmlOf = (code: string) => validExamples().find((e) => e.name.endsWith(`/${code}.xml`))!.xml;
  const parties = { verzender: '0384', ontvanger: '42420001' };

  it('are counted, the latest kept, and warned about after the run; stored as given', async () => {
    const { store, drop } = await freshStore('sqlite');
    const dir = writeExchangeFolder([
      { file: 'a.xml', xml: xmlOf('JW301'), moment: '2024-03-04T09:00:00Z', hubId: 'H1', ...parties },
      // Within the margin of an hour: a hub clock a little ahead is no reason to warn.
      { file: 'b.xml', xml: xmlOf('JW305'), moment: '2024-03-05T10:30:00Z', hubId: 'H2', ...parties },
      // 2042 for 2024: a mistyped manifest.
      { file: 'c.xml', xml: xmlOf('JW315'), moment: '2042-03-04T09:00:00+01:00', hubId: 'H3', ...parties },
      // A missing file is quarantined, and its moment kept with it all the same.
      { file: 'd.xml', moment: '2030-01-01T00:00:00Z', hubId: 'H4', ...parties },
    ]);
    try {
      const s = await ingestSource({ store, keys, now }, await openSource(dir), { batchSize: 2 });
      expect(s).toMatchObject({ received: 4, stored: 3, quarantined: 1 });
      expect(s.futureMoments).toEqual({ count: 2, latest: '2042-03-04T08:00:00.000Z' });
      expect(summaryWarnings(s)).toEqual([
        'ingest: warning: 2 exchanges have a hub moment after this run (the latest 2042-03-04T08:00:00Z): a wrong clock at the hub, or a mistyped manifest? The store keeps the moments as given (ingest.future_moment)',
      ]);
      const moments = await store.db.selectFrom('exchange').select('moment').orderBy('moment').execute();
      expect(moments.map((m) => m.moment).at(-1)).toBe('2042-03-04T08:00:00.000Z');
      // A plain folder's file time is no hub moment: not judged.
      rmSync(join(dir, 'manifest.ndjson'));
      utimesSync(join(dir, 'a.xml'), new Date('2042-01-01'), new Date('2042-01-01'));
      const plain = await ingestSource({ store, keys, now }, await openSource(dir));
      expect(plain.futureMoments).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await drop();
    }
  });

  it('are named in the answer to the feed, which stores the exchange all the same', async () => {
    const { store, drop } = await freshStore('sqlite');
    try {
      const posted = (hubId: string, moment: string) =>
        ingestOne(
          { store, keys, now },
          { source: `http/${hubId}`, bytes: xmlOf('JW301'), moment, hubId, verzender: null, ontvanger: null },
        );
      const future = await posted('F1', '2062-03-01T09:00:00Z');
      expect(future).toMatchObject({
        outcome: 'stored',
        warningCode: 'ingest.future_moment',
        warning:
          'the hub moment 2062-03-01T09:00:00Z is after this exchange was received (2024-03-05T10:00:00Z): a wrong clock at the hub? The store keeps the moment as given',
      });
      const normal = await posted('F2', '2024-03-05T10:59:00Z');
      expect(normal).toEqual({ outcome: 'duplicate', seq: future.seq });
    } finally {
      await drop();
    }
  });
});

describe('the parse workers ingest starts when not told', () => {
  it('are none for a small input, one per core beyond the writer for a larger one, at most three', () => {
    expect(defaultParseWorkers(4999, 2)).toBe(0);
    expect(defaultParseWorkers(5000, 2)).toBe(1);
    expect(defaultParseWorkers(5000, 1)).toBe(0);
    expect(defaultParseWorkers(1_000_000, 16)).toBe(3);
    // A source that cannot say its size (a folder without a manifest) counts as large.
    expect(defaultParseWorkers(undefined, 4)).toBe(3);
  });
});
