import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { SECRET } from '../../test/support/exchange-fixtures.js';
import { simulatedTraffic } from '../../test/support/simulated-traffic.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';

const traffic = simulatedTraffic();
const keys = deriveKeys(SECRET);
const now = () => new Date('2024-07-01T08:00:00Z');

beforeAll(() => {
  // Two manifests that interleave: messages that belong together arrive in different, concurrent ingests.
  const lines = readFileSync(join(traffic.dir, 'manifest.ndjson'), 'utf8').trim().split('\n');
  for (const parity of [0, 1]) {
    const half = lines.filter((_, i) => i % 2 === parity);
    writeFileSync(join(traffic.dir, `half${parity}.ndjson`), `${half.join('\n')}\n`);
  }
});
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));

const ingest = async (store: Store, path: string) =>
  ingestSource({ store, keys, now }, await openSource(path), { batchSize: 50 });

async function count(store: Store, table: 'message' | 'exchange' | 'quarantine'): Promise<number> {
  const r = await store.db
    .selectFrom(table)
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The links that hold at the end: the event log's order differs with arrival order, what holds does not. */
async function holdingLinks(store: Store): Promise<string[]> {
  const rows = await store.db
    .selectFrom('link')
    .select(['type', 'mutatie', 'from_bericht_id', 'from_row', 'to_bericht_id', 'to_row'])
    .orderBy('seq')
    .execute();
  const holds = new Map<string, boolean>();
  for (const { mutatie, ...link } of rows) holds.set(Object.values(link).join(' '), mutatie === 'toegevoegd');
  return [...holds].flatMap(([link, held]) => (held ? [link] : [])).sort();
}

// The hub's live feed and an operator's catch-up load can carry the same exchanges at the same time.
describe.each(DIALECTS)('concurrent ingests into the %s store', (dialect) => {
  it('all finish; every message and exchange is stored once and linked as by one ingest', async () => {
    const sequential = await freshStore(dialect);
    const concurrent = await freshStore(dialect);
    try {
      await ingest(sequential.store, traffic.dir);
      const store = concurrent.store;
      const runs = await Promise.all([
        ingest(store, traffic.dir),
        ingest(store, traffic.dir),
        ingest(store, join(traffic.dir, 'half0.ndjson')),
        ingest(store, join(traffic.dir, 'half1.ndjson')),
      ]);
      for (const r of runs.slice(0, 2)) expect(r.received).toBe(traffic.expected.received);
      expect(await count(store, 'message')).toBe(traffic.expected.stored);
      expect(await count(store, 'quarantine')).toBe(traffic.expected.quarantined);
      expect(await count(store, 'exchange')).toBe(
        traffic.expected.stored + traffic.expected.duplicates + traffic.expected.quarantined,
      );
      const passages = await store.db
        .selectFrom('message')
        .select(({ fn }) => fn.sum<number>('passages').as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(passages.n)).toBe(traffic.expected.stored + traffic.expected.duplicates);
      const links = await holdingLinks(store);
      expect(links.length).toBeGreaterThan(100);
      expect(links).toEqual(await holdingLinks(sequential.store));
      expect(await ingest(store, traffic.dir)).toMatchObject({ stored: 0, duplicates: 0, quarantined: 0 });
    } finally {
      await sequential.drop();
      await concurrent.drop();
    }
  }, 120_000);
});
