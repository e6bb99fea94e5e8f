import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import { startPortal } from '../http/launch.js';
import { startScheduler } from '../jobs/scheduler.js';
import { getJobRun } from '../store/jobs.js';
import { PG_POOL_SIZE, SERVE_LOCK_TIMEOUT_MS } from '../store/open.js';
import { INGEST_LOCK_ID } from '../store/watermark.js';
import { createApiToken } from '../usecases/accounts.js';
import { WEEKLY_JOB } from '../usecases/deliver.js';
import { activeWithMessage, TEST_SECRET } from '../usecases/deliveries.fixtures.js';
import { openServeStores, SCHEDULER_POOL_SIZE } from './serve.js';

const jw301 = readFileSync('test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml');
const ACTIVATED = new Date('2024-03-01T10:00:00Z');
const SUNDAY = new Date('2024-03-03T05:00:00.000Z');
/** How long a cron `ingest` batch holds the ingest lock here: longer than the requests' lock timeout. */
const HELD_MS = SERVE_LOCK_TIMEOUT_MS + 1000;

describe('the stores serve runs on, on PostgreSQL', () => {
  it("lets the scheduler's weekly run wait for an ingest batch holding the ingest lock, while the hub feed goes on beside the batch", async () => {
    const { store: setup, url, dataDir, drop } = await freshStore('postgres');
    const batch = new pg.Client({ connectionString: url });
    await batch.connect();
    const stores = await openServeStores({ databaseUrl: url, dataDir }, TEST_SECRET);
    let held = false;
    try {
      expect(stores.jobs).not.toBe(stores.app);
      expect(stores.app.pool?.options.max).toBe(PG_POOL_SIZE);
      expect(stores.jobs.pool?.options.max).toBe(SCHEDULER_POOL_SIZE);
      await activeWithMessage(
        setup,
        { code: '0363' },
        { activatedAt: ACTIVATED, messageAt: new Date('2024-03-02T09:00:00Z') },
      );
      const { token } = await createApiToken(
        setup.db,
        { scope: 'operator', organisationCode: null },
        'hub',
        null,
        new Date(),
      );
      const server = await startPortal({
        store: stores.app,
        dataDir,
        host: '127.0.0.1',
        port: 0,
        secureCookies: true,
        keys: stores.keys,
      });
      try {
        // An ingest batch under way (another process): its transaction holds the ingest lock, shared.
        await batch.query('BEGIN');
        await batch.query('SELECT pg_advisory_xact_lock_shared($1)', [INGEST_LOCK_ID]);
        held = true;
        const heldSince = Date.now();
        const log: string[] = [];
        const scheduler = startScheduler({
          store: stores.jobs,
          dataDir,
          organisationKey: (code) => stores.keys.organisation(code),
          clock: () => SUNDAY,
          catchUpOnStart: true,
          log: (line) => log.push(line),
        });
        scheduler.stop();
        // The Sunday run waits for the watermark's exclusive lock behind the batch.
        await vi.waitFor(
          async () => {
            const { rows } = await batch.query(
              "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
            );
            expect(rows[0].n).toBeGreaterThan(0);
          },
          { timeout: 4000, interval: 50 },
        );
        // A hub POST meanwhile is not held back by the waiting Sunday run (it waits in turns, see
        // exclusiveInTurns): its shared lock goes along with the batch's.
        const started = Date.now();
        const res = await fetch(`${server.url}/api/v1/exchanges?hubId=HELD1&moment=2024-03-02T07:00:00Z`, {
          method: 'POST',
          body: jw301,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/xml' },
        });
        const ms = Date.now() - started;
        expect(res.status).toBe(201);
        expect(ms).toBeLessThan(SERVE_LOCK_TIMEOUT_MS);

        await new Promise((resolve) => setTimeout(resolve, heldSince + HELD_MS - Date.now()));
        await batch.query('COMMIT');
        held = false;
        await scheduler.idle();
        // Made once the batch committed, not failed with 55P03 and put off for 20 minutes.
        expect(log).toEqual([`job ${WEEKLY_JOB}: 1 delivery made, 0 expired`]);
        expect(await getJobRun(setup.db, WEEKLY_JOB, SUNDAY.toISOString())).toMatchObject({
          status: 'done',
        });
      } finally {
        await server.close();
      }
    } finally {
      if (held) await batch.query('ROLLBACK');
      await batch.end();
      await stores.close();
      await drop();
    }
  }, 30_000);
});
