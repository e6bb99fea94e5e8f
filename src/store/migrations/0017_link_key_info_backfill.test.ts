import { rmSync } from 'node:fs';
import { type Kysely, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import { exampleTraffic, SECRET } from '../../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../../pseudonymise/keys.js';
import { ingestSource } from '../../usecases/ingest-exchanges.js';
import { openSource } from '../../usecases/ingest-sources.js';
import { backfillLinkKeyInfo } from './0017_link_key_info_backfill.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));

describe.each(DIALECTS)('migration 0017 on %s', (dialect) => {
  it('gives entries indexed before the info linking now reads, as ingest writes it', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource(
        { store, keys: deriveKeys(SECRET), now: () => new Date('2024-03-05T10:00:00Z') },
        await openSource(traffic.dir),
      );
      const read = () =>
        store.db
          .selectFrom('link_key')
          .select(['keyspace', 'tag', 'bericht_id', 'tbl', 'row', 'info'])
          .where((eb) =>
            eb.or([
              eb.and([eb('keyspace', '=', 'twn'), eb('tag', '=', 'toewijzing')]),
              eb.and([eb('keyspace', '=', 'start'), eb('tag', '=', 'stop')]),
            ]),
          )
          .orderBy(['bericht_id', 'keyspace', 'tbl', 'row'])
          .execute();
      const written = await read();
      expect(written.some((e) => e.tag === 'toewijzing' && /^\d{4}-\d{2}-\d{2}\|/.test(e.info))).toBe(true);
      expect(written.some((e) => e.tag === 'stop' && /^[13]\|/.test(e.info))).toBe(true);
      // As a store indexed them before: a 301 row without its version time, a stop with its status alone.
      await sql`UPDATE link_key SET info = '' WHERE keyspace = 'twn' AND tag = 'toewijzing'`.execute(
        store.db,
      );
      await sql`UPDATE link_key SET info = substr(info, 1, 1) WHERE keyspace = 'start' AND tag = 'stop'`.execute(
        store.db,
      );
      expect(await read()).not.toEqual(written);
      expect(await backfillLinkKeyInfo(store.db as unknown as Kysely<unknown>)).toBe(written.length);
      expect(await read()).toEqual(written);
      // Nothing left to fill: a second run changes nothing.
      expect(await backfillLinkKeyInfo(store.db as unknown as Kysely<unknown>)).toBe(0);
    } finally {
      await drop();
    }
  });
});
