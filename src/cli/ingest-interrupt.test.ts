import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { rowCounts } from '../../test/support/databases.js';
import { SECRET } from '../../test/support/exchange-fixtures.js';
import { simulatedTraffic } from '../../test/support/simulated-traffic.js';
import { openStore } from '../store/open.js';

// About 1650 exchanges, the first quarantined one 7th: its line on stderr shows the first batch is written.
const traffic = simulatedTraffic({ clients: 200 });
const work = mkdtempSync(join(tmpdir(), 'ketendata-cli-interrupt-'));
afterAll(() => {
  rmSync(traffic.dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/**
 * `ketendata ingest` in a process of its own (from the sources, as `npm run dev` runs it), sent `signals` once
 * a written batch has named a quarantined exchange on stderr, 50 ms apart.
 */
function ingestInterrupted(
  dataDir: string,
  args: readonly string[],
  signals: NodeJS.Signals[],
): Promise<Ended> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'ingest', traffic.dir, ...args], {
    env: { ...process.env, KETENDATA_DATA_DIR: dataDir, KETENDATA_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let sent = false;
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  child.stderr.on('data', (d) => {
    err += String(d);
    if (sent || !/^quarantined \(item \d+\)/m.test(err)) return;
    sent = true;
    for (const [i, s] of signals.entries()) setTimeout(() => child.kill(s), i * 50);
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
}

const SUMMARY =
  /^received (\d+), stored (\d+) \(\d+ conflicts?\), duplicates (\d+), quarantined (\d+)(?:, already ingested (\d+))?$/m;

function counts(out: string) {
  const m = SUMMARY.exec(out);
  if (!m) throw new Error(`no summary in ${JSON.stringify(out)}`);
  const [received, stored, duplicates, quarantined, skipped] = m.slice(1).map((n) => Number(n ?? 0));
  return {
    received: received!,
    stored: stored!,
    duplicates: duplicates!,
    quarantined: quarantined!,
    skipped: skipped!,
  };
}

/** A run to the end: every exchange accounted for (with the interrupted run's counts, when it printed them), each stored once. */
async function finishAndCheck(
  dataDir: string,
  before?: { stored: number; duplicates: number; quarantined: number },
) {
  const t = traffic.expected;
  const rest = await runCli(['ingest', traffic.dir, '--no-progress'], {
    KETENDATA_DATA_DIR: dataDir,
    KETENDATA_SECRET: SECRET,
  });
  expect(rest.code, rest.err).toBe(0);
  const r = counts(rest.out);
  expect(r.received).toBe(t.received);
  expect(r.stored + r.duplicates + r.quarantined + r.skipped).toBe(t.received);
  if (before) {
    expect(before.stored + r.stored).toBe(t.stored);
    expect(before.duplicates + r.duplicates).toBe(t.duplicates);
    expect(before.quarantined + r.quarantined).toBe(t.quarantined);
  }
  const store = await openStore({ databaseUrl: undefined, dataDir });
  try {
    expect(await rowCounts(store, ['message', 'quarantine'])).toEqual({
      message: t.stored,
      quarantine: t.quarantined,
    });
  } finally {
    await store.close();
  }
  return r;
}

const INTERRUPTED =
  /^ingest: interrupted: (\d+) exchanges done, the rest not read; run the same command again to continue \(ingest\.interrupted\)$/m;

describe('ketendata ingest interrupted', () => {
  it('stops after the batch being written on Ctrl+C, says so with exit code 130, and a re-run continues', async () => {
    const dataDir = join(work, 'sigint');
    const r = await ingestInterrupted(dataDir, ['--batch-size', '50', '--workers', '2'], ['SIGINT']);
    expect({ code: r.code, signal: r.signal }, r.err).toEqual({ code: 130, signal: null });
    expect(r.err).toContain(
      'ingest: stopping after the batch being written; press Ctrl+C again to stop at once\n',
    );
    // The last line on stderr, after the summary on stdout.
    const m = INTERRUPTED.exec(r.err);
    expect(m, r.err).not.toBeNull();
    expect(r.err.endsWith(`${m![0]}\n`)).toBe(true);
    const done = Number(m![1]);
    expect(done % 50, 'whole batches').toBe(0);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(traffic.expected.received);
    const first = counts(r.out);
    expect(first.received).toBe(done);
    expect(first.stored + first.duplicates + first.quarantined).toBe(done);
    // Not a run that found nothing: no ingest.source_empty.
    expect(r.err).not.toContain('source_empty');
    const rest = await finishAndCheck(dataDir, first);
    expect(rest.skipped).toBe(done);
  }, 120_000);

  it('exits with 143 on SIGTERM, after the same summary and line', async () => {
    const dataDir = join(work, 'sigterm');
    const r = await ingestInterrupted(dataDir, ['--batch-size', '50'], ['SIGTERM']);
    expect({ code: r.code, signal: r.signal }, r.err).toEqual({ code: 143, signal: null });
    const done = Number(INTERRUPTED.exec(r.err)?.[1]);
    expect(counts(r.out).received).toBe(done);
  }, 120_000);

  it('exits at once on a second Ctrl+C (still 130), and a re-run still accounts for every exchange', async () => {
    const dataDir = join(work, 'twice');
    // Batches of 1000: the second is still being parsed and written when both signals have come.
    const r = await ingestInterrupted(
      dataDir,
      ['--batch-size', '1000', '--workers', '0'],
      ['SIGINT', 'SIGINT'],
    );
    // Signals are not queued: when the first one came before the second batch was being written, the run
    // ends (summary, interrupted line) before the second arrives, which then finds no handler and ends the
    // process as a shell's Ctrl+C does. Either way nothing is half written.
    const finished = SUMMARY.test(r.out);
    if (finished) {
      expect(r.err).toMatch(INTERRUPTED);
      expect([130, null]).toContain(r.code);
      if (r.code === null) expect(r.signal).toBe('SIGINT');
    } else {
      expect({ code: r.code, signal: r.signal }, r.err).toEqual({ code: 130, signal: null });
      expect(r.err).not.toMatch(INTERRUPTED);
    }
    // The batch being written was rolled back as a whole (or not begun): whole batches only are there.
    const rest = await finishAndCheck(dataDir);
    expect(rest.skipped).toBe(finished ? Number(INTERRUPTED.exec(r.err)?.[1]) : 1000);
  }, 120_000);
});
