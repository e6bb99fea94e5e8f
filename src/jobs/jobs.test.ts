import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import type { RunReport } from '../usecases/deliver.js';
import { JOBS, runOutcome } from './jobs.js';

const NOW = new Date('2026-03-02T10:00:00Z');

const idle: RunReport = {
  slots: [],
  made: [],
  failed: [],
  busy: [],
  waiting: [],
  expired: 0,
  leftovers: 0,
  indicators: 0,
  replanned: null,
  replanError: null,
};

describe('the job log line of a delivery run', () => {
  it('says when the run replanned links after an upgrade', () => {
    expect(runOutcome({ ...idle, replanned: { keys: 40, added: 1, lapsed: 2 } })).toBe(
      'links replanned (1 added, 2 lapsed), 0 deliveries made, 0 expired',
    );
    expect(runOutcome(idle)).toBe('0 deliveries made, 0 expired');
  });

  it('names a replan that failed', () => {
    expect(runOutcome({ ...idle, replanError: 'no such table: link_key' })).toBe(
      'links replan failed (no such table: link_key; the next run tries again), 0 deliveries made, 0 expired',
    );
  });

  it('keeps an hourly run that only replanned in the log, and leaves the next one that did nothing out', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      // The mark an upgrade leaves (migration 0022) on a store with nothing else due.
      await store.db.insertInto('link_replan').values({ id: 1, due_since: NOW.toISOString() }).execute();
      const hourly = JOBS.find((j) => j.name === 'hourly')!;
      const deps = { store, dataDir, organisationKey: () => Buffer.alloc(32), worker: 'w1' };
      expect(await hourly.run(deps, NOW)).toBe(
        'links replanned (0 added, 0 lapsed), 0 deliveries made, 0 expired',
      );
      expect(await hourly.run(deps, NOW)).toBe('');
    } finally {
      await drop();
    }
  });

  it('logs every hourly run whose replan failed, though it did nothing else', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      await store.db.insertInto('link_replan').values({ id: 1, due_since: NOW.toISOString() }).execute();
      await sql`DROP TABLE link_key`.execute(store.db);
      const hourly = JOBS.find((j) => j.name === 'hourly')!;
      const deps = { store, dataDir, organisationKey: () => Buffer.alloc(32), worker: 'w1' };
      for (let i = 0; i < 2; i++)
        expect(await hourly.run(deps, NOW)).toMatch(
          /^links replan failed \(no such table: link_key; the next run tries again\), 0 deliveries made, 0 expired$/,
        );
    } finally {
      await drop();
    }
  });
});
