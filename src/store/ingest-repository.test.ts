import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore, withFreshStore } from '../../test/support/databases.js';
import {
  CopyCells,
  knownExchangeKeys,
  type PreparedExchange,
  startRun,
  writeExchangeBatch,
} from './ingest-repository.js';

// Bytes and text that a bulk path (COPY on PostgreSQL) must escape: backslash, tab, newline, CR, quotes.
const awkward = 'a\\b\tc\nd\re"f\'g \\N end';
const bytes = Buffer.from([0, 9, 10, 13, 92, 34, 255, 78]);

/** A quarantined exchange under `key`, as the batch writer takes it. */
const item = (key: string): PreparedExchange => ({
  kind: 'quarantine',
  exchange: {
    exchange_key: key,
    hub_id: null,
    moment: '2024-03-05T10:00:00.000Z',
    verzender: 'x',
    ontvanger: '',
    source: key,
    content_digest: null,
  },
  reason_code: 'ingest.not_well_formed',
  reason: 'test',
  raw: { key_id: 'k1', nonce: Buffer.alloc(12), tag: Buffer.alloc(16), ciphertext: Buffer.from('x') },
  received: { moment: null, verzender: 'x', ontvanger: null },
});

describe.each(DIALECTS)('ingest batch writer on %s', (dialect) => {
  // `ingest --batch-size 40000` looked up every key of a batch in one statement, past the bound-parameter
  // limit of SQLite (32,766) and PostgreSQL (65,535): the run failed and stored nothing.
  it('looks up the known exchanges of a batch of 70,000 keys', () =>
    withFreshStore(dialect, async (store) => {
      const runId = await startRun(store, 'test', '2024-03-05T10:00:00.000Z');
      const keys = Array.from({ length: 70_000 }, (_, i) => `src:m${i}.xml`);
      // One stored in the first slice of the lookup, one in the last.
      await writeExchangeBatch(store, [item(keys[5]!), item(keys[69_995]!)], {
        runId,
        now: '2024-03-05T10:00:00.000Z',
      });
      const known = await knownExchangeKeys(store, keys);
      expect([...known.keys()].sort()).toEqual([keys[5], keys[69_995]].sort());
    }));

  it('stores text with backslashes, tabs and newlines and binary raw bytes exactly as given', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const runId = await startRun(store, 'test', '2024-03-05T10:00:00.000Z');
      const item: PreparedExchange = {
        kind: 'quarantine',
        exchange: {
          exchange_key: `src:${awkward}`,
          hub_id: null,
          moment: '2024-03-05T10:00:00.000Z',
          verzender: awkward,
          ontvanger: '',
          source: `map/${awkward}.xml`,
          content_digest: null,
        },
        reason_code: 'ingest.xsd_invalid',
        reason: awkward,
        raw: { key_id: 'k1', nonce: bytes, tag: Buffer.from(bytes).reverse(), ciphertext: bytes },
        received: { moment: null, verzender: awkward, ontvanger: null },
      };
      const result = await writeExchangeBatch(store, [item], { runId, now: '2024-03-05T10:00:00.000Z' });
      expect(result.outcomes).toEqual(['quarantined']);
      const q = await store.db.selectFrom('quarantine').selectAll().executeTakeFirstOrThrow();
      expect([q.reason, q.source, q.verzender, q.moment, q.ontvanger]).toEqual([
        awkward,
        `map/${awkward}.xml`,
        awkward,
        null,
        null,
      ]);
      const raw = await store.db.selectFrom('raw_message').selectAll().executeTakeFirstOrThrow();
      expect(Buffer.from(raw.ciphertext).equals(bytes)).toBe(true);
      expect(Buffer.from(raw.tag).equals(Buffer.from(bytes).reverse())).toBe(true);
      const ex = await store.db.selectFrom('exchange').selectAll().executeTakeFirstOrThrow();
      expect([ex.exchange_key, ex.verzender, ex.message_seq]).toEqual([`src:${awkward}`, awkward, null]);
    } finally {
      await drop();
    }
  });

  // A killed run keeps finished_at null, like one going on: the moment of its last batch tells them apart.
  it("records each batch's moment on its run, beside the counts", () =>
    withFreshStore(dialect, async (store) => {
      const runId = await startRun(store, 'test', '2024-03-05T10:00:00.000Z');
      const other = await startRun(store, 'other', '2024-03-05T10:00:00.000Z');
      const run = () =>
        store.db.selectFrom('ingest_run').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
      expect((await run()).last_batch_at).toBeNull();
      await writeExchangeBatch(store, [item('src:a.xml')], { runId, now: '2024-03-05T10:01:00.000Z' });
      expect((await run()).last_batch_at).toBe('2024-03-05T10:01:00.000Z');
      await writeExchangeBatch(store, [item('src:b.xml'), item('src:a.xml')], {
        runId,
        now: '2024-03-05T10:07:30.000Z',
      });
      const r = await run();
      expect([r.last_batch_at, r.received, r.quarantined, r.skipped, r.finished_at]).toEqual([
        '2024-03-05T10:07:30.000Z',
        3,
        2,
        1,
        null,
      ]);
      const o = await store.db
        .selectFrom('ingest_run')
        .selectAll()
        .where('id', '=', other)
        .executeTakeFirstOrThrow();
      expect(o.last_batch_at).toBeNull();
    }));
});

describe('COPY data of rows handed over one at a time (PostgreSQL)', () => {
  it('reads back every cell as given, across chunk boundaries, with the characters COPY escapes', async () => {
    const { url, drop } = await freshStore('postgres');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE copy_test (n integer, a text, b text)');
      const tricky = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', 'é ü €', '', '\\N'];
      const rows = Array.from({ length: 600 }, (_, n) => [
        n,
        tricky[n % tricky.length],
        n % 5 ? `r${n}` : null,
      ]);
      const copy = new CopyCells();
      for (const r of rows) copy.run(...r);
      const chunks = copy.done();
      expect(chunks.length).toBe(3); // 256 + 256 + 88 rows
      await pipeline(Readable.from(chunks), client.query(copyFrom('COPY copy_test (n, a, b) FROM STDIN')));
      const back = await client.query({ text: 'SELECT n, a, b FROM copy_test ORDER BY n', rowMode: 'array' });
      expect(back.rows).toEqual(rows);
      expect(new CopyCells().done()).toEqual([]);
    } finally {
      await client.end();
      await drop();
    }
  });
});
