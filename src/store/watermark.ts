import { setTimeout as sleep } from 'node:timers/promises';
import type SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';
import type { Store } from './open.js';

/** Advisory lock id shared by ingest (shared mode) and the delivery watermark reader (exclusive mode). */
export const INGEST_LOCK_ID = 4242;

/** A transaction handle on the raw driver, for hot paths that bypass the query builder. */
export type IngestTx =
  | { readonly dialect: 'sqlite'; readonly sqlite: SqliteDatabase.Database }
  | { readonly dialect: 'postgres'; readonly client: pg.PoolClient };

/**
 * Runs `fn` in one write transaction that delivery watermarks respect. On PostgreSQL a sequence value is
 * taken at insert but becomes visible at commit, so seq order is not commit order; every ingest
 * transaction therefore holds the shared advisory lock, and `readWatermark` takes it exclusively, which
 * waits for the ingests in flight: everything at or below the watermark it reads is committed.
 * On SQLite writers are serialised (BEGIN IMMEDIATE), so seq order is commit order already.
 *
 * On PostgreSQL two ingests may carry the same new message at once (the hub's live feed beside an operator's
 * load): the second waits on the unique index until the first commits, then fails. The transaction then
 * runs again from the start and finds the message stored. So `fn` may run more than once and must depend
 * only on the store and its inputs.
 */
export async function withIngestLock<T>(store: Store, fn: (tx: IngestTx) => Promise<T>): Promise<T> {
  if (store.dialect === 'postgres') {
    for (let attempt = 1; ; attempt++) {
      try {
        return await postgresIngestTx(store, fn);
      } catch (err) {
        if (attempt >= PG_ATTEMPTS || !PG_RETRYABLE.has((err as { code?: unknown }).code as string))
          throw err;
        // Jitter, so ingests that collided do not collide again in step.
        await sleep(Math.random() * 20 * attempt);
      }
    }
  }
  const sqlite = store.sqlite!;
  // Holding Kysely's connection keeps its own queries out of this transaction.
  return store.db.connection().execute(async () => {
    sqlite.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn({ dialect: 'sqlite', sqlite });
      sqlite.exec('COMMIT');
      return result;
    } catch (err) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw err;
    }
  });
}

/** unique_violation, serialization_failure, deadlock_detected: a concurrent transaction won; run again. */
const PG_RETRYABLE = new Set(['23505', '40001', '40P01']);
// Two ingests of the same traffic in step can collide batch after batch; every collision means the other
// committed, so a retry gets further. Five attempts were seen running out (batches of 20 against 200).
const PG_ATTEMPTS = 25;

async function postgresIngestTx<T>(store: Store, fn: (tx: IngestTx) => Promise<T>): Promise<T> {
  const client = await store.pool!.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock_shared($1)', [INGEST_LOCK_ID]);
    const result = await fn({ dialect: 'postgres', client });
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * The highest committed seq of a table (`message` by default; `link` tables use the same scheme) such that
 * no transaction still in flight can commit a lower one. 0 when the table is empty.
 */
export async function readWatermark(store: Store, table = 'message', column = 'seq'): Promise<number> {
  return (await readWatermarks(store, [table], column))[0] as number;
}

/**
 * The watermarks of several tables in one cut: one statement under one lock, so a transaction that commits
 * rows in two of them (an ingest batch: its messages and their links) is in both marks or in neither. Read
 * one after the other, a batch committing in between would be in the second only (a link delivered before
 * its message).
 */
export async function readWatermarks(
  store: Store,
  tables: readonly string[],
  column = 'seq',
): Promise<number[]> {
  for (const table of tables)
    if (!/^[a-z_]+$/.test(table) || !/^[a-z_]+$/.test(column))
      throw new Error(`store.bad_identifier: ${table}.${column}`);
  const query = `SELECT ${tables.map((t, i) => `(SELECT COALESCE(MAX(${column}), 0) FROM ${t}) AS w${i}`).join(', ')}`;
  const marks = (row: Record<string, unknown> | undefined) =>
    tables.map((_, i) => Number(row?.[`w${i}`] ?? 0));
  if (store.dialect === 'postgres') {
    const client = await store.pool!.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [INGEST_LOCK_ID]);
      const { rows } = await client.query<Record<string, unknown>>(query);
      await client.query('COMMIT');
      return marks(rows[0]);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
  return store.db
    .connection()
    .execute(async () => marks(store.sqlite!.prepare(query).get() as Record<string, unknown> | undefined));
}
