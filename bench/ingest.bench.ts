// Ingest throughput on SQLite and PostgreSQL beside the flatten throughput of the same corpus:
// `npm run bench -- ingest`. Corpus: simulated hub traffic (duplicates and broken exchanges included).
// Targets: ≥ 15,000 messages/s on SQLite, ≥ 20,000 on PostgreSQL. One process; PostgreSQL on 127.0.0.1.
// Under each ingest line: CPU per thread and the rate it allows at most (PostgreSQL server time not included).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { flattenFiles } from '../src/cli/flatten.js';
import { parseMessage } from '../src/ingest/index.js';
import { deriveKeys } from '../src/pseudonymise/keys.js';
import { ingestSource } from '../src/usecases/ingest-exchanges.js';
import { openSource } from '../src/usecases/ingest-sources.js';
import { freshStore } from '../test/support/databases.js';
import { SECRET } from '../test/support/exchange-fixtures.js';
import { simulatedTraffic } from '../test/support/simulated-traffic.js';

const CLIENTS = Number(process.env.KETENDATA_BENCH_CLIENTS ?? 2500);
const t0 = performance.now();
const traffic = simulatedTraffic({ clients: CLIENTS, seed: 5, errors: 0.02, duplicates: 0.01 });
const n = traffic.expected.received;
console.log(
  `corpus: ${n} exchanges (${traffic.expected.stored} messages, ${traffic.expected.duplicates} duplicates, ` +
    `${traffic.expected.quarantined} broken) from ${CLIENTS} simulated clients in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const line = (label: string, ms: number, extra = '') =>
  console.log(
    `${label.padEnd(40)} ${(n / (ms / 1000)).toFixed(0).padStart(7)} messages/s  ${(ms / 1000).toFixed(2).padStart(6)} s${extra}`,
  );
// CPU time of this thread's process (worker threads included): steadier than wall time on a shared machine.
const cpuMs = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};
const cpuNote = (ms: number) => `  (CPU ${(ms / 1000).toFixed(2)} s = ${(n / (ms / 1000)).toFixed(0)}/s)`;

// CPU per thread (Linux /proc, in clock ticks of 10 ms), sampled while ingest runs because worker threads
// are gone when it returns. Wall time cannot beat the busiest thread, nor the total spread over every core.
function threadCpu(): { stop(): number[] } {
  const ticks = () => {
    const out = new Map<string, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(tid, Number(f[11]) + Number(f[12]));
      } catch {
        // The thread ended between listing and reading.
      }
    }
    return out;
  };
  const start = ticks();
  const last = new Map(start);
  const sample = () => {
    for (const [tid, t] of ticks()) last.set(tid, t);
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return [...last].map(([tid, t]) => (t - (start.get(tid) ?? 0)) * 10).sort((a, b) => b - a);
    },
  };
}
const perThread = existsSync('/proc/self/task');
const threadNote = (ms: number[]) => {
  const total = ms.reduce((a, b) => a + b, 0);
  const bound = Math.max(ms[0] ?? 0, total / availableParallelism());
  const busiest = ms.slice(0, 2).map((t) => (t / 1000).toFixed(2));
  return (
    `\n${''.padEnd(40)} threads: busiest ${busiest.join(' s, ')} s, ${((total - (ms[0] ?? 0) - (ms[1] ?? 0)) / 1000).toFixed(2)} s in the others` +
    ` (V8 GC and compiler helpers), so this process allows at most ≈ ${(n / (bound / 1000)).toFixed(0)} messages/s on ${availableParallelism()} cores`
  );
};

const files = readFileSync(join(traffic.dir, 'manifest.ndjson'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => readFileSync(join(traffic.dir, (JSON.parse(l) as { file: string }).file)));
globalThis.gc?.();
let t = performance.now();
let cpu = process.cpuUsage();
for (const b of files) parseMessage(b, { file: 'bench' });
const parseCpu = cpuMs(cpu);
line('parseMessage (in memory)', performance.now() - t, cpuNote(parseCpu));

globalThis.gc?.();
t = performance.now();
await flattenFiles({
  inputs: [join(traffic.dir, 'berichten')],
  out: join(traffic.dir, 'flat'),
  secret: SECRET,
  onError: () => {},
});
line('ketendata flatten (files → CSV)', performance.now() - t);

const keys = deriveKeys(SECRET);
const targets = { sqlite: 15_000, postgres: 20_000 } as const;
const poolSize = Math.min(Math.max(availableParallelism() - 1, 1), 3);
console.log(
  `cores: ${availableParallelism()}, load average ${loadavg()[0]!.toFixed(1)} (figures scale with what else runs)`,
);
for (const dialect of ['sqlite', 'postgres'] as const) {
  for (const workers of [0, poolSize]) {
    const { store, drop } = await freshStore(dialect);
    try {
      globalThis.gc?.();
      t = performance.now();
      cpu = process.cpuUsage();
      const threads = perThread ? threadCpu() : undefined;
      const s = await ingestSource({ store, keys, now: () => new Date() }, await openSource(traffic.dir), {
        batchSize: 2000,
        workers,
      });
      const ms = performance.now() - t;
      const ingestCpu = cpuMs(cpu);
      const perThreadMs = threads?.stop();
      if (s.received !== n || s.stored !== traffic.expected.stored)
        throw new Error('ingest counts differ from the ground truth');
      const rate = n / (ms / 1000);
      line(
        `ingest ${dialect}, ${workers} parse workers`,
        ms,
        `  target ≥ ${targets[dialect]}: ${rate >= targets[dialect] ? 'met' : 'NOT met'}` +
          `${cpuNote(ingestCpu)}, parse ≈ ${((100 * parseCpu) / ingestCpu).toFixed(0)}% of it` +
          (perThreadMs ? threadNote(perThreadMs) : ''),
      );
      if (workers) continue;
      t = performance.now();
      cpu = process.cpuUsage();
      await ingestSource({ store, keys, now: () => new Date() }, await openSource(traffic.dir), {
        batchSize: 2000,
      });
      line(`ingest ${dialect} again (all known)`, performance.now() - t, cpuNote(cpuMs(cpu)));
    } finally {
      await drop();
    }
  }
}
rmSync(traffic.dir, { recursive: true, force: true });
