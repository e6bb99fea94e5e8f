// Simulator throughput and memory. Generation is measured with a sink that drops the files, per CPU
// second of this process (the "one core" figure: the run is single-threaded), then once more writing real
// files to a temp folder. The forced GCs of the memory probe are timed and taken out of the CPU figure
// (they are the bench's own work, not the simulator's); the figure with them is printed too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaSet } from '../src/schema/releases.js';
import { NullSink } from '../src/simulate/output.js';
import { simulate } from '../src/simulate/simulate.js';

const gc = (globalThis as { gc?: () => void }).gc;
schemaSet();

function run(
  label: string,
  opts: { gemeenten: string; clients: number; from: string; to: string; files: boolean },
) {
  const out = mkdtempSync(join(tmpdir(), 'ketendata-bench-sim-'));
  const heap: number[] = [];
  let probeCpu = 0;
  gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sink = opts.files ? undefined : new NullSink();
  const result = simulate({
    out,
    gemeenten: opts.gemeenten,
    clients: opts.clients,
    from: opts.from,
    to: opts.to,
    seed: 1,
    duplicates: 0.01,
    errors: 0.02,
    ...(sink ? { files: sink } : {}),
    onDay: (p) => {
      if (p.day.endsWith('-01')) {
        const p0 = process.cpuUsage();
        gc?.();
        heap.push(process.memoryUsage().heapUsed);
        const pc = process.cpuUsage(p0);
        probeCpu += (pc.user + pc.system) / 1e6;
      }
    },
  });
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  const total = (c.user + c.system) / 1e6;
  const cpu = total - probeCpu;
  rmSync(out, { recursive: true, force: true });
  const mb = (b: number) => `${Math.round(b / 1e6)} MB`;
  const half = heap.slice(Math.floor(heap.length / 2));
  console.log(
    `${label}: ${result.exchanges} exchanges, ${result.journeys} journeys; ` +
      `${Math.round(result.exchanges / cpu)} messages/s per CPU second (${cpu.toFixed(1)} s CPU; ` +
      `${Math.round(result.exchanges / total)}/s counting the probe's ${probeCpu.toFixed(1)} s of forced GC), ` +
      `${Math.round(result.exchanges / wall)} messages/s wall (${wall.toFixed(1)} s); ` +
      `heap after GC at month starts: ${heap.map(mb).join(' ')}; second half max ${mb(Math.max(...half))}`,
  );
  return result.exchanges / cpu;
}

const rate = run('generate, 10 municipalities, 8,000 clients, 2 years (files dropped)', {
  gemeenten: '10',
  clients: 8000,
  from: '2024-01-01',
  to: '2025-12-31',
  files: false,
});
run('write files, 3 municipalities, 1,000 clients, 1 year', {
  gemeenten: '3',
  clients: 1000,
  from: '2025-01-01',
  to: '2025-12-31',
  files: true,
});
console.log(
  `simulator: ${Math.round(rate)} messages/s on one core (files dropped, per CPU second; target 20,000) ${rate >= 20_000 ? 'OK' : 'BELOW TARGET'}`,
);
