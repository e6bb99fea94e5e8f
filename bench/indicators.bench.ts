// Memory and time of the dashboard indicators: `npm run bench -- indicators`. The weekly run computes them
// over an organisation's whole history, so what `IndicatorAccumulator` keeps per message and per link is
// what grows with a municipality's history. Per history size (KETENDATA_BENCH_CLIENTS, a comma-separated
// list of simulated clients over two years), simulated traffic is ingested into a fresh SQLite store and its
// municipalities made one organisation. Then `computeIndicators` is timed (best of KETENDATA_BENCH_REPEAT
// runs). Memory is measured apart (forced full GCs would distort the time), on an accumulator fed as
// `computeIndicators` feeds it: heap after a forced GC once it is full (right before `values()`), minus the
// heap after a forced GC without it (median of three).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndicatorAccumulator } from '../src/indicators/indicators.js';
import { deriveKeys } from '../src/pseudonymise/keys.js';
import { simulate } from '../src/simulate/simulate.js';
import { linksInWindow, messagesInWindow } from '../src/store/deliveries.js';
import type { Store } from '../src/store/open.js';
import { insertOrganisation, type Organisation } from '../src/store/organisations.js';
import { deliveryMarks } from '../src/usecases/deliver-links.js';
import { computeIndicators } from '../src/usecases/indicators.js';
import { ingestSource } from '../src/usecases/ingest-exchanges.js';
import { openSource } from '../src/usecases/ingest-sources.js';
import { requireOrganisation } from '../src/usecases/organisations.js';
import { freshStore } from '../test/support/databases.js';
import { count } from './support.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench -- indicators does)');
const SIZES = (process.env.KETENDATA_BENCH_CLIENTS ?? '100,400,1600').split(',').map(Number);
const REPEAT = Number(process.env.KETENDATA_BENCH_REPEAT ?? 3);
const keys = deriveKeys('bench-secret-bench-secret-bench-secret-0123');
const now = new Date('2025-01-05T06:00:00Z');

function heapAfterGc(): number {
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Heap after a full GC, once the work queued so far has run (a gc inside a job keeps what it holds). */
async function settledHeap(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return heapAfterGc();
}

/** Heap after a full GC with a full accumulator, fed as `computeIndicators` feeds it, right before `values()`. */
async function heapWhenFull(store: Store, org: Organisation): Promise<number> {
  const { message: messageSeq, link: linkSeq } = await deliveryMarks(store);
  const acc = new IndicatorAccumulator();
  for await (const batch of linksInWindow(store, { gemeenten: org.members, seqFrom: 0, seqTo: linkSeq }))
    for (const l of batch) acc.addLink(l);
  for await (const batch of messagesInWindow(store, {
    gemeenten: org.members,
    seqFrom: 0,
    seqTo: messageSeq,
  }))
    for (const m of batch) acc.addMessage(m);
  const full = await settledHeap();
  acc.values(new Set(org.members), now);
  return full;
}

/**
 * What the full accumulator retains: its heap minus the lower of the heap before it was made and after it
 * was dropped (either can still hold an earlier one for a moment), median of three.
 */
async function retainedByAccumulator(store: Store, org: Organisation): Promise<number> {
  const rounds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = await settledHeap();
    const full = await heapWhenFull(store, org);
    rounds.push(full - Math.min(before, await settledHeap()));
  }
  return rounds.sort((x, y) => x - y)[1]!;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

async function measure(clients: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ketendata-bench-indicators-'));
  const { store, drop } = await freshStore('sqlite');
  try {
    const sim = simulate({
      out: dir,
      gemeenten: '4',
      clients,
      from: '2023-01-01',
      to: '2024-12-31',
      seed: 42,
      duplicates: 0.01,
      errors: 0.02,
      clean: true,
    });
    await ingestSource({ store, keys, now: () => now }, await openSource(dir), { batchSize: 1000 });
    const gemeenten = (await store.db.selectFrom('message').select('gemeente').distinct().execute())
      .map((r) => r.gemeente)
      .sort();
    await insertOrganisation(store.db, {
      code: 'R999',
      name: 'Alle gemeenten',
      kind: 'hoofdorganisatie',
      members: gemeenten,
      createdAt: now,
    });
    const org: Organisation = await requireOrganisation(store, 'R999');
    const messages = await count(store, 'message');
    const links = await count(store, 'link');

    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < REPEAT; i++) {
      gc!();
      const t0 = performance.now();
      await computeIndicators(store, org, { now });
      best = Math.min(best, performance.now() - t0);
    }

    const snap = await computeIndicators(store, org, { now });
    const retained = await retainedByAccumulator(store, org);
    console.log(
      `${String(clients).padStart(5)} clients: ${sim.exchanges} exchanges, ${messages} messages, ${links} link ` +
        `events, ${gemeenten.length} municipalities; computeIndicators ${(best / 1000).toFixed(2)} s ` +
        `(best of ${REPEAT}); accumulator retains ${mb(retained)}, ${(retained / messages).toFixed(0)} bytes ` +
        `per message (${snap.scopes.alle!.requestOutcome.requests} requests)`,
    );
  } finally {
    await drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `indicators over two years of simulated traffic, 4 municipalities; KETENDATA_BENCH_CLIENTS=${SIZES}`,
);
for (const clients of SIZES) await measure(clients);
