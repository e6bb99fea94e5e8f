// Simulator throughput and memory, per CPU second of this process (the "one core" figure: the run is
// single-threaded). The same run three times: generation alone (a sink that encodes each message and drops
// it), the output written as one ZIP (`--out x.zip`), and as a folder with one file per exchange. The
// forced GCs of the memory probe are timed and taken out of the CPU figure (they are the bench's own
// work, not the simulator's); the figure with them is printed too.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaSet } from '../src/schema/releases.js';
import { NullSink } from '../src/simulate/output.js';
import { simulate } from '../src/simulate/simulate.js';

const gc = (globalThis as { gc?: () => void }).gc;
schemaSet();

const TARGET = 20_000;
const run = { gemeenten: '10', clients: 8000, from: '2024-01-01', to: '2025-12-31' };
const described = '10 municipalities, 8,000 clients, 2 years';

function measure(label: string, output: 'dropped' | 'zip' | 'folder'): number {
  const dir = mkdtempSync(join(tmpdir(), 'ketendata-bench-sim-'));
  const out = output === 'zip' ? join(dir, 'traffic.zip') : join(dir, 'traffic');
  const heap: number[] = [];
  let probeCpu = 0;
  gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = simulate({
    ...run,
    out,
    seed: 1,
    duplicates: 0.01,
    errors: 0.02,
    ...(output === 'dropped' ? { files: new NullSink() } : {}),
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
  const size = output === 'zip' ? ` (${Math.round(statSync(out).size / 1e6)} MB ZIP)` : '';
  rmSync(dir, { recursive: true, force: true });
  const mb = (b: number) => `${Math.round(b / 1e6)} MB`;
  const half = heap.slice(Math.floor(heap.length / 2));
  const rate = result.exchanges / cpu;
  console.log(
    `${label}${size}: ${result.exchanges} exchanges, ${result.journeys} journeys; ` +
      `${Math.round(rate)} messages/s per CPU second (${cpu.toFixed(1)} s CPU: ` +
      `${(c.user / 1e6).toFixed(1)} user + ${(c.system / 1e6).toFixed(1)} system, less the probe; ` +
      `${Math.round(result.exchanges / total)}/s counting the probe's ${probeCpu.toFixed(1)} s of forced GC), ` +
      `${Math.round(result.exchanges / wall)} messages/s wall (${wall.toFixed(1)} s); ` +
      `heap after GC at month starts: ${heap.map(mb).join(' ')}; second half max ${mb(Math.max(...half))}`,
  );
  return rate;
}

const verdict = (rate: number) => `${Math.round(rate)}/s ${rate >= TARGET ? 'OK' : 'BELOW TARGET'}`;
const generated = measure(`generate only, ${described} (files dropped)`, 'dropped');
const zipped = measure(`write one ZIP, ${described}`, 'zip');
const folder = measure(`write a folder (one file per exchange), ${described}`, 'folder');
console.log(
  `simulator on one core, per CPU second (target ${TARGET.toLocaleString('en')}): output written as ZIP ${verdict(zipped)}; ` +
    `as a folder ${verdict(folder)}; generation alone ${verdict(generated)}`,
);
