import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { getJobRun } from '../store/jobs.js';
import { type DeliveryDeps, runDue, WEEKLY_JOB } from './deliver.js';
import { activeWithMessage, ingestAt, testBsn, testKeys } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';

const ACTIVATED = new Date('2024-10-01T10:00:00Z');
const FIRST_SUNDAY = new Date('2024-10-06T04:00:00Z'); // 06:00 Amsterdam
// Past the first weekly's expiry (60 days after it was made) and itself a slot.
const LATER_SUNDAY = new Date('2024-12-08T05:00:00Z');

for (const dialect of DIALECTS) {
  describe(`a links replan that fails, on ${dialect}`, () => {
    it('holds up neither the weekly nor retention, is reported, and stays due', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps: DeliveryDeps = {
          store,
          dataDir,
          worker: 'w1',
          organisationKey: (code) => testKeys().organisation(code),
        };
        await activeWithMessage(
          store,
          { code: '0363', name: 'Amsterdam' },
          { activatedAt: ACTIVATED, messageAt: new Date('2024-10-02T10:00:00Z') },
        );
        const [first] = (await runDue(deps, FIRST_SUNDAY)).made;
        const firstFile = (
          await listDeliveries(store, '0363', { now: FIRST_SUNDAY, includePending: true })
        ).find((d) => d.id === first?.id)?.file;
        expect(firstFile && existsSync(join(dataDir, firstFile))).toBe(true);
        await ingestAt(store, new Date('2024-12-03T10:00:00Z'), {
          kind: 'JW301',
          gemeente: '0363',
          bsn: testBsn(2),
        });

        // An upgrade left a replan due, and the replan fails: the table it reads first is gone.
        await store.db
          .insertInto('link_replan')
          .values({ id: 1, due_since: ACTIVATED.toISOString() })
          .execute();
        await sql`DROP TABLE link_key`.execute(store.db);

        const report = await runDue(deps, LATER_SUNDAY);
        expect(report.replanned).toBeNull();
        expect(report.replanError).toMatch(/link_key/);
        const slot = LATER_SUNDAY.toISOString();
        expect(report.made.filter((m) => m.slot === slot)).toEqual([
          expect.objectContaining({ organisation: '0363', kind: 'weekly', messages: 1 }),
        ]);
        expect(report.failed).toEqual([]);
        expect(await getJobRun(store.db, WEEKLY_JOB, slot)).toMatchObject({ status: 'done' });
        // Retention ran: the first weekly, 60 days old, is gone (file and listing).
        expect(report.expired).toBe(1);
        expect(existsSync(join(dataDir, firstFile!))).toBe(false);
        // Still due: the next run tries again.
        expect(await store.db.selectFrom('link_replan').select('id').execute()).toHaveLength(1);
      } finally {
        await drop();
      }
    });
  });
}
