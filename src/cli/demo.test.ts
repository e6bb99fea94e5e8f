import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { secretFingerprint } from '../usecases/store-secret.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-demo-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const NOW = '2024-06-05T12:00:00Z';
const SECRET_X = 'demo-env-secret-demo-env-secret-demo-env';

describe('ketendata demo', () => {
  it('refuses a data folder holding a store that is not a demo, before writing anything', async () => {
    const env = { KETENDATA_DATA_DIR: join(work, 'real') };
    expect((await runCli(['organisations', 'add', '0310', '--name', 'De Bilt'], env)).code).toBe(0);
    const before = readdirSync(env.KETENDATA_DATA_DIR).sort();
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `demo.not_demo_store: ${env.KETENDATA_DATA_DIR} holds a store that is not a demo: use another KETENDATA_DATA_DIR (a new or empty folder) for the demo\n`,
      );
    }
    expect(readdirSync(env.KETENDATA_DATA_DIR).sort()).toEqual(before);
    expect(existsSync(join(env.KETENDATA_DATA_DIR, 'demo-secret'))).toBe(false);
  });

  // The data folder of a PostgreSQL deployment holds its deliveries and no embedded store: the demo wrote its
  // own among them, and an interrupted demo's restart removed the folder with them (review).
  it('refuses a folder with files but no store, writing nothing', async () => {
    const dir = join(work, 'pg-deployment');
    const zip = join(dir, 'deliveries', '0363', 'weekly.zip');
    mkdirSync(dirname(zip), { recursive: true });
    writeFileSync(zip, 'real');
    const r = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], { KETENDATA_DATA_DIR: dir });
    expect(r).toEqual({
      code: 1,
      out: '',
      err: `demo.not_demo_store: ${dir} holds files the demo did not make (deliveries) and no demo store: use another KETENDATA_DATA_DIR (a new or empty folder) for the demo\n`,
    });
    expect(readdirSync(dir)).toEqual(['deliveries']);
    expect(readFileSync(zip, 'utf8')).toBe('real');
  });

  it('refuses a store that has accounts but is not a demo (it would serve it under demo keys)', async () => {
    const env = { KETENDATA_DATA_DIR: join(work, 'accounts') };
    process.env.KETENDATA_NEW_PASSWORD = 'een lang genoeg wachtwoord';
    try {
      const user = await runCli(
        ['users', 'add', 'beheer@example.org', '--operator', '--name', 'Beheer'],
        env,
      );
      expect(user.code, user.err).toBe(0);
    } finally {
      delete process.env.KETENDATA_NEW_PASSWORD;
    }
    const r = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
    expect(r.code).toBe(1);
    expect(r.err).toContain('demo.not_demo_store');
    expect(existsSync(join(env.KETENDATA_DATA_DIR, 'demo-secret'))).toBe(false);
  });

  it('makes a demo in an empty folder, and a restart finds it and leaves it as it is', async () => {
    const env = { KETENDATA_DATA_DIR: join(work, 'demo') };
    const first = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/demo: ready in /);
    expect(first.out).toContain('demo: simulating 1 week of traffic …\n');
    // Not served now, but whoever serves it later needs the logins: printed all the same.
    const logins = first.out.slice(first.out.indexOf('\nLog in with'));
    expect(logins).toMatch(
      /^\nLog in with password "ketendata-demo" and one of these e-mail addresses:\n( {2}\S+@\S+ +(organisation \w+|operator)\n)+$/,
    );
    expect(logins).toContain('operator\n');
    expect(logins).toMatch(/organisation \d{4}\n/);
    const again = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
    expect(again).toMatchObject({ code: 0, err: '' });
    expect(again.out).toBe(`demo: existing data in ${env.KETENDATA_DATA_DIR}\n${logins}`);
    // A restart with KETENDATA_SECRET set would serve the data under other keys: refused.
    const other = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], {
      ...env,
      KETENDATA_SECRET: SECRET_X,
    });
    expect(other).toMatchObject({ code: 1, out: '' });
    const file = join(env.KETENDATA_DATA_DIR, 'demo-secret');
    const fingerprint = secretFingerprint(deriveKeys(readFileSync(file, 'utf8').trim()));
    expect(other.err).toBe(
      `keys.secret_mismatch: the demo data in ${env.KETENDATA_DATA_DIR} was made with its own secret in ${file} (fingerprint ${fingerprint}), not with this KETENDATA_SECRET: start the demo without KETENDATA_SECRET, or give it a new data folder (KETENDATA_DATA_DIR). Nothing was changed\n`,
    );
  });

  it('holds a KETENDATA_SECRET to 32 characters at least, as every command does, before writing anything', async () => {
    const env = { KETENDATA_DATA_DIR: join(work, 'short'), KETENDATA_SECRET: 'too-short' };
    const r = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
    expect(r).toEqual({
      code: 1,
      out: '',
      err: 'ketendata: KETENDATA_SECRET is too short: use at least 32 characters\n',
    });
    expect(existsSync(env.KETENDATA_DATA_DIR)).toBe(false);
  });

  it('refuses a restart under another secret than the demo was made with, without writing a demo secret', async () => {
    const dir = join(work, 'with-secret');
    const first = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], {
      KETENDATA_DATA_DIR: dir,
      KETENDATA_SECRET: SECRET_X,
    });
    expect(first).toMatchObject({ code: 0, err: '' });
    // The secret came from the environment: the demo keeps none of its own.
    expect(existsSync(join(dir, 'demo-secret'))).toBe(false);
    const fingerprint = secretFingerprint(deriveKeys(SECRET_X));
    const unset = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], {
      KETENDATA_DATA_DIR: dir,
    });
    expect(unset).toEqual({
      code: 1,
      out: '',
      err: `keys.secret_mismatch: the demo data in ${dir} was made with KETENDATA_SECRET set (fingerprint ${fingerprint}), and the demo then keeps no secret of its own: start the demo with that KETENDATA_SECRET set again, or give it a new data folder (KETENDATA_DATA_DIR). Nothing was changed\n`,
    });
    expect(existsSync(join(dir, 'demo-secret'))).toBe(false);
    const another = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], {
      KETENDATA_DATA_DIR: dir,
      KETENDATA_SECRET: `${SECRET_X}-other`,
    });
    expect(another).toMatchObject({ code: 1, out: '' });
    expect(another.err).toBe(
      `keys.secret_mismatch: the demo data in ${dir} was made with another KETENDATA_SECRET (fingerprint ${fingerprint}): start the demo with the KETENDATA_SECRET it was made with, or give it a new data folder (KETENDATA_DATA_DIR). Nothing was changed\n`,
    );
    // Started as it was first started, it is served as it was.
    const same = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], {
      KETENDATA_DATA_DIR: dir,
      KETENDATA_SECRET: SECRET_X,
    });
    expect(same).toMatchObject({ code: 0, err: '' });
    expect(same.out.startsWith(`demo: existing data in ${dir}\n\nLog in with `), same.out).toBe(true);
  });

  it('serving: Ctrl+C says it stops and ends cleanly', async () => {
    const dataDir = join(work, 'serving');
    const prepared = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], {
      KETENDATA_DATA_DIR: dataDir,
    });
    expect(prepared.code).toBe(0);
    // A free port: the demo takes 1–65535, not 0.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('../main.ts', import.meta.url)),
        'demo',
        '--port',
        String(port),
      ],
      { env: { ...process.env, KETENDATA_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      out += String(d);
      if (!sent && out.includes('Stop: Ctrl+C')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(out).toContain('Stop: Ctrl+C');
    expect(out).toContain('demo: stopping; requests under way finish first\n');
    expect(code).toBe(0);
  }, 60_000);

  describe('a first start stopped before the demo is ready', () => {
    const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
    /** `ketendata demo` in a process of its own; `stop` is called with it once the demo registered its organisations. */
    function demoStopped(dataDir: string, stop: (child: ReturnType<typeof spawn>) => void) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', MAIN, 'demo', '--no-serve', '--weeks', '6', '--now', NOW],
        { env: { ...process.env, KETENDATA_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
      });
      const registered = async () => {
        for (;;) {
          await sleep(20);
          const file = join(dataDir, 'ketendata.sqlite');
          if (!existsSync(file)) continue;
          const db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
          try {
            const { n } = db.prepare('SELECT count(*) AS n FROM organisation').get() as { n: number };
            if (n > 0) return;
          } catch {
            // Not migrated yet.
          } finally {
            db.close();
          }
        }
      };
      void registered().then(() => stop(child));
      return new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal, out })),
      );
    }

    it('killed outright: the next start begins the demo again instead of failing on its organisations', async () => {
      const env = { KETENDATA_DATA_DIR: join(work, 'killed') };
      const killed = await demoStopped(env.KETENDATA_DATA_DIR, (child) => child.kill('SIGKILL'));
      expect(killed.signal).toBe('SIGKILL');
      expect(killed.out).not.toContain('Log in with');
      // Beginning again clears what the demo made, nothing else (a file someone put beside it stays).
      const other = join(env.KETENDATA_DATA_DIR, 'deliveries', 'OTHER', 'keep.zip');
      mkdirSync(dirname(other), { recursive: true });
      writeFileSync(other, 'not the demo’s');
      const again = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
      expect(again.err).toBe('');
      expect(again.code).toBe(0);
      expect(again.out).toMatch(
        /^demo: the first start was stopped before the demo was ready; beginning again\ndemo: simulating 1 week of traffic …\n/,
      );
      expect(again.out).toMatch(/demo: ready in .*\n\nLog in with password/s);
      expect(readFileSync(other, 'utf8')).toBe('not the demo’s');
      // The demo made now is whole and kept: a third start serves it as it is.
      const third = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
      expect(third).toMatchObject({ code: 0, err: '' });
      expect(third.out.startsWith(`demo: existing data in ${env.KETENDATA_DATA_DIR}\n`)).toBe(true);
    }, 60_000);

    it('Ctrl+C: says so, ends with 130 after the step under way, and the next start begins again', async () => {
      const env = { KETENDATA_DATA_DIR: join(work, 'ctrl-c') };
      const stopped = await demoStopped(env.KETENDATA_DATA_DIR, (child) => child.kill('SIGINT'));
      expect(stopped.code).toBe(130);
      expect(stopped.out).toContain(
        'demo: stopping (SIGINT) after the step under way; the next start begins the demo again (a second Ctrl+C stops at once)\n',
      );
      expect(stopped.out).not.toContain('Log in with');
      const again = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
      expect(again).toMatchObject({ code: 0, err: '' });
      expect(again.out).toContain(
        'demo: the first start was stopped before the demo was ready; beginning again\n',
      );
    }, 60_000);
  });
});
