import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, type MigrationProvider, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { checkDatabaseUrl, ensureDataFolder } from '../config/config.js';
import type { Database, Dialect } from './database.js';
import { migrationProvider } from './migrations/index.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** The raw better-sqlite3 handle (embedded default) for hot-path prepared statements. */
  readonly sqlite?: SqliteDatabase.Database;
  /** The pg pool (PostgreSQL) for COPY and advisory locks. */
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL URL; undefined opens the embedded SQLite file in dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Connections of this store's PostgreSQL pool; default PG_POOL_SIZE. Nothing on SQLite. */
  readonly poolSize?: number;
}

/** Connections per store to PostgreSQL (each command that opens the store; `serve`'s requests). */
export const PG_POOL_SIZE = 10;
/**
 * How long a query waits for a connection (all of the pool's in use, or a server that does not answer)
 * before it fails with node-postgres' `timeout exceeded when trying to connect`: a 503 `store.busy` for the
 * API, store.unreachable when the store opens.
 */
export const PG_CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long `serve` lets a request's statement wait for a lock that another session holds (a psql transaction
 * left open, VACUUM FULL, a long batch) before it fails with 55P03: the hub feed gets 503 `store.busy` with
 * Retry-After instead of waiting, and the pool's connections are not all held by waiting requests. Only on
 * the store of serve's requests: its scheduler has a store of its own without it (a weekly run waits for an
 * ingest batch rather than fail and back off), as have the batch commands (ingest, deliver from cron).
 */
export const SERVE_LOCK_TIMEOUT_MS = 5000;

// Return int8 and numeric as JS numbers/strings consistently with SQLite.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * The URL with the operating system's account as user when it names none and neither PGUSER nor USER is set
 * (a service or container often has no USER): node-postgres would send no user name at all, where psql uses
 * the account. Otherwise the URL as it is.
 */
export function withDefaultUser(databaseUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGUSER || env.USER) return databaseUrl;
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return databaseUrl;
  }
  if (url.username || url.searchParams.has('user') || !url.host) return databaseUrl;
  url.username = encodeURIComponent(userInfo().username);
  return url.toString();
}

/**
 * Where a PostgreSQL URL points, as `host:port/database`, read as node-postgres reads it: the URL's parts,
 * else PGHOST, PGPORT and PGDATABASE (else the user name), else its defaults. No user, no password.
 */
export function describePostgres(databaseUrl: string): string {
  try {
    // A client that is never connected: only its reading of the URL and the environment is used.
    const c = new pg.Client({ connectionString: withDefaultUser(databaseUrl) });
    const host = c.host.includes(':') ? `[${c.host}]` : c.host;
    return `${host}:${c.port}/${c.database ?? ''}`;
  } catch {
    return 'the configured URL';
  }
}

function reasonOf(err: unknown): string {
  // Node's connect to a name with several addresses fails with an AggregateError without a message.
  if (err instanceof AggregateError && !err.message)
    return [...new Set(err.errors.map((e) => reasonOf(e)))].join('; ');
  if (err instanceof Error) return err.message || String((err as NodeJS.ErrnoException).code ?? err.name);
  return String(err);
}

