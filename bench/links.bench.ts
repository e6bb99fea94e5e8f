// What linking adds to ingest: `npm run bench -- links`. Target (issue #5): at most 25 % of ingest time.
// Simulated traffic is ingested into fresh stores with linking (the default) and without (`link: false`),
// with the parse workers `ketendata ingest` would start (or KETENDATA_BENCH_WORKERS), in rounds of one each
// after a warm-up; the median of the rounds' differences is the figure, as wall and as CPU time (this process only:
// PostgreSQL's own work shows in wall time).
// Relinking the whole store afterwards (`linkPending`, a bulk load's catch-up) is timed once per dialect.

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveKeys } from '../src/pseudonymise/keys.js';
import { simulate } from '../src/simulate/simulate.js';
import type { Dialect } from '../src/store/database.js';
import { LINKABLE_MESSAGE_COLUMNS } from '../src/store/links.js';
import type { Store } from '../src/store/open.js';
import { withIngestLock } from '../src/store/watermark.js';
import { defaultParseWorkers, ingestSource } from '../src/usecases/ingest-exchanges.js';
import { openSource } from '../src/usecases/ingest-sources.js';
import { linkMessagesInTx, linkPending } from '../src/usecases/link-batch.js';
import { freshStore } from '../test/support/databases.js';
import { count } from './support.js';

const CLIENTS = Number(process.env.KETENDATA_BENCH_CLIENTS ?? 300);
const BATCH = 1000;
// Eleven rounds: on a shared 2-core machine one round's difference ranges from about 1 to 38 %, and the median
// of five moved by some 5 points from one run of the bench to the next.
const REPEAT = Number(process.env.KETENDATA_BENCH_REPEAT ?? 11);
const TARGET = 25;
// Parse workers as `ketendata ingest` starts them when not told (`defaultParseWorkers`: one per core beyond
// the writing thread for an input this size; they also compute the link entries); KETENDATA_BENCH_WORKERS
// sets them (0: parse on the writing thread). CPU time includes the workers'.
const WORKERS_SET = process.env.KETENDATA_BENCH_WORKERS;

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
const WORKERS = WORKERS_SET === undefined ? defaultParseWorkers(sim.exchanges) : Number(WORKERS_SET);
console.log(
  `traffic: ${sim.exchanges} exchanges, ${CLIENTS} clients, batches of ${BATCH}, ${WORKERS} parse workers ` +
    `(${WORKERS_SET === undefined ? 'as ketendata ingest chooses here' : 'KETENDATA_BENCH_WORKERS'}); ` +
    `${REPEAT} rounds; ` +
    `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores (other load inflates the figures)`,
);

const keys = deriveKeys('bench-secret-bench-secret-bench-secret-0123');
const now = () => new Date('2025-01-05T06:00:00Z');

interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Wall and CPU time of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<Timing> {
  globalThis.gc?.();
  const c = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(c);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
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
    const t = await timed(() =>
      ingestSource({ store, keys, now }, source, { batchSize: BATCH, link, workers: WORKERS }),
    );
    await after?.(store);
    return t;
  } finally {
    await drop();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const percent = (with_: number, without: number) => (100 * (with_ - without)) / without;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

type Round = { linked: Timing; bare: Timing; replay: Timing };

/** A figure of each round: its median over the rounds, and its range. */
function spread(rounds: readonly Round[], f: (r: Round) => number) {
  const adds = rounds.map((r) => f(r));
  return { median: median(adds), min: Math.min(...adds), max: Math.max(...adds) };
}

/**
 * Linking alone, as ingest does it (batch by batch, the rows in memory), replayed on a store ingested
 * without it: a second view of its cost, measured right after the ingest it is compared with.
 */
async function replayLinking(store: Store): Promise<Timing> {
  const stored = await store.db
    .selectFrom('message')
    .select(LINKABLE_MESSAGE_COLUMNS)
    .orderBy('seq')
    .execute();
  const messages = stored.map((m) => ({ ...m, seq: Number(m.seq), rows: JSON.parse(m.rows) }));
  return timed(async () => {
    for (let i = 0; i < messages.length; i += BATCH) {
      const batch = messages.slice(i, i + BATCH);
      await withIngestLock(store, (tx) => linkMessagesInTx(tx, batch, now().toISOString()));
    }
  });
}

async function measure(dialect: Dialect): Promise<void> {
  await ingest(dialect, true); // warm-up: JIT, schema set, PostgreSQL caches
  // A round is one ingest with linking and one without, back to back (alternating which goes first), so
  // both meet the same machine load; the median over the rounds resists the other load on a shared machine.
  const rounds: Round[] = [];
  for (let i = 0; i < REPEAT; i++) {
    let replay: Timing | undefined;
    const bareRun = () =>
      ingest(dialect, false, async (store) => {
        replay = await replayLinking(store);
      });
    const linkedFirst = i % 2 === 0;
    const a = await (linkedFirst ? ingest(dialect, true) : bareRun());
    const b = await (linkedFirst ? bareRun() : ingest(dialect, true));
    rounds.push({ linked: linkedFirst ? a : b, bare: linkedFirst ? b : a, replay: replay! });
  }
  let stats = { messages: 0, links: 0, relink: { ms: 0, cpuMs: 0 } };
  await ingest(dialect, false, async (store) => {
    const relink = await timed(() => linkPending(store, { now: now(), batchSize: BATCH }));
    stats = { messages: await count(store, 'message'), links: await count(store, 'link'), relink };
  });
  const best = (f: (t: Timing) => number, side: 'linked' | 'bare') =>
    Math.min(...rounds.map((r) => f(r[side])));
  const wall = spread(rounds, (r) => percent(r.linked.ms, r.bare.ms));
  const cpu = spread(rounds, (r) => percent(r.linked.cpuMs, r.bare.cpuMs));
  const alone = spread(rounds, (r) => (100 * r.replay.cpuMs) / r.bare.cpuMs);
  const met = wall.median <= TARGET && cpu.median <= TARGET;
  const range = (o: { min: number; max: number }) => `${o.min.toFixed(0)} to ${o.max.toFixed(0)}`;
  const d = dialect.padEnd(8);
  console.log(
    `${d} ingest without linking ${seconds(best((t) => t.ms, 'bare'))} wall, ${seconds(best((t) => t.cpuMs, 'bare'))} cpu; ` +
      `with linking ${seconds(best((t) => t.ms, 'linked'))} wall, ${seconds(best((t) => t.cpuMs, 'linked'))} cpu ` +
      `(best of ${REPEAT}; ${stats.messages} messages)`,
  );
  console.log(
    `${d} linking inside ingest adds ${wall.median.toFixed(1)} % wall, ${cpu.median.toFixed(1)} % cpu ` +
      `(median of ${REPEAT} rounds; ranges ${range(wall)} % and ${range(cpu)} %): target ≤ ${TARGET} % ${met ? 'met' : 'NOT met'}`,
  );
  console.log(
    `${d} linking alone, replayed batch by batch after the ingest without it: ${alone.median.toFixed(1)} % of ` +
      `its cpu (median; range ${range(alone)} %)`,
  );
  console.log(
    `${d} relinking the store afterwards (linkPending): ${seconds(stats.relink.ms)} wall, ` +
      `${seconds(stats.relink.cpuMs)} cpu, ${((1000 * stats.relink.ms) / stats.messages).toFixed(0)} µs/message, ` +
      `${stats.links} link events`,
  );
}

// KETENDATA_BENCH_DIALECTS=sqlite (or postgres) measures one store only.
const dialects = (process.env.KETENDATA_BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Dialect[];
try {
  for (const dialect of dialects) await measure(dialect);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
