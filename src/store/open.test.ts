import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freshStore, PG_ADMIN_URL } from '../../test/support/databases.js';
import { describePostgres, openStore, withDefaultUser } from './open.js';

afterEach(() => vi.unstubAllEnvs());

describe('a PostgreSQL URL without a user name', () => {
  it('takes the operating system account when neither PGUSER nor USER is set, as psql does', () => {
    const account = userInfo().username;
    expect(withDefaultUser('postgres://127.0.0.1:5432/somedb', {})).toBe(
      `postgres://${encodeURIComponent(account)}@127.0.0.1:5432/somedb`,
    );
    expect(withDefaultUser('postgres://127.0.0.1:5432/somedb', { USER: 'ana' })).toBe(
      'postgres://127.0.0.1:5432/somedb',
    );
    expect(withDefaultUser('postgres://127.0.0.1:5432/somedb', { PGUSER: 'ana' })).toBe(
      'postgres://127.0.0.1:5432/somedb',
    );
    expect(withDefaultUser('postgres://bob:pw@127.0.0.1:5432/somedb', {})).toBe(
      'postgres://bob:pw@127.0.0.1:5432/somedb',
    );
  });

  it('connects with that account instead of sending no user name at all', async () => {
    const { url, dataDir, drop } = await freshStore('postgres');
    try {
      vi.stubEnv('USER', undefined);
      vi.stubEnv('PGUSER', undefined);
      const noUser = new URL(url!);
      noUser.username = '';
      const opened = await openStore({ databaseUrl: noUser.toString(), dataDir }).then(
        async (store) => {
          await store.close();
          return 'opened';
        },
        (err: Error) => err.message,
      );
      // Where the account has no role of its own the server names it: the user name was sent.
      if (opened !== 'opened') expect(opened).toContain(`role "${userInfo().username}" does not exist`);
      expect(opened).not.toContain('no PostgreSQL user name');
    } finally {
      await drop();
    }
  });
});

describe('a PostgreSQL server that cannot be reached', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ketendata-open-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is reported as store.unreachable with host, port and database, never the password', async () => {
    await expect(
      openStore({ databaseUrl: 'postgres://postgres:geheim@127.0.0.1:1/test', dataDir }),
    ).rejects.toThrow(
      /^store\.unreachable: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/test: .*ECONNREFUSED/,
    );
    const unknown = new URL(PG_ADMIN_URL);
    unknown.pathname = '/kd_no_such_database';
    unknown.password = 'geheim';
    const err = await openStore({ databaseUrl: unknown.toString(), dataDir }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      `store.unreachable: cannot connect to PostgreSQL at ${unknown.hostname}:${unknown.port || '5432'}/kd_no_such_database: database "kd_no_such_database" does not exist`,
    );
    expect((err as Error).message).not.toContain('geheim');
  });

  it('names the server node-postgres really tried: what the URL leaves out comes from PG* variables', async () => {
    vi.stubEnv('PGPORT', '5999');
    await expect(
      openStore({ databaseUrl: 'postgres://postgres:geheim@127.0.0.1/test', dataDir }),
    ).rejects.toThrow(
      /^store\.unreachable: cannot connect to PostgreSQL at 127\.0\.0\.1:5999\/test: .*ECONNREFUSED 127\.0\.0\.1:5999/,
    );
    vi.stubEnv('PGPORT', undefined);
    vi.stubEnv('PGDATABASE', 'kd_no_such_database');
    const noDatabase = new URL(PG_ADMIN_URL);
    noDatabase.pathname = '/';
    const err = await openStore({ databaseUrl: noDatabase.toString(), dataDir }).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `store.unreachable: cannot connect to PostgreSQL at ${noDatabase.hostname}:${noDatabase.port || '5432'}/kd_no_such_database: database "kd_no_such_database" does not exist`,
    );
  });

  it('describes the target from the URL, else the environment, else the defaults of node-postgres', () => {
    for (const name of ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER']) vi.stubEnv(name, undefined);
    vi.stubEnv('USER', 'ana');
    expect(describePostgres('postgres://bob:geheim@db.example:6543/ketendata')).toBe(
      'db.example:6543/ketendata',
    );
    // No database: the user's name, as the server takes it.
    expect(describePostgres('postgres://bob:geheim@db.example')).toBe('db.example:5432/bob');
    expect(describePostgres('postgres://[::1]:5433/k')).toBe('[::1]:5433/k');
    vi.stubEnv('PGHOST', 'pg.example');
    vi.stubEnv('PGPORT', '5999');
    vi.stubEnv('PGUSER', 'carla');
    expect(describePostgres('postgres:///')).toBe('pg.example:5999/carla');
    vi.stubEnv('PGDATABASE', 'elders');
    expect(describePostgres('postgres://db.example/')).toBe('db.example:5999/elders');
    expect(describePostgres('postgres://db.example/')).not.toContain('geheim');
  });
});

describe('a PostgreSQL store whose server closes an idle connection', () => {
  it('keeps the process up and answers the next query on a new connection', async () => {
    const { store, drop } = await freshStore('postgres');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const { rows } = await store.pool!.query<{ pid: number }>('select pg_backend_pid() as pid');
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await admin.end();
      await expect.poll(() => warnings.some((w) => w.includes('idle PostgreSQL connection lost'))).toBe(true);
      const next = await store.db.selectFrom('message').select('seq').execute();
      expect(next).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await drop();
    }
  });
});

describe('the data folder of a PostgreSQL store', () => {
  // It holds every delivery: a folder that cannot be used stops the start, not the first delivery due.
  it('is refused at start as config.data_dir_unusable when it cannot be used, and made for its owner alone', async () => {
    const { url, dataDir, drop } = await freshStore('postgres');
    try {
      const file = join(dataDir, 'a-file');
      writeFileSync(file, '');
      await expect(openStore({ databaseUrl: url, dataDir: file })).rejects.toThrow(
        `config.data_dir_unusable: KETENDATA_DATA_DIR ${file} is not a folder that can be written (EEXIST)`,
      );
      const made = join(dataDir, 'new', 'data');
      const store = await openStore({ databaseUrl: url, dataDir: made });
      await store.close();
      expect(statSync(made).mode & 0o777).toBe(0o700);
    } finally {
      await drop();
    }
  });
});

describe('the embedded store file', () => {
  // It holds every message (and the raw ones, encrypted): nobody but its owner reads it, WAL files included.
  it('is made for its owner alone, and a store made readable by others before is closed to them at the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-store-mode-'));
    try {
      const file = join(dataDir, 'ketendata.sqlite');
      const modes = () =>
        ['', '-wal', '-shm'].map((suffix) => [suffix, statSync(`${file}${suffix}`).mode & 0o777]);
      // A new store; one of an earlier release (0644); one the operator shared with a group on purpose (0640).
      for (const [before, after] of [
        [undefined, 0o600],
        [0o644, 0o640],
        [0o640, 0o640],
      ] as const) {
        if (before !== undefined)
          for (const suffix of ['', '-wal', '-shm'])
            if (existsSync(`${file}${suffix}`)) chmodSync(`${file}${suffix}`, before);
        const store = await openStore({ databaseUrl: undefined, dataDir });
        await store.db.selectFrom('organisation').selectAll().execute();
        expect(modes(), String(before)).toEqual([
          ['', after],
          ['-wal', after],
          ['-shm', after],
        ]);
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
