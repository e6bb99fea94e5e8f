import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { exampleTraffic, SECRET } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { ingestSource } from '../usecases/ingest-exchanges.js';
import { openSource } from '../usecases/ingest-sources.js';
import type { Store } from './open.js';
import { INGEST_LOCK_ID, type IngestTx, readWatermark, readWatermarks, withIngestLock } from './watermark.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');

/**
 * An ingest transaction that has taken its lock (and run `first`) and stays open until `release`: resolves
 * once it is inside.
 */
async function ingestInFlight(
  store: Store,
  first: (tx: IngestTx) => Promise<void> = async () => {},
): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let entered!: () => void;
  const inside = new Promise<void>((r) => {
    entered = r;
  });
  const done = withIngestLock(store, async (tx) => {
    await first(tx);
    entered();
    await held;
  });
  await inside;
  return { release, done };
}

describe.each(DIALECTS)('ingest watermark on %s', (dialect) => {
  it('is the highest committed seq, and 0 for an empty store', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      expect(await readWatermark(store)).toBe(0);
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const max = await store.db
        .selectFrom('message')
        .select(({ fn }) => fn.max('seq').as('m'))
        .executeTakeFirstOrThrow();
      expect(await readWatermark(store)).toBe(Number(max.m));
    } finally {
      await drop();
    }
  });

  it.runIf(dialect === 'postgres')(
    'waits for an ingest transaction in flight, so no lower seq can commit after it',
    async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const { release, done: ingest } = await ingestInFlight(store, async (tx) => {
          if (tx.dialect !== 'postgres') throw new Error('postgres only');
          await tx.client.query("select nextval(pg_get_serial_sequence('message', 'seq'))");
        });
        let read: number | undefined;
        const reading = readWatermark(store).then((w) => {
          read = w;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(read).toBeUndefined();
        release();
        await ingest;
        await reading;
        expect(read).toBe(0);
      } finally {
        await drop();
      }
    },
  );

  it.runIf(dialect === 'postgres')(
    'lets the ingest transactions behind it through while it waits for one in flight (the hub feed)',
    async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const { release, done: longBatch } = await ingestInFlight(store);
        let read = false;
        const reading = readWatermark(store).then(() => {
          read = true;
        });
        await new Promise((r) => setTimeout(r, 200));
        // A feed request as serve makes it, waiting 2 s at most for its shared lock. A waiting exclusive
        // request queued it until the long batch ended, and it gave up.
        const feed = await store.pool!.connect();
        // On failure too, so the long batch and the reader end with the test.
        const ended = () => {
          release();
          return Promise.all([longBatch, reading]);
        };
        try {
          await feed.query("SET lock_timeout = '2s'");
          await feed.query('BEGIN');
          await expect(
            feed.query('SELECT pg_advisory_xact_lock_shared($1)', [INGEST_LOCK_ID]),
          ).resolves.toBeDefined();
          await feed.query('COMMIT');
          await feed.query('RESET lock_timeout');
        } catch (err) {
          await feed.query('ROLLBACK').catch(() => undefined);
          await ended();
          throw err;
        } finally {
          feed.release();
        }
        expect(read).toBe(false);
        await ended();
        expect(read).toBe(true);
      } finally {
        await drop();
      }
    },
  );

  it('reads the message and link watermarks in one statement: a batch is in both marks or in neither', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      expect(await readWatermarks(store, ['message', 'link'])).toEqual([0, 0]);
      // A batch's messages and links commit together; their marks are read together.
      await withIngestLock(store, async (tx) => {
        const insert = (sqlText: string) =>
          tx.dialect === 'postgres' ? tx.client.query(sqlText) : tx.sqlite.prepare(sqlText).run();
        await insert(
          "INSERT INTO link (type, mutatie, gemeente, from_table, from_bericht_id, from_row, to_table, to_bericht_id, to_row, created_at) VALUES ('retour', 'toegevoegd', '0363', 'JW302', 'a', '', 'JW301', 'b', '', '2026-01-01T00:00:00Z')",
        );
      });
      expect(await readWatermarks(store, ['message', 'link'])).toEqual([0, 1]);
      await expect(readWatermarks(store, ['message', 'link; drop table link'])).rejects.toThrow(
        /store\.bad_identifier/,
      );
    } finally {
      await drop();
    }
  });

  it('rejects a table name that is not a plain identifier', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await expect(readWatermark(store, 'message; drop table message')).rejects.toThrow(
        /store.bad_identifier/,
      );
    } finally {
      await drop();
    }
  });
});
