import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { portalHarness } from '../../test/e2e/harness.js';
import { limitLockWait, PG_CONNECT_TIMEOUT_MS, PG_POOL_SIZE, SERVE_LOCK_TIMEOUT_MS } from '../store/open.js';
import { STORE_RETRY_AFTER_SECONDS } from './app.js';

const jw301 = readFileSync('test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml');

/** The feed's POST of one exchange, its answer and how long it took in ms. */
async function post(h: Awaited<ReturnType<typeof portalHarness>>, token: string, hubId: string) {
  const started = Date.now();
  const res = await h.app.request(`/api/v1/exchanges?hubId=${hubId}&moment=2026-03-02T07:00:00Z`, {
    method: 'POST',
    body: jw301,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/xml' },
  });
  return { res, ms: Date.now() - started };
}

async function expectBusy(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('Retry-After')).toBe(String(STORE_RETRY_AFTER_SECONDS));
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('store.busy');
}

describe('the hub feed on PostgreSQL as serve opens the store', () => {
  it('answers 503 store.busy with Retry-After once a lock held elsewhere outlasts the lock timeout', async () => {
    const h = await portalHarness('postgres');
    const other = new pg.Client({ connectionString: h.url });
    await other.connect();
    let held = false;
    try {
      limitLockWait(h.store, SERVE_LOCK_TIMEOUT_MS);
      const token = await h.apiToken(null, 'hub');
      // A psql session left in an open transaction, or VACUUM FULL, on the table exchanges go to.
      await other.query('BEGIN');
      await other.query('LOCK TABLE exchange IN ACCESS EXCLUSIVE MODE');
      held = true;
      const { res, ms } = await post(h, token, 'LOCK1');
      await expectBusy(res);
      expect(ms).toBeGreaterThanOrEqual(SERVE_LOCK_TIMEOUT_MS - 100);
      expect(ms).toBeLessThan(SERVE_LOCK_TIMEOUT_MS + 3000);
      await other.query('ROLLBACK');
      held = false;
      // Nothing of the refused request stayed; sent again it is stored.
      expect(await h.store.db.selectFrom('exchange').select('id').execute()).toEqual([]);
      expect((await post(h, token, 'LOCK1')).res.status).toBe(201);
    } finally {
      if (held) await other.query('ROLLBACK');
      await other.end();
      await h.drop();
    }
  });

  it('answers 503 store.busy when no connection of the pool comes free in time', async () => {
    const h = await portalHarness('postgres');
    const taken: pg.PoolClient[] = [];
    try {
      const token = await h.apiToken(null, 'hub');
      const pool = h.store.pool!;
      for (let i = 0; i < PG_POOL_SIZE; i++) taken.push(await pool.connect());
      const { res, ms } = await post(h, token, 'POOL1');
      await expectBusy(res);
      expect(ms).toBeGreaterThanOrEqual(PG_CONNECT_TIMEOUT_MS - 100);
      expect(ms).toBeLessThan(PG_CONNECT_TIMEOUT_MS + 3000);
      for (const c of taken.splice(0)) c.release();
      expect((await post(h, token, 'POOL1')).res.status).toBe(201);
    } finally {
      for (const c of taken) c.release();
      await h.drop();
    }
  });
});
