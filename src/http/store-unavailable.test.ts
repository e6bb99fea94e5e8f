import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { STORE_RETRY_AFTER_SECONDS, storeUnavailable } from './app.js';

const jw301 = readFileSync('test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml');

/** Every connection of `pool`, now and later, waits 200 ms for a lock another session holds (not the 5 s of serve). */
async function waitShortForLocks(pool: pg.Pool): Promise<void> {
  const timeout = "SET lock_timeout = '200ms'";
  pool.on('connect', (c) => void c.query(timeout));
  const idle = await Promise.all(Array.from({ length: pool.idleCount }, () => pool.connect()));
  for (const c of idle) {
    await c.query(timeout);
    c.release();
  }
}

/** The error `run` fails with (it must fail). */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe.each(DIALECTS)('an API request that finds the store busy on %s', (dialect) => {
  it('answers 503 store.busy with Retry-After, records nothing, and takes the same request again later', async () => {
    const h = await portalHarness(dialect);
    const held: { release(): Promise<void> } = { release: async () => undefined };
    try {
      const token = await h.apiToken(null, 'hub');
      if (dialect === 'sqlite') {
        // Another writer holds the store's write lock; this store waits 50 ms for it, not 10 s.
        h.store.sqlite!.pragma('busy_timeout = 50');
        const other = new SqliteDatabase(join(h.dataDir, 'ketendata.sqlite'));
        other.exec('BEGIN IMMEDIATE');
        held.release = async () => {
          other.exec('ROLLBACK');
          other.close();
        };
      } else {
        // Another transaction holds the table a run is recorded in; this store waits 200 ms for it.
        await waitShortForLocks(h.store.pool!);
        const other = new pg.Client({ connectionString: h.url });
        await other.connect();
        await other.query('BEGIN');
        await other.query('LOCK TABLE ingest_run IN ACCESS EXCLUSIVE MODE');
        held.release = async () => {
          await other.query('ROLLBACK');
          await other.end();
        };
      }
      const post = () =>
        h.app.request('/api/v1/exchanges?hubId=BUSY1&moment=2026-03-02T07:00:00Z', {
          method: 'POST',
          body: jw301,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/xml' },
        });
      const busy = await post();
      expect(busy.status).toBe(503);
      expect(busy.headers.get('Retry-After')).toBe(String(STORE_RETRY_AFTER_SECONDS));
      expect(await busy.json()).toEqual({
        error: {
          code: 'store.busy',
          message: `the store is busy or unavailable for now: send the same request again in ${STORE_RETRY_AFTER_SECONDS} seconds`,
        },
      });
      // As the document says for the feed: 503 with Retry-After.
      const doc = (await (await h.app.request('/api/v1/openapi.json')).json()) as {
        paths: { '/exchanges': { post: { responses: Record<string, { headers?: object }> } } };
      };
      expect(Object.keys(doc.paths['/exchanges'].post.responses['503']?.headers ?? {})).toEqual([
        'Retry-After',
      ]);
      await held.release();
      held.release = async () => undefined;
      expect(await h.store.db.selectFrom('exchange').select('id').execute()).toEqual([]);
      const again = await post();
      expect(again.status).toBe(201);
    } finally {
      await held.release();
      await h.drop();
    }
  });
});

describe('a portal page that finds the store unavailable', () => {
  it('answers 503 with Retry-After and a Dutch page saying to try again shortly, then the page again', async () => {
    // PostgreSQL: a lock held elsewhere blocks readers too (a SQLite writer in WAL mode does not).
    const h = await portalHarness('postgres');
    const other = new pg.Client({ connectionString: h.url });
    try {
      await h.seed();
      const b = new Browser(h.app);
      expect((await b.login('ana@0363.example')).status).toBe(303);
      await waitShortForLocks(h.store.pool!);
      await other.connect();
      await other.query('BEGIN');
      await other.query('LOCK TABLE user_session IN ACCESS EXCLUSIVE MODE');
      const res = await b.fetch('/ophalen');
      expect(res.status).toBe(503);
      expect(res.headers.get('Retry-After')).toBe(String(STORE_RETRY_AFTER_SECONDS));
      const html = await res.text();
      expect(html).toContain('<h1>Even niet beschikbaar</h1>');
      expect(html).toContain('Probeer het over een paar minuten opnieuw.');
      await other.query('ROLLBACK');
      expect((await b.fetch('/ophalen')).status).toBe(200);
    } finally {
      await other.end().catch(() => undefined);
      await h.drop();
    }
  });
});

