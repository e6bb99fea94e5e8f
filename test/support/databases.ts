import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import type { Database, Dialect } from '../../src/store/database.js';
import { openStore, type Store } from '../../src/store/open.js';

/** Every store test runs on both dialects: the embedded default and a real PostgreSQL server. */
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export const PG_ADMIN_URL = process.env.KETENDATA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, migrated store in its own database (PostgreSQL) or its own folder (SQLite). Drop it with the returned function. */
export async function freshStore(
  dialect: Dialect,
): Promise<{ store: Store; url: string | undefined; dataDir: string; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-test-'));
  if (dialect === 'sqlite') {
    const store = await openStore({ databaseUrl: undefined, dataDir });
    return {
      store,
      url: undefined,
      dataDir,
      drop: async () => {
        await store.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `kd_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString(), dataDir });
  return {
    store,
    url: url.toString(),
    dataDir,
    drop: async () => {
      await store.close();
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `test` on a fresh store of `dialect`, dropped after it whatever the outcome. */
export async function withFreshStore(dialect: Dialect, test: (store: Store) => Promise<void>): Promise<void> {
  const { store, drop } = await freshStore(dialect);
  try {
    await test(store);
  } finally {
    await drop();
  }
}

/** The seq of the message stored from the exchange with this hub id. */
export async function seqOfHub(store: Store, hubId: string): Promise<number> {
  const row = await store.db
    .selectFrom('message')
    .select('seq')
    .where('hub_id', '=', hubId)
    .executeTakeFirstOrThrow();
  return Number(row.seq);
}

type TableName = keyof Database & string;

/** The number of rows in each of `tables`: what a refused or failed command must leave as it was. */
export async function rowCounts<T extends TableName>(
  store: Store,
  tables: readonly T[],
): Promise<Record<T, number>> {
  const out = {} as Record<T, number>;
  for (const table of tables) {
    const row = await sql<{
      n: number | string | bigint;
    }>`select count(*) as n from ${sql.table(table)}`.execute(store.db);
    out[table] = Number(row.rows[0]?.n);
  }
  return out;
}
