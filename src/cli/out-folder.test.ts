import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { ensureFolder } from '../config/folders.js';

const dir = mkdtempSync(join(tmpdir(), 'ketendata-out-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = {
  KETENDATA_DATA_DIR: join(dir, 'data'),
  KETENDATA_SECRET: 'out-folder-secret-out-folder-secret-0',
};
const file = join(dir, 'a-file');
writeFileSync(file, 'not a folder');

/** Every command with an output folder, writing to `out`. */
const commands = (out: string): [string, string[]][] => [
  ['download', ['download', '0363', '--out', out]],
  ['dictionary', ['dictionary', '--out', out]],
  ['flatten', ['flatten', file, '--out', out]],
  ['simulate', ['simulate', '--out', out, '--clients', '1']],
];

describe('--out that is not a folder that can be written', () => {
  it('makes missing components one by one and leaves no probe behind', () => {
    const out = join(dir, 'new', 'deeper', 'out');
    expect(ensureFolder(out)).toBe(out);
    expect(readdirSync(out)).toEqual([]);
  });

  it('is one coded line and exit code 1, for a file and for a path under a file', async () => {
    for (const [command, argv] of commands(file)) {
      const r = await runCli(argv, env);
      expect(r, command).toMatchObject({ code: 1, out: '' });
      expect(r.err).toBe(`${command}.out_not_folder: ${file} is not a folder that can be written (EEXIST)\n`);
    }
    const under = join(file, 'sub');
    for (const [command, argv] of commands(under)) {
      const r = await runCli(argv, env);
      expect(r, command).toMatchObject({ code: 1, out: '' });
      expect(r.err).toBe(
        `${command}.out_not_folder: ${under} is not a folder that can be written (ENOTDIR)\n`,
      );
    }
  });

  // Node 20's recursive mkdir loops forever under /proc, blocking the event loop: each run is a child process
  // killed after a while, so a regression fails instead of hanging the test run.
  it.each(commands('/proc/nope/x'))(
    '%s under /proc is refused at once instead of hanging',
    (command, argv) => {
      const main = join(import.meta.dirname, '..', 'main.ts');
      const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...argv], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
        cwd: join(import.meta.dirname, '..', '..'), // where tsx resolves
        timeout: 20_000,
      });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `${command}.out_not_folder: /proc/nope/x is not a folder that can be written (ENOENT)\n`,
      );
    },
  );
});

describe('KETENDATA_DATA_DIR that is not a folder that can be written', () => {
  // A child process killed after a while, as above: the store's own mkdir used to be recursive.
  it.each([
    ['/proc/nope/data', 'ENOENT'],
    [file, 'EEXIST'],
  ])('%s is refused at once with a coded line (%s)', (dataDir, code) => {
    const main = join(import.meta.dirname, '..', 'main.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'deliveries', '0363'], {
      encoding: 'utf8',
      env: { ...process.env, ...env, KETENDATA_DATA_DIR: dataDir },
      cwd: join(import.meta.dirname, '..', '..'),
      timeout: 20_000,
    });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `ketendata: config.data_dir_unusable: KETENDATA_DATA_DIR ${dataDir} is not a folder that can be written (${code})\n`,
    );
  });
});
