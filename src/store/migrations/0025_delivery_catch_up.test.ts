import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, withFreshStore } from '../../../test/support/databases.js';
import { listDeliveryRows } from '../deliveries.js';
import { migrate } from '../open.js';
import { migrationProvider } from './index.js';

describe.each(DIALECTS)('migration 0025 on %s', (dialect) => {
  it('adds delivery.catch_up: null (not recorded) for the deliveries already there, read as such', () =>
    withFreshStore(dialect, async (store) => {
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      expect((await migrator.migrateTo('0024_one_time_flash')).error).toBeUndefined();
      const columns = async () =>
        (await store.db.introspection.getTables())
          .find((t) => t.name === 'delivery')!
          .columns.map((c) => c.name);
      expect(await columns()).not.toContain('catch_up');
      await store.db
        .insertInto('organisation')
        .values({
          code: '0363',
          name: 'Amsterdam',
          kind: 'gemeente',
          active: 1,
          created_at: '2026-03-01T00:00:00.000Z',
          activated_at: '2026-03-01T00:00:00.000Z',
          weekly_seq: 0,
          weekly_link_seq: 0,
          weekly_slot: null,
          history_requested: 0,
          history_requested_at: null,
          history_requested_by: null,
          leave_out_personal_data: 0,
        })
        .execute();
      // A weekly as the version before this migration wrote it: no such column to fill.
      await store.db
        .insertInto('delivery')
        .values({
          organisation: '0363',
          kind: 'weekly',
          slot: '2026-03-08T05:00:00.000Z',
          period_start: '2026-03-01T05:00:00.000Z',
          period_end: '2026-03-08T05:00:00.000Z',
          seq_from: 3,
          seq_to: 9,
          link_seq_from: 0,
          link_seq_to: 0,
          message_count: 6,
          personal_data_left_out: 0,
          made_at: '2026-03-08T05:00:00.000Z',
          available_at: '2026-03-09T05:00:00.000Z',
          expires_at: '2026-05-07T05:00:00.000Z',
          file: 'deliveries/0363/x.zip',
          file_name: 'x.zip',
          size: 1,
          sha256: '0',
          first_downloaded_at: null,
          first_downloaded_by: null,
          download_count: 0,
          deleted_at: null,
          deleted_by: null,
        } as never)
        .execute();

      await migrate(store);
      expect(await columns()).toContain('catch_up');
      const [d] = await listDeliveryRows(store.db, '0363');
      expect(d).toMatchObject({ id: expect.any(Number), catchUp: null, firstWeekly: false });
    }));
});
