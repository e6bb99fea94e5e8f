import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore, rowCounts } from '../../test/support/databases.js';
import { exampleTraffic } from '../../test/support/exchange-fixtures.js';
import { simulatedTraffic } from '../../test/support/simulated-traffic.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { openStore, type Store } from '../store/open.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { oldStoreSecret, type ReprocessSummary, reprocessExchanges, sameStore } from './reprocess.js';
import { bindStoreSecret } from './store-secret.js';

const sim = simulatedTraffic({ clients: 25, seed: 11 });
const examples = exampleTraffic();
afterAll(() => {
  rmSync(sim.dir, { recursive: true, force: true });
  rmSync(examples.dir, { recursive: true, force: true });
});
const keysA = deriveKeys('the-old-secret-of-the-reprocess-test-aaaa');
const keysB = deriveKeys('the-new-secret-of-the-reprocess-test-bbbb');
const keysC = deriveKeys('a-third-secret-of-the-reprocess-test-cccc');
const now = () => new Date('2024-07-01T10:00:00Z');

const deps = (old: Store, store: Store) => ({
  old,
  oldRawRing: rawKeyRing(keysA.rawEncryption),
  store,
  keys: keysB,
  now,
  actor: 'cli:test',
  label: 'reprocess:test',
});

/** What the re-processed store holds, for comparing two of them. */
async function contents(store: Store) {
  return {
    counts: await rowCounts(store, ['message', 'exchange', 'quarantine', 'link', 'raw_message']),
    messages: (
      await store.db
        .selectFrom('message')
        .select(['bericht_id', 'passages', 'conflict', 'first_moment'])
        .orderBy('seq')
        .execute()
    ).map((m) => ({ ...m, passages: Number(m.passages), conflict: Number(m.conflict) })),
    // As a set: within a batch links are written in an order of their own, so other batches order them otherwise.
    links: (
      await store.db
        .selectFrom('link')
        .select(['type', 'mutatie', 'from_bericht_id', 'from_row', 'to_bericht_id', 'to_row'])
        .execute()
    )
      .map((l) => JSON.stringify(l))
      .sort(),
  };
}

