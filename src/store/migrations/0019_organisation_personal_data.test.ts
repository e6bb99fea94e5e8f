import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import { addOrganisation, findOrganisation, setPersonalData } from '../../usecases/organisations.js';
import { migrate } from '../open.js';
import { migrationProvider } from './index.js';

const NOW = new Date('2026-03-02T08:00:00Z');

describe.each(DIALECTS)('migration 0019 on %s', (dialect) => {
  it('gives organisations registered before the choice to deliver personal data, as they had', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      const down = await migrator.migrateTo('0018_store_secret');
      expect(down.results?.at(-1)).toEqual({
        migrationName: '0019_organisation_personal_data',
        direction: 'Down',
        status: 'Success',
      });
      const columns = async () =>
        (await store.db.introspection.getTables())
          .find((t) => t.name === 'organisation')!
          .columns.map((c) => c.name);
      expect(await columns()).not.toContain('leave_out_personal_data');
      // An organisation as an older version registered it: no such column to fill.
      await store.db
        .insertInto('organisation')
        .values({
          code: '0363',
          name: 'Amsterdam',
          kind: 'gemeente',
          active: 0,
          created_at: NOW.toISOString(),
          activated_at: null,
          weekly_seq: 0,
          weekly_link_seq: 0,
          weekly_slot: null,
          history_requested: 0,
          history_requested_at: null,
          history_requested_by: null,
        } as never)
        .execute();

      await migrate(store);
      expect(await columns()).toContain('leave_out_personal_data');
      expect((await findOrganisation(store, '0363'))?.leavesOutPersonalData).toBe(false);
      await setPersonalData(store, { code: '0363', leaveOut: true, actor: 'test', now: NOW });
      expect((await findOrganisation(store, '0363'))?.leavesOutPersonalData).toBe(true);
      await addOrganisation(store, { code: '0384', name: 'Diemen', actor: 'test', now: NOW });
      expect((await findOrganisation(store, '0384'))?.leavesOutPersonalData).toBe(false);
    } finally {
      await drop();
    }
  });
});