describe('storeUnavailable', () => {
  it('knows a busy SQLite store from its driver error, and not a constraint that fails', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    const a = new SqliteDatabase(join(dataDir, 'ketendata.sqlite'));
    const b = new SqliteDatabase(join(dataDir, 'ketendata.sqlite'));
    try {
      b.pragma('busy_timeout = 0');
      a.exec('BEGIN IMMEDIATE');
      const busy = await failure(() => b.exec('BEGIN IMMEDIATE'));
      expect((busy as { code: string }).code).toBe('SQLITE_BUSY');
      expect(storeUnavailable(busy)).toBe(true);
      a.exec('ROLLBACK');
      a.exec('CREATE TABLE t (k INTEGER PRIMARY KEY)');
      a.exec('INSERT INTO t VALUES (1)');
      const constraint = await failure(() => a.exec('INSERT INTO t VALUES (1)'));
      expect((constraint as { code: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
      expect(storeUnavailable(constraint)).toBe(false);
      expect(storeUnavailable(new Error('no such thing'))).toBe(false);
      expect(storeUnavailable(undefined)).toBe(false);
    } finally {
      a.close();
      b.close();
      await store.close();
      await drop();
    }
  });

  it('knows a busy or unreachable PostgreSQL store from its driver errors, and not a query that is wrong', async () => {
    const { url, drop } = await freshStore('postgres');
    const clients: pg.Client[] = [];
    const client = async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
      return c;
    };
    try {
      const [a, b] = [await client(), await client()];
      await a.query('CREATE TABLE t (k int PRIMARY KEY, v int)');
      await a.query('INSERT INTO t VALUES (1, 0), (2, 0)');
      const codes: Record<string, unknown> = {};
      // 55P03: a lock held past lock_timeout.
      await a.query('BEGIN');
      await a.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
      await b.query("SET lock_timeout = '50ms'");
      codes['55P03'] = await failure(() => b.query('SELECT * FROM t'));
      await a.query('ROLLBACK');
      await b.query('RESET lock_timeout');
      // 40001: a row updated by a concurrent repeatable-read transaction.
      await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await b.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await a.query('SELECT * FROM t');
      await b.query('SELECT * FROM t');
      await a.query('UPDATE t SET v = 1 WHERE k = 1');
      const late = failure(() => b.query('UPDATE t SET v = 2 WHERE k = 1'));
      await a.query('COMMIT');
      codes['40001'] = await late;
      await b.query('ROLLBACK');
      // 40P01: two transactions each waiting on the other's row.
      await a.query("SET deadlock_timeout = '50ms'");
      await b.query("SET deadlock_timeout = '50ms'");
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query('UPDATE t SET v = 3 WHERE k = 1');
      await b.query('UPDATE t SET v = 3 WHERE k = 2');
      const outcomes = await Promise.allSettled([
        a.query('UPDATE t SET v = 4 WHERE k = 2'),
        b.query('UPDATE t SET v = 4 WHERE k = 1'),
      ]);
      codes['40P01'] = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []))[0];
      await a.query('ROLLBACK');
      await b.query('ROLLBACK');
      // 57P01: the connection ended by the server's administrator.
      const { rows } = await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const sleeping = failure(() => b.query('SELECT pg_sleep(10)'));
      await new Promise((r) => setTimeout(r, 100));
      await a.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      codes['57P01'] = await sleeping;
      for (const [code, err] of Object.entries(codes)) {
        expect((err as { code?: string })?.code, code).toBe(code);
        expect(storeUnavailable(err), code).toBe(true);
      }
      // A server that is not there: a port nobody listens on.
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as { port: number };
      await new Promise((r) => server.close(r));
      const refused = await failure(() => new pg.Client({ host: '127.0.0.1', port, user: 'x' }).connect());
      expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
      expect(storeUnavailable(refused)).toBe(true);
      // A query that is wrong stays a 500: sending it again does not help.
      const unique = await failure(() => a.query('INSERT INTO t VALUES (1, 0)'));
      const syntax = await failure(() => a.query('SELEKT 1'));
      expect([(unique as { code: string }).code, (syntax as { code: string }).code]).toEqual([
        '23505',
        '42601',
      ]);
      expect(storeUnavailable(unique)).toBe(false);
      expect(storeUnavailable(syntax)).toBe(false);
      // Class 08, but not the connection's fault: too many bound parameters (08P01) fails every time (review).
      const tooMany = await failure(() =>
        a.query(
          `SELECT 1 WHERE 1 IN (${Array.from({ length: 70_000 }, (_, i) => `$${i + 1}`).join(',')})`,
          new Array(70_000).fill(1),
        ),
      );
      expect((tooMany as { code: string }).code).toBe('08P01');
      expect(storeUnavailable(tooMany)).toBe(false);
    } finally {
      for (const c of clients) await c.end().catch(() => undefined);
      await drop();
    }
  });
});
