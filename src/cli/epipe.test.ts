import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-cli-epipe-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const MAIN = new URL('../main.ts', import.meta.url).href;

/** Runs the CLI in a child process whose stdout is closed at once, as `| head -1` does after one line. */
function runWithClosedStdout(argv: string[]): Promise<{ code: number | null; err: string }> {
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(${JSON.stringify(argv)});`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, KETENDATA_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let err = '';
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err })));
}

describe('a reader that closes the pipe early', () => {
  it('ends the command quietly, with its own exit code, instead of an EPIPE stack trace', async () => {
    for (const argv of [['quarantine', 'list'], ['--help']]) {
      const r = await runWithClosedStdout(argv);
      expect(r.err, argv.join(' ')).toBe('');
      expect(r.code, argv.join(' ')).toBe(0);
    }
  });
});
