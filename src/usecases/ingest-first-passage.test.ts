import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { testBsn, testKeys, testMessage } from './deliveries.fixtures.js';
import { ingestOne, ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-first-passage-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const LATER = { moment: '2026-07-01T10:00:00.000Z', hubId: 'H2', verzender: '0363', ontvanger: '12345678' };
const EARLIER = { moment: '2026-06-24T12:50:00.000Z', hubId: 'H1', verzender: '0363', ontvanger: '87654321' };

describe.each(DIALECTS)('the first passage of a message on %s', (dialect) => {
  const firstPassage = async (store: Awaited<ReturnType<typeof freshStore>>['store']) =>
    store.db
      .selectFrom('message')
      .select(['first_moment', 'hub_id', 'ontvanger_hub', 'passages'])
      .executeTakeFirstOrThrow();

  it('is the earliest passage, also when an earlier one is ingested after a later one', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const bytes = Buffer.from(testMessage('JW301', '0363', testBsn(9101)), 'utf8');
      const deps = { store, keys: testKeys(), now: () => new Date('2026-07-02T00:00:00Z') };
      const pass = (p: typeof LATER) => ingestOne(deps, { source: 'x.xml', bytes, ...p });
      expect((await pass(LATER)).outcome).toBe('stored');
      expect((await pass(EARLIER)).outcome).toBe('duplicate');
      expect(await firstPassage(store)).toMatchObject({
        first_moment: EARLIER.moment,
        hub_id: EARLIER.hubId,
        ontvanger_hub: EARLIER.ontvanger,
      });
      // A later passage after that changes nothing but the count.
      await pass({ ...LATER, hubId: 'H3', moment: '2026-07-05T10:00:00.000Z' });
      const after = await firstPassage(store);
      expect(after.first_moment).toBe(EARLIER.moment);
      expect(Number(after.passages)).toBe(3);
    } finally {
      await drop();
    }
  });

  it('is the earliest passage when both come in one batch, the later one first', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const folder = mkdtempSync(join(work, `one-batch-${dialect}-`));
      writeFileSync(join(folder, 'x.xml'), testMessage('JW301', '0363', testBsn(9102)));
      writeFileSync(
        join(folder, 'manifest.ndjson'),
        [LATER, EARLIER].map((p) => JSON.stringify({ file: 'x.xml', ...p })).join('\n'),
      );
      const summary = await ingestSource(
        { store, keys: testKeys(), now: () => new Date('2026-07-02T00:00:00Z') },
        await openSource(folder),
      );
      expect(summary).toMatchObject({ stored: 1, duplicates: 1 });
      expect(await firstPassage(store)).toMatchObject({
        first_moment: EARLIER.moment,
        hub_id: EARLIER.hubId,
        ontvanger_hub: EARLIER.ontvanger,
      });
    } finally {
      await drop();
    }
  });
});
