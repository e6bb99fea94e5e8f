import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import type { Store } from '../open.js';
import { migrate } from '../open.js';
import { insertOrganisation, listOrganisations } from '../organisations.js';
import { migrationProvider } from './index.js';

async function hasIndex(store: Store, name: string): Promise<boolean> {
  const { rows } =
    store.dialect === 'sqlite'
      ? await sql`SELECT name FROM sqlite_master WHERE type = 'index' AND name = ${name}`.execute(store.db)
      : await sql`SELECT indexname FROM pg_indexes WHERE indexname = ${name} AND schemaname = current_schema()`.execute(
          store.db,
        );
  return rows.length > 0;
}

const memberColumns = async (store: Store) =>
  (await store.db.introspection.getTables())
    .find((t) => t.name === 'organisation_member')!
    .columns.map((c) => c.name);

describe.each(DIALECTS)('migration 0021 on %s', (dialect) => {
  it('repairs a store that applied 0005 and 0007 in their first form: members readable, link_key_msg gone', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await insertOrganisation(store.db, {
        code: 'R001',
        name: 'Regio',
        kind: 'hoofdorganisatie',
        members: ['0363', '0599'],
        createdAt: new Date('2026-03-01T00:00:00Z'),
      });
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      await migrator.migrateTo('0020_delivery_personal_data');
      // 0007 as it first landed had no joined_at; 0005 as it first landed kept link_key_msg.
      await store.db.schema.alterTable('organisation_member').dropColumn('joined_at').execute();
      await store.db.schema
        .createIndex('link_key_msg')
        .on('link_key')
        .column('msg')
        .where(sql.ref('msg'), '<>', '')
        .execute();
      expect(await memberColumns(store)).not.toContain('joined_at');
      await expect(listOrganisations(store.db)).rejects.toThrow(/joined_at/);

      await migrate(store);
      expect(await memberColumns(store)).toContain('joined_at');
      expect(await hasIndex(store, 'link_key_msg')).toBe(false);
      const [org] = await listOrganisations(store.db);
      expect(org?.members).toEqual(['0363', '0599']);
    } finally {
      await drop();
    }
  });

  it.runIf(dialect === 'postgres')(
    "repairs the store's own table when another schema of the database holds one of that name",
    async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        // A copy an administrator kept, as it is now (with joined_at), in a schema of its own.
        await sql`CREATE SCHEMA a_copy`.execute(store.db);
        await sql`CREATE TABLE a_copy.organisation_member (organisation text, gemeente text, catch_up integer, joined_at text)`.execute(
          store.db,
        );
        const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
        await migrator.migrateTo('0020_delivery_personal_data');
        await store.db.schema.alterTable('organisation_member').dropColumn('joined_at').execute();
        await migrate(store);
        const { rows } =
          await sql`SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'organisation_member' AND column_name = 'joined_at'`.execute(
            store.db,
          );
        expect(rows).toHaveLength(1);
      } finally {
        await drop();
      }
    },
  );

  it('changes nothing on a store whose migrations are as they are now', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const before = await memberColumns(store);
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      await migrator.migrateTo('0020_delivery_personal_data');
      await migrate(store);
      expect(await memberColumns(store)).toEqual(before);
      expect(await hasIndex(store, 'link_key_msg')).toBe(false);
    } finally {
      await drop();
    }
  });
});
