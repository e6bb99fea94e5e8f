import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { SECRET } from '../../test/support/exchange-fixtures.js';
import { clearIdentifiers, findClear, simulatedTraffic } from '../../test/support/simulated-traffic.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';

const traffic = simulatedTraffic();
const canaries = clearIdentifiers(traffic.dir);
// Random ciphertext holds a 5- or 6-digit canary by chance (~1 in 8,000 runs); one of 9+ characters ~1e-20.
const longCanaries = new Set([...canaries].filter((c) => c.length >= 9));
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const keys = deriveKeys(SECRET);
const now = () => new Date('2024-07-01T08:00:00Z');

/** Every cell of every table of the store: text cells, and binary cells read as latin1. */
async function dumpTables(store: Store): Promise<{ text: string; binary: string }> {
  const tables =
    store.dialect === 'postgres'
      ? await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(
          store.db,
        )
      : await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db);
  let text = '';
  let binary = '';
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(store.db);
    for (const row of rows.rows) {
      for (const v of Object.values(row)) {
        if (Buffer.isBuffer(v) || v instanceof Uint8Array) binary += `\n${Buffer.from(v).toString('latin1')}`;
        else text += `\n${String(v)}`;
      }
    }
  }
  return { text, binary };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe.each(DIALECTS)('simulated traffic into the %s store', (dialect) => {
  it("matches the simulator's ground truth exactly, and a second run adds nothing", async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const first = await ingestSource({ store, keys, now }, await openSource(traffic.dir), {
        batchSize: 250,
      });
      expect(traffic.expected.quarantined).toBeGreaterThan(0);
      expect(traffic.expected.duplicates).toBeGreaterThan(0);
      expect({
        received: first.received,
        stored: first.stored,
        duplicates: first.duplicates,
        quarantined: first.quarantined,
        quarantinedByReason: first.quarantinedByReason,
      }).toEqual(traffic.expected);
      expect(first.conflicts).toBe(0);
      const second = await ingestSource({ store, keys, now }, await openSource(traffic.dir), {
        batchSize: 250,
      });
      expect(second).toMatchObject({
        stored: 0,
        duplicates: 0,
        quarantined: 0,
        skipped: traffic.expected.received,
      });
      const n = await store.db
        .selectFrom('message')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(traffic.expected.stored);
    } finally {
      await drop();
    }
  });

  it('holds no clear BSN or identifier in any table or in any file it writes', async () => {
    const { store, dataDir, drop } = await freshStore(dialect);
    try {
      expect(canaries.size).toBeGreaterThan(100);
      expect(longCanaries.size).toBeGreaterThan(100);
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const { text, binary } = await dumpTables(store);
      expect(text).toContain('ingest.xsd_invalid');
      expect(binary.length).toBeGreaterThan(0);
      expect(findClear(text, canaries)).toEqual([]);
      expect(findClear(binary, longCanaries)).toEqual([]);
      if (dialect === 'sqlite')
        await store.db.executeQuery(sql`pragma wal_checkpoint(TRUNCATE)`.compile(store.db));
      const files = filesUnder(dataDir);
      if (dialect === 'sqlite') expect(files.some((f) => f.endsWith('.sqlite'))).toBe(true);
      for (const f of files) {
        // The SQLite file holds the ciphertext too; text cells had every canary above.
        const scan = /\.sqlite(-wal|-shm|-journal)?$/.test(f) ? longCanaries : canaries;
        expect(findClear(readFileSync(f).toString('latin1'), scan), f).toEqual([]);
      }
    } finally {
      await drop();
    }
  });

  it('the canary scan does find a clear identifier where one is (the scan itself works)', () => {
    const one = [...canaries][0]!;
    expect(findClear(`{"x":"${one}"}`, canaries)).toEqual([one]);
    expect(findClear(`ab${one}cd`, canaries)).toEqual([]);
  });
});
