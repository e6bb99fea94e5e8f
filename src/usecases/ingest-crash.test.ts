import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { SECRET } from '../../test/support/exchange-fixtures.js';
import { simulatedTraffic } from '../../test/support/simulated-traffic.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';

const traffic = simulatedTraffic({ clients: 80, seed: 11 });
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const CHILD = join(import.meta.dirname, '..', '..', 'test', 'support', 'ingest-child.ts');

/** Runs the child and SIGKILLs it as soon as it reports `batches` committed batches. */
function ingestAndKill(
  dataDir: string,
  url: string | undefined,
  batches: number,
): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, traffic.dir, dataDir, url ?? ''], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let seen = 0;
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      seen += chunk.split('\n').filter((l) => l.startsWith('batch')).length;
      if (seen >= batches && !killed) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ killed }));
  });
}

/** The store's content without surrogate ids, run ids and timestamps: what must be identical after recovery. */
async function snapshot(store: Store) {
  const messages = await store.db
    .selectFrom('message')
    .select([
      'bericht_id',
      'code',
      'gemeente',
      'key_hash',
      'content_hash',
      'conflict',
      'first_moment',
      'hub_id',
      'passages',
      'rows',
    ])
    .orderBy('seq')
    .execute();
  const exchanges = await store.db
    .selectFrom('exchange')
    .leftJoin('message', 'message.seq', 'exchange.message_seq')
    .leftJoin('quarantine', 'quarantine.id', 'exchange.quarantine_id')
    .select(['exchange.exchange_key', 'exchange.moment', 'message.bericht_id', 'quarantine.reason_code'])
    .orderBy('exchange.exchange_key')
    .execute();
  const raws = await store.db
    .selectFrom('raw_message')
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { messages, exchanges, raws: Number(raws.n) };
}

describe.each(DIALECTS)('crash safety on %s', (dialect) => {
  it('converges to exactly the store of an uninterrupted run after kill -9 mid-ingest and the same ingest again', async () => {
    const reference = await freshStore(dialect);
    const crashed = await freshStore(dialect);
    try {
      const keys = deriveKeys(SECRET);
      const now = () => new Date('2024-07-01T08:00:00Z');
      await ingestSource({ store: reference.store, keys, now }, await openSource(traffic.dir), {
        batchSize: 40,
      });
      const expected = await snapshot(reference.store);

      const { killed } = await ingestAndKill(crashed.dataDir, crashed.url, 3);
      expect(killed).toBe(true);
      const partial = await snapshot(crashed.store);
      expect(partial.exchanges.length).toBeGreaterThanOrEqual(3 * 40);
      expect(partial.exchanges.length).toBeLessThan(traffic.expected.received);

      const rerun = await ingestSource({ store: crashed.store, keys, now }, await openSource(traffic.dir), {
        batchSize: 40,
      });
      expect(rerun.skipped).toBe(partial.exchanges.length);
      expect(await snapshot(crashed.store)).toEqual(expected);
    } finally {
      await reference.drop();
      await crashed.drop();
    }
  });
});