describe.each(DIALECTS)('reprocessExchanges on %s', (dialect) => {
  it('continues after an interruption where it stopped, ending as one uninterrupted run does', async () => {
    const old = await freshStore(dialect);
    const once = await freshStore(dialect);
    const twice = await freshStore(dialect);
    try {
      const ingested = await ingestSource({ store: old.store, keys: keysA, now }, await openSource(sim.dir));
      expect(ingested.quarantined).toBeGreaterThan(0);
      expect(ingested.duplicates).toBeGreaterThan(0);
      const total = ingested.received;

      const whole = await reprocessExchanges(deps(old.store, once.store), { batchSize: 50 });
      expect(whole).toMatchObject({
        total,
        received: total,
        stored: ingested.stored,
        duplicates: ingested.duplicates,
        conflicts: ingested.conflicts,
        quarantined: ingested.quarantined,
        skipped: 0,
      });

      // Stopped after three batches of 7: those are written (one transaction each), the rest not read.
      const stop = new AbortController();
      let batches = 0;
      const first = await reprocessExchanges(deps(old.store, twice.store), {
        batchSize: 7,
        signal: stop.signal,
        onProgress: () => {
          if (++batches === 3) stop.abort();
        },
      });
      expect(first.received).toBe(21);
      expect((await rowCounts(twice.store, ['exchange'])).exchange).toBe(21);
      const rest: ReprocessSummary = await reprocessExchanges(deps(old.store, twice.store), { batchSize: 7 });
      expect(rest.received).toBe(total);
      expect(rest.skipped).toBe(21);
      expect(rest.stored + rest.duplicates + rest.quarantined).toBe(total - 21);
      expect(await contents(twice.store)).toEqual(await contents(once.store));
      // And once more: nothing is added.
      const again = await reprocessExchanges(deps(old.store, twice.store), { batchSize: 500 });
      expect(again).toMatchObject({
        received: total,
        skipped: total,
        stored: 0,
        duplicates: 0,
        quarantined: 0,
      });
      expect(await contents(twice.store)).toEqual(await contents(once.store));
    } finally {
      await old.drop();
      await once.drop();
      await twice.drop();
    }
  }, 120_000);

  it('keeps what identifies each exchange: the same hub extract ingested after the rotation is already ingested (but a bad manifest line)', async () => {
    const old = await freshStore(dialect);
    const fresh = await freshStore(dialect);
    try {
      await ingestSource({ store: old.store, keys: keysA, now }, await openSource(examples.dir));
      const s = await reprocessExchanges(deps(old.store, fresh.store));
      expect(s).toMatchObject({ ...examples.expected, skipped: 0 });
      const before = await rowCounts(fresh.store, [
        'message',
        'exchange',
        'quarantine',
        'raw_message',
        'link',
      ]);
      // Every exchange of it: the messages, the re-sent JW301 under its own hub id (kept with the first
      // one's bytes), the missing file. Not the bad manifest line: ingest names it by its folder's real path
      // too, which the old store did not keep (docs/cli.md, reprocess): it is an item again.
      const again = await ingestSource(
        { store: fresh.store, keys: keysB, now },
        await openSource(examples.dir),
      );
      expect(again).toMatchObject({
        received: examples.expected.received,
        skipped: examples.expected.received - 1,
        stored: 0,
        duplicates: 0,
        quarantined: 1,
        quarantinedByReason: { 'ingest.manifest_invalid': 1 },
      });
      expect(
        await rowCounts(fresh.store, ['message', 'exchange', 'quarantine', 'raw_message', 'link']),
      ).toEqual({
        ...before,
        exchange: before.exchange + 1,
        quarantine: before.quarantine + 1,
        raw_message: before.raw_message + 1,
      });
    } finally {
      await old.drop();
      await fresh.drop();
    }
  }, 60_000);

  it('cuts batches by raw bytes as well as by count, and writes nothing to the old store', async () => {
    const old = await freshStore(dialect);
    const fresh = await freshStore(dialect);
    try {
      await ingestSource({ store: old.store, keys: keysA, now }, await openSource(examples.dir));
      const before = await rowCounts(old.store, [
        'message',
        'exchange',
        'quarantine',
        'raw_message',
        'ingest_run',
      ]);
      let batches = 0;
      const s = await reprocessExchanges(deps(old.store, fresh.store), {
        batchSize: 1000,
        batchBytes: 1,
        onProgress: () => batches++,
      });
      // One exchange a batch: each is over the byte cap alone.
      expect(batches).toBe(before.exchange);
      expect(s.received).toBe(before.exchange);
      expect(
        await rowCounts(old.store, ['message', 'exchange', 'quarantine', 'raw_message', 'ingest_run']),
      ).toEqual(before);
    } finally {
      await old.drop();
      await fresh.drop();
    }
  }, 60_000);

  it('finds the old store’s secret in the file, and refuses raw messages under a key none of the secrets provides', async () => {
    const old = await freshStore(dialect);
    try {
      await bindStoreSecret(old.store, keysA, { now: now() });
      await ingestSource({ store: old.store, keys: keysA, now }, await openSource(examples.dir));
      expect(await oldStoreSecret(old.store, [keysC, keysA], keysB, 'the old store')).toBe(keysA);
      await expect(oldStoreSecret(old.store, [keysC], keysB, 'the old store')).rejects.toThrow(
        /^keys\.secret_mismatch: the old store was built with a master secret that is none of the previous-secret file's/,
      );
      // Raw messages of a third secret (an ingest under it that ran beside): not re-processable without it.
      await ingestSource({ store: old.store, keys: keysC, now }, await openSource(sim.dir));
      await expect(oldStoreSecret(old.store, [keysA], keysB, 'the old store')).rejects.toThrow(
        `keys.unknown_raw_key: the old store holds raw messages under key ${keysC.rawKeyId}`,
      );
      expect(await oldStoreSecret(old.store, [keysA, keysC], keysB, 'the old store')).toBe(keysA);
    } finally {
      await old.drop();
    }
  }, 60_000);

  it('tells the same store, however named, from another', async () => {
    const a = await freshStore(dialect);
    const b = await freshStore(dialect);
    try {
      const optsA = { databaseUrl: a.url, dataDir: a.dataDir };
      const optsB = { databaseUrl: b.url, dataDir: b.dataDir };
      // The same store under another name: `localhost` for 127.0.0.1, or the folder with a trailing `/.`.
      const alias = a.url
        ? { databaseUrl: a.url.replace('127.0.0.1', 'localhost'), dataDir: a.dataDir }
        : { databaseUrl: undefined, dataDir: `${a.dataDir}/.` };
      const again = await openStore(alias);
      try {
        expect(await sameStore(a.store, optsA, again, alias)).toBe(true);
        expect(await sameStore(a.store, optsA, b.store, optsB)).toBe(false);
      } finally {
        await again.close();
      }
    } finally {
      await a.drop();
      await b.drop();
    }
  }, 60_000);
});
