import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshStore, PG_ADMIN_URL } from '../../test/support/databases.js';

describe('a PostgreSQL store whose server closes an idle connection', () => {
  it('keeps the process up and answers the next query on a new connection', async () => {
    const { store, drop } = await freshStore('postgres');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const { rows } = await store.pool!.query<{ pid: number }>('select pg_backend_pid() as pid');
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await admin.end();
      await expect.poll(() => warnings.some((w) => w.includes('idle PostgreSQL connection lost'))).toBe(true);
      const next = await store.db.selectFrom('message').select('seq').execute();
      expect(next).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await drop();
    }
  });
});
