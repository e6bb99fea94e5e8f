import { userInfo } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
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
}

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

/** Where a PostgreSQL URL points, as `host:port/database`: no user, no password. */
export function describePostgres(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const host = url.hostname || url.searchParams.get('host') || 'localhost';
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return `${host}:${url.port || '5432'}/${database}`;
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
  if (databaseUrl) {
    const pool = new pg.Pool({ connectionString: withDefaultUser(databaseUrl), max: 10 });
    // An idle connection the server closed (restart, failover, an administrator): the pool drops it and
    // the next query connects anew. Without a listener node-postgres would take the whole process down.
    pool.on('error', (err) => {
      process.emitWarning(`idle PostgreSQL connection lost: ${err.message}`, { code: 'KETENDATA_PG_IDLE' });
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
    ensureDataFolder(options.dataDir);
    const sqlite = new SqliteDatabase(join(options.dataDir, 'ketendata.sqlite'));
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    store = { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
  }
  await migrate(store);
  return store;
}

export async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(
      `store.migration_failed: ${failed ? `migration ${failed.migrationName}: ` : ''}${reason}`,
    );
  }
}
