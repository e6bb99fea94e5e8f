import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runCliLines } from '../../test/support/cli.js';
import { freshStore } from '../../test/support/databases.js';
import { activeWithMessage, TEST_SECRET } from '../usecases/deliveries.fixtures.js';

const ACTIVATED = new Date('2024-03-01T10:00:00Z');
const SUNDAY = '2024-03-03T05:00:00.000Z';

/** A store with an active 0363 with one message, and a links replan due (as migration 0022 leaves it). */
async function withReplanDue() {
  const fresh = await freshStore('sqlite');
  await activeWithMessage(
    fresh.store,
    { code: '0363' },
    { activatedAt: ACTIVATED, messageAt: new Date('2024-03-02T09:00:00Z') },
  );
  await fresh.store.db.insertInto('link_replan').values({ id: 1, due_since: SUNDAY }).execute();
  return fresh;
}

describe('ketendata deliver with a links replan that fails', () => {
  it('makes the weekly, says on stderr that the replan failed and is tried again, and exits 1', async () => {
    const { store, dataDir, drop } = await withReplanDue();
    try {
      await sql`DROP TABLE link_key`.execute(store.db);
      const r = await runCliLines(['deliver', '--now', SUNDAY], {
        KETENDATA_DATA_DIR: dataDir,
        KETENDATA_SECRET: TEST_SECRET,
      });
      expect(r.code).toBe(1);
      expect(r.err).toEqual(['links replan failed: no such table: link_key; the next run tries again']);
      expect(r.out[0]).toMatch(
        /^made weekly delivery \d+ for 0363 \(slot 2024-03-03T05:00:00\.000Z, 1 message\)$/,
      );
      expect(r.out[1]).toBe('1 delivery made, 0 expired deliveries deleted');
    } finally {
      await drop();
    }
  });
});

describe('ketendata deliver with a links replan due', () => {
  it('says the replan is done before the deliveries it goes with', async () => {
    const { dataDir, drop } = await withReplanDue();
    try {
      const r = await runCliLines(['deliver', '--now', SUNDAY], {
        KETENDATA_DATA_DIR: dataDir,
        KETENDATA_SECRET: TEST_SECRET,
      });
      expect(r.code).toBe(0);
      expect(r.out[0]).toBe('links replanned: 0 added, 0 lapsed');
      expect(r.out[1]).toMatch(/^made weekly delivery \d+ for 0363 /);
    } finally {
      await drop();
    }
  });
});