export async function openStore(options: StoreOptions): Promise<Store> {
  let store: Store;
  const databaseUrl = checkDatabaseUrl(options.databaseUrl);
  // In both modes: with PostgreSQL the data folder still holds every delivery, and a folder that cannot be
  // used must stop the start, not the first delivery due.
  ensureDataFolder(options.dataDir);
  if (databaseUrl) {
    const pool = new pg.Pool({
      connectionString: withDefaultUser(databaseUrl),
      max: options.poolSize ?? PG_POOL_SIZE,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    });
    // An idle connection the server closed (restart, failover, an administrator): the pool drops it and
    // the next query connects anew. Without a listener node-postgres would take the whole process down.
    pool.on('error', (err) => {
      process.emitWarning(`idle PostgreSQL connection lost: ${err.message}`, { code: 'KETENDATA_PG_IDLE' });
    });
    // The pool listens to idle connections only. One checked out (between the statements of a transaction)
    // that the server ends emits 'error' on its client, which would take the process down too: every client
    // gets a listener of its own. The statement under way, or the next, fails and says why; whoever holds
    // the client releases it with that error, so it is not pooled again.
    const checkedOut = new WeakSet<pg.PoolClient>();
    pool.on('acquire', (client) => checkedOut.add(client));
    pool.on('release', (_err, client) => checkedOut.delete(client));
    pool.on('connect', (client) => {
      let warned = false;
      client.on('error', (err) => {
        // Idle, the pool's listener above warns; a lost connection may say so twice (the server's reason,
        // then the socket's end): once is enough.
        if (warned || !checkedOut.has(client)) return;
        warned = true;
        process.emitWarning(`PostgreSQL connection in use lost: ${err.message}`, {
          code: 'KETENDATA_PG_LOST',
        });
      });
    });
    // Connect once before migrating, so that a server that cannot be reached is reported as such and not
    // as a failed migration.
    try {
      (await pool.connect()).release();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(
        `store.unreachable: cannot connect to PostgreSQL at ${describePostgres(databaseUrl)}: ${reasonOf(err)}`,
      );
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = { db, dialect: 'postgres', pool, close: () => db.destroy() };
  } else {
    const file = join(options.dataDir, 'ketendata.sqlite');
    ownerOnly(file);
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    store = { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
  }
  try {
    await migrate(store);
  } catch (err) {
    // Nothing may keep the refused store open (a pool's connections, the SQLite file).
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/**
 * From now on every statement of this store waits at most `ms` for a PostgreSQL lock (lock_timeout), on the
 * connections the pool has already and on those it makes later; 0 waits without limit. Nothing on SQLite
 * (its busy_timeout is the store's own).
 */
export function limitLockWait(store: Store, ms: number): void {
  const pool = store.pool;
  if (!pool) return;
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`store.bad_lock_timeout: ${ms}`);
  const set = new WeakSet<pg.PoolClient>();
  // Set at checkout, ahead of the caller's first statement (a client runs its queries in order). A SET that
  // fails means a broken connection, which the caller's own statement then reports.
  pool.on('acquire', (client) => {
    if (set.has(client)) return;
    client.query(`SET lock_timeout = ${ms}`).then(
      () => set.add(client),
      () => undefined,
    );
  });
}

/**
 * The store file (and its WAL and shared-memory files, which SQLite makes with the store file's mode) readable by
 * its owner alone: it holds every message. Made so before SQLite opens it; a store made by an earlier release
 * (0644) is closed to others (0640). Best effort: the data folder is 0700 already, so a file that cannot be
 * changed is left.
 */
function ownerOnly(file: string): void {
  try {
    closeSync(openSync(file, 'a', 0o600));
  } catch {
    return; // SQLite names what is wrong when it opens it
  }
  // Others lose access; a group the operator gave access on purpose (a backup account) keeps it.
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      const mode = statSync(f).mode & 0o777;
      if ((mode & 0o007) !== 0) chmodSync(f, mode & 0o770);
    } catch {
      // Absent (no WAL yet) or not ours to change.
    }
  }
}

/** The line for a migration that could not run: what it means for the operator, not only what PostgreSQL said. */
function migrationFailure(error: unknown, failedName: string | undefined): string {
  const reason = error instanceof Error ? error.message : String(error ?? '');
  const newer = /previously executed migration (\S+) is missing/.exec(reason);
  if (newer) {
    return `store.newer_than_build: this store was migrated by a newer version of ketendata (migration ${newer[1]}, which this build does not have): run that version, or restore the backup taken before the upgrade (docs/operations.md, Upgrading)`;
  }
  const where = failedName ? `migration ${failedName}: ` : '';
  // 42501 insufficient_privilege: since PostgreSQL 15 a role may not create tables in a database it does not own.
  if ((error as { code?: unknown } | undefined)?.code === '42501') {
    return `store.migration_failed: ${where}${reason}: the role of KETENDATA_DATABASE_URL must own its database (createdb --owner=<role>, or ALTER DATABASE <name> OWNER TO <role>; docs/operations.md, PostgreSQL connection)`;
  }
  return `store.migration_failed: ${where}${reason}`;
}

/**
 * Brings the store to this build's schema. An upgrade (a store with migrations run before) says on stderr
 * which ran: whichever command opens the store first migrates it, and the operator must be able to tell
 * from its output or a log when the schema changed.
 */
export async function migrate(
  store: Store,
  provider: MigrationProvider = migrationProvider(store.dialect),
): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider });
  const before = await migrator.getMigrations().catch(() => []);
  const last = before.filter((m) => m.executedAt !== undefined).at(-1)?.name;
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(migrationFailure(error, failed?.migrationName));
  const ran = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (last !== undefined && ran.length > 0) {
    console.error(
      `ketendata: store upgraded from ${last} to ${ran.at(-1)} (${ran.length} ${ran.length === 1 ? 'migration' : 'migrations'}: ${ran.join(', ')})`,
    );
  }
}
