import { rmSync } from 'node:fs';
import { Migrator } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import { exampleTraffic, SECRET } from '../../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../../pseudonymise/keys.js';
import { ingestSource } from '../../usecases/ingest-exchanges.js';
import { openSource } from '../../usecases/ingest-sources.js';
import { migrate, type Store } from '../open.js';
import { migrationProvider } from './index.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));

/** The store as the release before left it, then opened by this one. */
async function upgrade(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  expect((await migrator.migrateTo('0021_landed_migration_repairs')).error).toBeUndefined();
  await migrate(store);
}

const marks = (store: Store) => store.db.selectFrom('link_replan').selectAll().execute();

describe.each(DIALECTS)('migration 0022 on %s', (dialect) => {
  it('marks a replan due in a store that holds links', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource(
        { store, keys: deriveKeys(SECRET), now: () => new Date('2024-03-05T10:00:00Z') },
        await openSource(traffic.dir),
      );
      const links = await store.db.selectFrom('link').select('seq').execute();
      expect(links.length).toBeGreaterThan(0);
      const before = Date.now();
      await upgrade(store);
      const [mark, ...more] = await marks(store);
      expect(more).toEqual([]);
      expect(mark?.id).toBe(1);
      expect(Date.parse(mark?.due_since ?? '')).toBeGreaterThanOrEqual(before - 1000);
      // One row at most.
      await expect(
        store.db.insertInto('link_replan').values({ id: 2, due_since: 'x' }).execute(),
      ).rejects.toThrow();
    } finally {
      await drop();
    }
  });

  it('marks none in a store without links', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      expect(await marks(store)).toEqual([]);
      await upgrade(store);
      expect(await marks(store)).toEqual([]);
    } finally {
      await drop();
    }
  });
});
