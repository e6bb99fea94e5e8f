// What linking adds to ingest: `npm run bench -- links`. Target (issue #5): at most 25 % of ingest time.
// Simulated traffic is ingested into fresh stores with linking (the default) and without (`link: false`),
// alternating which goes first, after a warm-up; the best of each is compared, as wall and as CPU time.
// Relinking the whole store afterwards (`linkPending`, a bulk load's catch-up) is timed once per dialect.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveKeys } from '../src/pseudonymise/keys.js';
import { simulate } from '../src/simulate/simulate.js';
import type { Dialect } from '../src/store/database.js';
import type { Store } from '../src/store/open.js';
import { ingestSource } from '../src/usecases/ingest-exchanges.js';
import { openSource } from '../src/usecases/ingest-sources.js';
import { linkPending } from '../src/usecases/link-batch.js';
import { freshStore } from '../test/support/databases.js';

const CLIENTS = Number(process.env.KETENDATA_BENCH_CLIENTS ?? 300);
const BATCH = 1000;
const REPEAT = Number(process.env.KETENDATA_BENCH_REPEAT ?? 5);
const TARGET = 25;

const dir = mkdtempSync(join(tmpdir(), 'ketendata-bench-links-'));
const sim = simulate({
  out: dir,
  gemeenten: '4',
  clients: CLIENTS,
  from: '2024-01-01',
  to: '2024-12-31',
  seed: 42,
  duplicates: 0.01,
  errors: 0.02,
  clean: true,
});
console.log(
  `traffic: ${sim.exchanges} exchanges, ${CLIENTS} clients, batches of ${BATCH}; best of ${REPEAT} ` +
    `interleaved runs each; load average ${loadavg()[0]!.toFixed(1)} on the 2 cores (wall figures suffer from it)`,
);

const keys = deriveKeys('bench-secret-bench-secret-bench-secret-0123');
const now = () => new Date('2025-01-05T06:00:00Z');

interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Wall and CPU time (this process: PostgreSQL's own CPU shows in wall time only) of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<Timing> {
  globalThis.gc?.();
  const c = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(c);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function count(store: Store, table: 'message' | 'link'): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One ingest of the whole traffic into a fresh store; `after` sees the store before it is dropped. */
async function ingest(
  dialect: Dialect,
  link: boolean,
  after?: (store: Store) => Promise<void>,
): Promise<Timing> {
  const { store, drop } = await freshStore(dialect);
  try {
    const source = await openSource(dir);
    const t = await timed(() => ingestSource({ store, keys, now }, source, { batchSize: BATCH, link }));
    await after?.(store);
    return t;
  } finally {
    await drop();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const percent = (with_: number, without: number) => (100 * (with_ - without)) / without;

async function measure(dialect: Dialect): Promise<void> {
  await ingest(dialect, true); // warm-up: JIT, schema set, PostgreSQL caches
  const linked: Timing[] = [];
  const bare: Timing[] = [];
  for (let i = 0; i < REPEAT; i++) {
    // Alternate the order, so a drift in machine load weighs on both sides alike.
    if (i % 2 === 0) linked.push(await ingest(dialect, true));
    bare.push(await ingest(dialect, false));
    if (i % 2 === 1) linked.push(await ingest(dialect, true));
  }
  let stats = { messages: 0, links: 0, relink: { ms: 0, cpuMs: 0 } };
  await ingest(dialect, false, async (store) => {
    const relink = await timed(() => linkPending(store, { now: now(), batchSize: BATCH }));
    stats = { messages: await count(store, 'message'), links: await count(store, 'link'), relink };
  });
  const best = (runs: Timing[], f: (t: Timing) => number) => Math.min(...runs.map(f));
  const wall = { with: best(linked, (t) => t.ms), without: best(bare, (t) => t.ms) };
  const cpu = { with: best(linked, (t) => t.cpuMs), without: best(bare, (t) => t.cpuMs) };
  const addsWall = percent(wall.with, wall.without);
  const addsCpu = percent(cpu.with, cpu.without);
  const met = addsWall <= TARGET && addsCpu <= TARGET;
  const d = dialect.padEnd(8);
  console.log(
    `${d} ingest without linking ${seconds(wall.without)} wall, ${seconds(cpu.without)} cpu; ` +
      `with linking ${seconds(wall.with)} wall, ${seconds(cpu.with)} cpu (${stats.messages} messages)`,
  );
  console.log(
    `${d} linking inside ingest adds ${addsWall.toFixed(1)} % wall, ${addsCpu.toFixed(1)} % cpu: ` +
      `target ≤ ${TARGET} % ${met ? 'met' : 'NOT met'}`,
  );
  console.log(
    `${d} relinking the store afterwards (linkPending): ${seconds(stats.relink.ms)} wall, ` +
      `${seconds(stats.relink.cpuMs)} cpu, ${((1000 * stats.relink.ms) / stats.messages).toFixed(0)} µs/message, ` +
      `${stats.links} link events`,
  );
}

try {
  await measure('sqlite');
  await measure('postgres');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
