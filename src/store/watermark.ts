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
  return postgresTx(
    store,
    async (client) => {
      await client.query('SELECT pg_advisory_xact_lock_shared($1)', [INGEST_LOCK_ID]);
    },
    (client) => fn({ dialect: 'postgres', client }),
  );
}

/** How long the watermark reader stays in the lock queue at a time (see `exclusiveInTurns`). */
const EXCLUSIVE_TURN = '1s';

/**
 * The exclusive ingest lock, waited for in turns of EXCLUSIVE_TURN. PostgreSQL queues every later shared
 * request behind a waiting exclusive one, so a watermark reader waiting without limit for a long ingest
 * batch held the hub feed back with it (and serve's requests gave up after 5 s with 503). Between turns
 * the shared requests go through; an ingest batch that ends within a turn hands the lock over at once.
 */
async function exclusiveInTurns(client: pg.PoolClient): Promise<void> {
  for (;;) {
    await client.query('SAVEPOINT exclusive_turn');
    await client.query(`SET LOCAL lock_timeout = '${EXCLUSIVE_TURN}'`);
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [INGEST_LOCK_ID]);
      await client.query('RELEASE SAVEPOINT exclusive_turn');
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== '55P03') throw err;
      // Undoes the SET LOCAL too. (Once the lock is held, the turn's timeout stays for the rest of this short
      // transaction, whose reads take no lock another session holds.)
      await client.query('ROLLBACK TO SAVEPOINT exclusive_turn');
    }
  }
}

/**
 * Runs `body` on a pooled client inside BEGIN, `lock` (an advisory lock on INGEST_LOCK_ID) and COMMIT. When
 * the server ends the connection on the way (a restart, pg_terminate_backend) the client is released with
 * the error, so the pool destroys it instead of handing it out again, and the call fails with the server's
 * reason (57P01 and the like, a 503 `store.busy` for the API) rather than node-postgres' "not queryable".
 */
async function postgresTx<T>(
  store: Store,
  lock: (client: pg.PoolClient) => Promise<void>,
  body: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await store.pool!.connect();
  let lost: Error | undefined;
  const onLost = (err: Error) => {
    lost ??= err;
  };
  client.on('error', onLost);
  let failure: unknown;
  try {
    await client.query('BEGIN');
    await lock(client);
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failure = err;
    if (!lost && !connectionBroken(err)) await client.query('ROLLBACK').catch(() => undefined);
    // node-postgres' own error (no SQLSTATE) on a client that lost its connection says only that: the
    // connection's error says why.
    throw lost && (err as { code?: unknown } | null)?.code === undefined ? lost : err;
  } finally {
    client.off('error', onLost);
    const broken = lost ?? (connectionBroken(failure) ? (failure as Error) : undefined);
    client.release(broken);
  }
}

/**
 * Whether `err` says the connection itself is gone, not the statement: class 08, the server ending it
 * (57P01 administrator, 57P02 crash, 57P03 cannot connect now), or node-postgres' words for a lost socket.
 */
function connectionBroken(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08...|57P0[123])$/.test(code)) return true;
  return /^(Connection terminated|Client has encountered a connection error)/.test(err.message);
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
  if (store.dialect === 'postgres')
    return postgresTx(store, exclusiveInTurns, async (client) => {
      const { rows } = await client.query<Record<string, unknown>>(query);
      return marks(rows[0]);
    });
  return store.db
    .connection()
    .execute(async () => marks(store.sqlite!.prepare(query).get() as Record<string, unknown> | undefined));
}
