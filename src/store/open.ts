import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
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

export async function openStore(options: StoreOptions): Promise<Store> {
  let store: Store;
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle connection the server closed (restart, failover, an administrator): the pool drops it and
    // the next query connects anew. Without a listener node-postgres would take the whole process down.
    pool.on('error', (err) => {
      process.emitWarning(`idle PostgreSQL connection lost: ${err.message}`, { code: 'KETENDATA_PG_IDLE' });
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = { db, dialect: 'postgres', pool, close: () => db.destroy() };
  } else {
    mkdirSync(options.dataDir, { recursive: true });
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
