import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import { migrate } from '../open.js';
import { migrationProvider } from './index.js';

describe.each(DIALECTS)('migration 0020 on %s', (dialect) => {
  it('marks every delivery made before it as made with personal data, as they were', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      const down = await migrator.migrateTo('0019_organisation_personal_data');
      expect(down.error).toBeUndefined();
      expect(down.results?.at(-1)).toEqual({
        migrationName: '0020_delivery_personal_data',
        direction: 'Down',
        status: 'Success',
      });
      const columns = async () =>
        (await store.db.introspection.getTables())
          .find((t) => t.name === 'delivery')!
          .columns.map((c) => c.name);
      expect(await columns()).not.toContain('personal_data_left_out');
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
      // A delivery as the version before this migration wrote it: no such column to fill.
      await store.db
        .insertInto('delivery')
        .values({
          organisation: '0363',
          kind: 'weekly',
          slot: '2026-03-01T05:00:00.000Z',
          period_start: '2026-02-22T05:00:00.000Z',
          period_end: '2026-03-01T05:00:00.000Z',
          seq_from: 0,
          seq_to: 0,
          link_seq_from: 0,
          link_seq_to: 0,
          message_count: 0,
          made_at: '2026-03-01T05:00:00.000Z',
          available_at: '2026-03-02T05:00:00.000Z',
          expires_at: '2026-04-30T05:00:00.000Z',
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
      expect(await columns()).toContain('personal_data_left_out');
      const row = await store.db
        .selectFrom('delivery')
        .select('personal_data_left_out')
        .executeTakeFirstOrThrow();
      expect(Number(row.personal_data_left_out)).toBe(0);
    } finally {
      await drop();
    }
  });
});
