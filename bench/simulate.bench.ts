// Simulator throughput and memory, per CPU second of this process (the "one core" figure: the run is
// single-threaded). After a small untimed run (JIT warm-up, which a run of more than a few seconds
// amortises and which would otherwise favour whichever run comes second), the same run twice for speed:
// generation alone (a sink that drops the message files) and the output written as a folder with one file
// per exchange. Then once more, files dropped, for memory: heap after a forced GC at each month start. That
// probe runs apart because forced full GCs slow down the rest of a run well beyond their own time (about
// 40 % more CPU here), so they would distort the speed figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaSet } from '../src/schema/releases.js';
import { NullSink } from '../src/simulate/output.js';
import { type SimulateOptions, simulate } from '../src/simulate/simulate.js';

const gc = (globalThis as { gc?: () => void }).gc;
schemaSet();

const TARGET = 20_000;
const described = '10 municipalities, 8,000 clients, 2 years';
type Output = 'dropped' | 'folder';

const BENCH_RUN = { gemeenten: '10', clients: 8000, from: '2024-01-01', to: '2025-12-31' };
const WARM_UP = { gemeenten: '3', clients: 1000, from: '2024-01-01', to: '2024-06-30' };

/** Gives `use` an output folder in a fresh temp folder, removed afterwards (outside any measurement). */
function withOutput<T>(use: (out: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ketendata-bench-sim-'));
  try {
    return use(join(dir, 'traffic'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(out: string, output: Output, more: Partial<SimulateOptions> = {}) {
  return simulate({
    ...BENCH_RUN,
    out,
    seed: 1,
    duplicates: 0.01,
    errors: 0.02,
    ...(output === 'dropped' ? { files: new NullSink() } : {}),
    ...more,
  });
}

function speed(label: string, output: Output): number {
  gc?.();
  return withOutput((out) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = run(out, output);
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const seconds = (cpu.user + cpu.system) / 1e6;
    const rate = result.exchanges / seconds;
    console.log(
      `${label}: ${result.exchanges} exchanges, ${result.journeys} journeys; ` +
        `${Math.round(rate)} messages/s per CPU second (${seconds.toFixed(1)} s CPU: ${(cpu.user / 1e6).toFixed(1)} user + ` +
        `${(cpu.system / 1e6).toFixed(1)} system), ${Math.round(result.exchanges / wall)} messages/s wall (${wall.toFixed(1)} s)`,
    );
    return rate;
  });
}

function memory(): void {
  if (!gc) {
    console.log('memory: run with --expose-gc (npm run bench does) for heap after GC');
    return;
  }
  const heap: number[] = [];
  withOutput((out) =>
    run(out, 'dropped', {
      onDay: (p) => {
        if (p.day.endsWith('-01')) {
          gc();
          heap.push(process.memoryUsage().heapUsed);
        }
      },
    }),
  );
  const mb = (b: number) => `${Math.round(b / 1e6)} MB`;
  const half = heap.slice(Math.floor(heap.length / 2));
  console.log(
    `memory, ${described}, files dropped: heap after GC at month starts: ${heap.map(mb).join(' ')}; ` +
      `second half max ${mb(Math.max(...half))}; RSS now ${mb(process.memoryUsage().rss)}`,
  );
}

withOutput((out) => run(out, 'folder', WARM_UP));
const verdict = (rate: number) => `${Math.round(rate)}/s ${rate >= TARGET ? 'OK' : 'BELOW TARGET'}`;
const generated = speed(`generate only, ${described} (files dropped)`, 'dropped');
const folder = speed(`write a folder (one file per exchange), ${described}`, 'folder');
memory();
console.log(
  `simulator on one core, per CPU second (target ${TARGET.toLocaleString('en')}): ` +
    `output written as a folder ${verdict(folder)}; generation alone ${verdict(generated)}`,
);
