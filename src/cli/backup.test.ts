import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { freshStore } from '../../test/support/databases.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-backup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ROOT = join(import.meta.dirname, '..', '..');

/** Another process (an ingest, say) that commits one audit row after another until it is killed. */
function startWriter(file: string): ChildProcess {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('busy_timeout = 10000');
    const insert = db.prepare("insert into audit_log (at, actor, action) values (datetime('now'), 'writer', 'test')");
    let n = 0;
    (function next() {
      insert.run();
      if (++n === 20) process.stdout.write('writing\\n');
      setImmediate(next);
    })();`;
  return spawn(process.execPath, ['-e', script, file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
}

function rowsIn(file: string): { count: number; maxId: number; integrity: string } {
  const db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  try {
    const { count, maxId } = db
      .prepare('select count(*) as count, coalesce(max(id), 0) as maxId from audit_log')
      .get() as { count: number; maxId: number };
    return { count, maxId, integrity: db.pragma('integrity_check', { simple: true }) as string };
  } finally {
    db.close();
  }
}

describe('ketendata backup (SQLite)', () => {
  it('copies what is committed, also what is still in the WAL, while another process writes; a plain copy of the file does not', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    const source = join(dataDir, 'ketendata.sqlite');
    const live = store.sqlite as SqliteDatabase.Database;
    let writer: ChildProcess | undefined;
    try {
      // As in a server that has run a while: the older pages checkpointed into the file, the recent commits
      // (a few, below the automatic checkpoint) only in ketendata.sqlite-wal, the store still open.
      live.pragma('wal_checkpoint(TRUNCATE)');
      const insert = live.prepare(
        "insert into audit_log (at, actor, action) values (datetime('now'), 'cli:test', 'download')",
      );
      for (let i = 0; i < 50; i++) insert.run();
      expect(statSync(`${source}-wal`).size).toBeGreaterThan(0);

      const plain = join(work, 'plain.sqlite');
      copyFileSync(source, plain);

      writer = startWriter(source);
      const [chunk] = (await once(writer.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
      expect(String(chunk)).toBe('writing\n');
      const committed = () => (live.prepare('select count(*) as n from audit_log').get() as { n: number }).n;
      const before = committed();
      expect(before).toBeGreaterThanOrEqual(70);

      const out = join(work, 'backup.sqlite');
      const r = await runCli(['backup', '--out', out], { KETENDATA_DATA_DIR: dataDir });
      const after = committed();
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toBe(
        `backup: wrote ${out} (${statSync(out).size} bytes)\n` +
          `backup: not in it: the delivery files in ${join(dataDir, 'deliveries')} (copy that folder too) and KETENDATA_SECRET (keep it apart from the backup); see docs/operations.md\n`,
      );
      expect(statSync(out).mode & 0o777).toBe(0o600);

      // Every row committed before the backup began, and one moment's rows: no gap, nothing half-written.
      const copy = rowsIn(out);
      expect(copy.integrity).toBe('ok');
      expect(copy.count).toBeGreaterThanOrEqual(before);
      expect(copy.count).toBeLessThanOrEqual(after);
      expect(copy.maxId).toBe(copy.count);
      // The plain copy looks sound and silently lacks every recent commit.
      expect(rowsIn(plain)).toEqual({ count: 0, maxId: 0, integrity: 'ok' });
    } finally {
      if (writer && writer.exitCode === null) {
        writer.kill();
        await once(writer, 'exit');
      }
      await drop();
    }
  });

  it('replaces an existing file only with --force, and never the store itself', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    await store.close();
    const env = { KETENDATA_DATA_DIR: dataDir };
    const out = join(work, 'existing.sqlite');
    try {
      writeFileSync(out, 'an older backup');
      const refused = await runCli(['backup', '--out', out], env);
      expect(refused).toEqual({
        code: 1,
        out: '',
        err: `backup: ${out} exists: give another file, or --force to replace it (backup.exists)\n`,
      });
      expect(readFileSync(out, 'utf8')).toBe('an older backup');

      const forced = await runCli(['backup', '--out', out, '--force'], env);
      expect(forced.code).toBe(0);
      expect(rowsIn(out)).toEqual({ count: 0, maxId: 0, integrity: 'ok' });
      expect(statSync(out).mode & 0o777).toBe(0o600);

      const store = join(dataDir, 'ketendata.sqlite');
      const link = join(work, 'data-link');
      symlinkSync(dataDir, link);
      for (const target of [store, join(link, 'ketendata.sqlite'), `${store}-wal`]) {
        const self = await runCli(['backup', '--out', target, '--force'], env);
        expect(self.code, target).toBe(1);
        expect(self.err).toBe(
          `backup: ${target} is the store itself: give a file outside the store (backup.out_is_store)\n`,
        );
      }
      expect(rowsIn(store).integrity).toBe('ok');

      const folder = await runCli(['backup', '--out', work, '--force'], env);
      expect(folder.code).toBe(1);
      expect(folder.err).toBe(`backup: ${work} cannot be written (EISDIR) (backup.out_unwritable)\n`);
    } finally {
      await drop();
    }
  });

  it('refuses a data folder without a store rather than making one', async () => {
    const dataDir = join(work, 'no-store');
    const r = await runCli(['backup', '--out', join(work, 'none.sqlite')], { KETENDATA_DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `backup: no store in ${dataDir} (no ketendata.sqlite): nothing to back up (backup.no_store)\n`,
    );
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(join(work, 'none.sqlite'))).toBe(false);
  });
});

describe('ketendata backup (PostgreSQL)', () => {
  it('says to use pg_dump, with the database from the URL and without its password, exit code 2', async () => {
    const out = join(work, 'pg.dump');
    const r = await runCli(['backup', '--out', out], {
      KETENDATA_DATA_DIR: work,
      KETENDATA_DATABASE_URL: 'postgres://ketendata:geheim@db.example:6543/ketendata_prod',
    });
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `backup: the store is PostgreSQL (db.example:6543/ketendata_prod): back up with pg_dump --format=custom --file=${out} --host=db.example --port=6543 --username=ketendata ketendata_prod (backup.postgres)\n`,
    });
    expect(existsSync(out)).toBe(false);
    // The SQLite habit: a dump is named as one.
    const sqliteName = await runCli(['backup', '--out', join(work, 'kd-2026-12-01.sqlite')], {
      KETENDATA_DATA_DIR: work,
      KETENDATA_DATABASE_URL: 'postgres://ketendata@db.example:6543/ketendata_prod',
    });
    expect(sqliteName.err).toContain(`--file=${join(work, 'kd-2026-12-01.dump')} `);
  });

  it('names what the URL leaves to PGHOST, PGPORT, PGUSER and PGDATABASE as node-postgres reads them', async () => {
    vi.stubEnv('PGHOST', 'db.internal');
    vi.stubEnv('PGPORT', '6000');
    vi.stubEnv('PGUSER', 'kd');
    vi.stubEnv('PGDATABASE', 'ketendata');
    vi.stubEnv('PGPASSWORD', 'geheim');
    try {
      const r = await runCli(['backup', '--out', 'my backup.dump'], {
        KETENDATA_DATA_DIR: work,
        KETENDATA_DATABASE_URL: 'postgres://',
      });
      expect(r.code).toBe(2);
      expect(r.err).toContain(
        ": back up with pg_dump --format=custom --file='my backup.dump' --host=db.internal --port=6000 --username=kd ketendata (backup.postgres)\n",
      );
      expect(r.err).not.toContain('geheim');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
