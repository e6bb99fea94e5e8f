import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runCliLines } from '../../test/support/cli.js';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import type { Store } from '../store/open.js';
import { pidNamespace } from '../usecases/deliver.js';
import { activeWithMessage, claimWeeklySlot, TEST_SECRET, testBsn } from '../usecases/deliveries.fixtures.js';

const ACTIVATED = new Date('2024-03-01T10:00:00Z');
const SUNDAY = '2024-03-03T05:00:00.000Z';
const env = (dataDir: string, url: string | undefined) => ({
  KETENDATA_DATA_DIR: dataDir,
  KETENDATA_SECRET: TEST_SECRET,
  ...(url ? { KETENDATA_DATABASE_URL: url } : {}),
});

async function setUp(store: Store, codes: readonly string[]) {
  for (const [i, code] of codes.entries()) {
    await activeWithMessage(
      store,
      { code },
      { activatedAt: ACTIVATED, messageAt: new Date('2024-03-02T09:00:00Z') },
      testBsn(400 + i),
    );
  }
}

const claimSunday = (store: Store, worker: string, leaseUntil: Date) =>
  claimWeeklySlot(store, { slot: SUNDAY, worker, leaseUntil, claimedAt: new Date() });

for (const dialect of DIALECTS) {
  describe(`ketendata deliver on ${dialect}`, () => {
    it('exits 1 when another worker runs the Sunday, saying until when its claim holds; takes over the claim of a run on this host that has ended', async () => {
      const { store, url, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363']);
        const lease = new Date(Date.now() + 4 * 60_000);
        await claimSunday(store, 'other-host.example:4242:abcdef', lease);
        const busy = await runCliLines(['deliver', '--now', SUNDAY], env(dataDir, url));
        expect(busy.code).toBe(1);
        expect(busy.err).toEqual([
          `slot ${SUNDAY} is being run by another worker (other-host.example:4242:abcdef), whose claim holds until ${lease.toISOString()} unless it renews it; stopped there, a later run takes up what is left`,
        ]);
        expect(busy.out).toEqual(['0 deliveries made, 0 expired deliveries deleted']);

        // The run before on this machine lost its store and exited: its claim does not hold the rerun up.
        const gone = spawnSync(process.execPath, ['-e', '']).pid!;
        await claimSunday(store, `${hostname()}:${gone}:abcdef:${pidNamespace()}`, lease);
        const rerun = await runCliLines(['deliver', '--now', SUNDAY], env(dataDir, url));
        expect(rerun).toMatchObject({ code: 0, err: [] });
        expect(rerun.out[0]).toMatch(
          /^made weekly delivery \d+ for 0363 \(slot 2024-03-03T05:00:00\.000Z, 1 message\)$/,
        );
      } finally {
        await drop();
      }
    });

    it('prints each delivery line as it is made, so a run that fails later has said what it made', async () => {
      const { store, url, dataDir, drop } = await freshStore(dialect);
      try {
        await setUp(store, ['0363', '0384']);
        // The store fails at the end of the slot, after both deliveries (as a server going away would).
        if (dialect === 'sqlite') {
          await sql`CREATE TRIGGER job_run_no_done BEFORE UPDATE ON job_run WHEN NEW.status = 'done'
            BEGIN SELECT RAISE(ABORT, 'job_run cannot be written'); END`.execute(store.db);
        } else {
          await sql`CREATE FUNCTION job_run_no_done() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'job_run cannot be written'; END $$`.execute(store.db);
          await sql`CREATE TRIGGER job_run_no_done BEFORE UPDATE ON job_run FOR EACH ROW
            WHEN (NEW.status = 'done') EXECUTE FUNCTION job_run_no_done()`.execute(store.db);
        }
        const r = await runCliLines(['deliver', '--now', SUNDAY], env(dataDir, url));
        expect(r.code).toBe(1);
        expect(r.err).toEqual(['ketendata: job_run cannot be written']);
        expect(r.out).toHaveLength(2);
        expect(r.out[0]).toMatch(
          /^made weekly delivery \d+ for 0363 \(slot 2024-03-03T05:00:00\.000Z, 1 message\)$/,
        );
        expect(r.out[1]).toMatch(
          /^made weekly delivery \d+ for 0384 \(slot 2024-03-03T05:00:00\.000Z, 1 message\)$/,
        );
      } finally {
        await drop();
      }
    });
  });
}
