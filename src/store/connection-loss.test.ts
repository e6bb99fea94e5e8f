import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import { withIngestLock } from './watermark.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a PostgreSQL connection lost while an ingest transaction holds it', () => {
  it('fails that transaction with the server’s reason, warns, and leaves the store working on a fresh connection', async () => {
    const { store, url, drop } = await freshStore('postgres');
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code?.startsWith('KETENDATA_PG')) warnings.push(`${w.code}: ${w.message}`);
    };
    process.on('warning', onWarning);
    try {
      let lostPid = 0;
      let pid = 0;
      const failed = await withIngestLock(store, async (tx) => {
        if (tx.dialect !== 'postgres') throw new Error('postgres only');
        const { rows } = await tx.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        lostPid = rows[0]!.pid;
        // Between two statements, with no query running on the client: as an administrator's
        // pg_terminate_backend, or a server restart, would end it.
        await other.query('SELECT pg_terminate_backend($1)', [lostPid]);
        await pause(300);
        await tx.client.query('SELECT 1');
      }).then(
        () => undefined,
        (err: unknown) => err as Error & { code?: string },
      );
      expect(failed?.code).toBe('57P01');
      expect(failed?.message).toBe('terminating connection due to administrator command');
      await pause(50); // process.emitWarning reports on the next tick
      expect(warnings).toEqual([
        'KETENDATA_PG_LOST: PostgreSQL connection in use lost: terminating connection due to administrator command',
      ]);
      // The broken connection went out of the pool: the next transaction has a fresh one and commits.
      pid = await withIngestLock(store, async (tx) => {
        if (tx.dialect !== 'postgres') throw new Error('postgres only');
        return (await tx.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      });
      expect(pid).not.toBe(lostPid);
      expect(store.pool!.totalCount).toBeLessThanOrEqual(1);

      // Ended while a statement runs: that statement fails with the reason, and the process stays up too.
      lostPid = 0;
      const sleeping = withIngestLock(store, async (tx) => {
        if (tx.dialect !== 'postgres') throw new Error('postgres only');
        const { rows } = await tx.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        lostPid = rows[0]!.pid;
        await tx.client.query('SELECT pg_sleep(10)');
      }).then(
        () => undefined,
        (err: unknown) => err as Error & { code?: string },
      );
      while (!lostPid) await pause(20);
      await pause(100);
      await other.query('SELECT pg_terminate_backend($1)', [lostPid]);
      expect((await sleeping)?.code).toBe('57P01');
      const after = await withIngestLock(store, async (tx) => {
        if (tx.dialect !== 'postgres') throw new Error('postgres only');
        return (await tx.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      });
      expect(after).not.toBe(lostPid);
    } finally {
      process.off('warning', onWarning);
      await other.end();
      await drop();
    }
  });
});
