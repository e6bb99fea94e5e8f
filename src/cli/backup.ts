import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Command } from 'commander';
import pg from 'pg';
import { checkDatabaseUrl } from '../config/config.js';
import { describePostgres, withDefaultUser } from '../store/open.js';
import type { CliContext } from './command.js';

/** The embedded store's file in the data folder (as `openStore` names it). */
const STORE_FILE = 'ketendata.sqlite';

/** A word the shell takes as it is; anything else is single-quoted. */
function shellWord(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The pg_dump command for the store at `databaseUrl`: host, port, user and database as node-postgres reads
 * them (the URL, else PGHOST, PGPORT, PGUSER, PGDATABASE), so it dumps the database ketendata uses; never the
 * password (pg_dump asks for it, or reads PGPASSWORD or ~/.pgpass).
 */
export function pgDumpCommand(databaseUrl: string, out: string): string {
  // A custom-format dump is no SQLite file: `--out ketendata.sqlite` (the SQLite habit) becomes `ketendata.dump`.
  const file = out.replace(/\.sqlite3?$/i, '.dump');
  const words = ['pg_dump', '--format=custom', `--file=${shellWord(file)}`];
  try {
    // Never connected: only its reading of the URL and the environment is used.
    const c = new pg.Client({ connectionString: withDefaultUser(databaseUrl) });
    words.push(`--host=${shellWord(c.host)}`, `--port=${c.port}`);
    if (c.user) words.push(`--username=${shellWord(c.user)}`);
    if (c.database) words.push(shellWord(c.database));
  } catch {
    // A URL node-postgres cannot read: opening the store would say so; the bare command still helps.
  }
  return words.join(' ');
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * `ketendata backup --out FILE [--force]`: a consistent copy of the embedded SQLite store while serve and
 * ingest go on. A plain copy of `ketendata.sqlite` misses what is committed but still in `-wal`, and
 * `integrity_check` of such a copy says ok; SQLite's online backup API reads through the WAL.
 */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('backup')
    .description(
      'copy the embedded SQLite store consistently while serve or ingest run (PostgreSQL: use pg_dump); ' +
        'the delivery files and the secret are not in it',
    )
    .requiredOption('--out <file>', 'file to write the copy to, made readable by its owner only (required)')
    .option('--force', 'replace the file when it exists')
    .action(async (o: { out: string; force?: boolean }) => {
      const databaseUrl = checkDatabaseUrl(ctx.config.databaseUrl);
      if (databaseUrl) {
        ctx.err(
          `backup: the store is PostgreSQL (${describePostgres(databaseUrl)}): back up with ${pgDumpCommand(databaseUrl, o.out)} (backup.postgres)`,
        );
        ctx.setExitCode(2);
        return;
      }
      const source = join(ctx.config.dataDir, STORE_FILE);
      const out = resolve(o.out);
      const fail = (line: string) => {
        ctx.err(`backup: ${line}`);
        ctx.setExitCode(1);
      };
      if (!existsSync(source)) {
        fail(`no store in ${ctx.config.dataDir} (no ${STORE_FILE}): nothing to back up (backup.no_store)`);
        return;
      }
      // Replacing the store (or its -wal, -shm) by a copy of itself would destroy it under the running serve;
      // compared as real paths, so a link to the data folder does not hide it.
      const real = (path: string) => {
        try {
          return join(realpathSync(dirname(path)), basename(path));
        } catch {
          return path;
        }
      };
      const store = real(source);
      if ([store, `${store}-wal`, `${store}-shm`, `${store}-journal`].includes(real(out))) {
        fail(`${out} is the store itself: give a file outside the store (backup.out_is_store)`);
        return;
      }
      if (existsSync(out) && statSync(out).isDirectory()) {
        fail(`${out} cannot be written (EISDIR) (backup.out_unwritable)`);
        return;
      }
      if (existsSync(out) && !o.force) {
        fail(`${out} exists: give another file, or --force to replace it (backup.exists)`);
        return;
      }
      // Written beside the target and moved there when complete: an interrupted backup leaves no file that
      // looks whole. Made 0600 before SQLite writes to it (SQLite keeps an existing file's mode).
      const partial = `${out}.${process.pid}.partial`;
      try {
        closeSync(openSync(partial, 'wx', 0o600));
        chmodSync(partial, 0o600);
      } catch (err) {
        fail(`${out} cannot be written (${errnoCode(err)}) (backup.out_unwritable)`);
        return;
      }
      let db: SqliteDatabase.Database | undefined;
      try {
        // Opened without openStore: no migration, so a backup taken after installing a new version but
        // before any other command is still the store as the old version left it.
        db = new SqliteDatabase(source, { fileMustExist: true });
        db.pragma('busy_timeout = 10000');
        // All pages in one step: one read transaction, so writers in other processes (which WAL does not
        // block) cannot make SQLite restart the copy after every 100 pages.
        await db.backup(partial, { progress: () => 0x7fffffff });
        if (o.force) renameSync(partial, out);
        else {
          // Not a rename: that would replace a file made meanwhile.
          linkSync(partial, out);
          rmSync(partial);
        }
      } catch (err) {
        for (const f of [partial, `${partial}-journal`]) rmSync(f, { force: true });
        if (errnoCode(err) === 'EEXIST')
          fail(`${out} exists: give another file, or --force to replace it (backup.exists)`);
        else
          fail(
            `${out} could not be written: ${err instanceof Error ? err.message : String(err)} (backup.failed)`,
          );
        return;
      } finally {
        db?.close();
      }
      ctx.out(`backup: wrote ${out} (${statSync(out).size} bytes)`);
      ctx.out(
        `backup: not in it: the delivery files in ${join(ctx.config.dataDir, 'deliveries')} (copy that folder too) ` +
          'and KETENDATA_SECRET (keep it apart from the backup); see docs/operations.md',
      );
    });
}
