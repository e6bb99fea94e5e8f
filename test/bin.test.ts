import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// The bin in a checkout of its own, with a stand-in for the compiled CLI that prints its arguments.
let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

function checkout(withDist: boolean): string {
  root = mkdtempSync(join(tmpdir(), 'ketendata-bin-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(import.meta.dirname, '..', 'bin', 'ketendata.js'), join(root, 'bin', 'ketendata.js'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}');
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  writeFileSync(join(root, 'src', 'cli', 'command.ts'), '');
  if (withDist) {
    mkdirSync(join(root, 'dist'));
    writeFileSync(
      join(root, 'dist', 'main.js'),
      'export function runMain(argv) { console.log("ran " + argv.join(" ")); }',
    );
  }
  return root;
}

const run = (dir: string) =>
  spawnSync(process.execPath, [join(dir, 'bin', 'ketendata.js'), 'organisations', 'list'], {
    encoding: 'utf8',
  });

describe('bin/ketendata.js', () => {
  it('runs the compiled CLI, silently when it is up to date', () => {
    const dir = checkout(true);
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'src', 'cli', 'command.ts'), past, past);
    const r = run(dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ran organisations list\n');
    expect(r.stderr).toBe('');
  });

  it('warns when a source is newer than the build (a pull without `npm run build`)', () => {
    const dir = checkout(true);
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'src', 'cli', 'command.ts'), future, future);
    const r = run(dir);
    expect(r.stdout).toBe('ran organisations list\n');
    expect(r.stderr).toContain('src/ is newer than dist/: run `npm run build`');
  });

  it('is not stopped by an editor lock file (a dangling link) among the sources', () => {
    const dir = checkout(true);
    symlinkSync('root@host.1:1', join(dir, 'src', 'cli', '.#command.ts'));
    symlinkSync(join(dir, 'nowhere.ts'), join(dir, 'src', 'cli', 'gone.ts'));
    const r = run(dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ran organisations list\n');
  });

  it('says how to build when there is no build, instead of a module error', () => {
    const r = run(checkout(false));
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'ketendata: dist/ is missing: run `npm ci` or `npm run build` first (cli.not_built)',
    );
  });
});
