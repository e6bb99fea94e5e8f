import { vi } from 'vitest';
import { main } from '../../src/main.js';

/** Runs `ketendata …` in-process as `bin/ketendata.js` does, capturing stdout, stderr and the exit code. */
export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main(argv, env);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** `runCli` with stdout and stderr as lists of lines (empty lines dropped). */
export async function runCliLines(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string[]; err: string[] }> {
  const r = await runCli(argv, env);
  const lines = (text: string) => text.split('\n').filter(Boolean);
  return { code: r.code, out: lines(r.out), err: lines(r.err) };
}
