import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, withFreshStore } from '../../../test/support/databases.js';
import { startRun, writeExchangeBatch } from '../ingest-repository.js';
import { migrate, type Store } from '../open.js';
import { migrationProvider } from './index.js';

const columns = async (store: Store) =>
  (await store.db.introspection.getTables()).find((t) => t.name === 'ingest_run')!.columns.map((c) => c.name);

describe.each(DIALECTS)('migration 0023 on %s', (dialect) => {
  it('adds ingest_run.last_batch_at, null for the runs already there, set by the next batch', () =>
    withFreshStore(dialect, async (store) => {
      // The store as the release before left it: a finished run and one a kill left unfinished.
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      expect((await migrator.migrateTo('0022_link_replan_pending')).error).toBeUndefined();
      expect(await columns(store)).not.toContain('last_batch_at');
      await sql`INSERT INTO ingest_run (source, started_at, finished_at, received, stored, duplicates, conflicts, quarantined, skipped)
        VALUES ('done', '2024-03-05T09:00:00.000Z', '2024-03-05T09:05:00.000Z', 4, 4, 0, 0, 0, 0),
               ('killed', '2024-03-05T09:10:00.000Z', NULL, 2, 2, 0, 0, 0, 0)`.execute(store.db);

      await migrate(store);
      const runs = await store.db
        .selectFrom('ingest_run')
        .select(['source', 'finished_at', 'received', 'last_batch_at'])
        .orderBy('id')
        .execute();
      expect(runs).toEqual([
        { source: 'done', finished_at: '2024-03-05T09:05:00.000Z', received: 4, last_batch_at: null },
        { source: 'killed', finished_at: null, received: 2, last_batch_at: null },
      ]);

      const runId = await startRun(store, 'new', '2024-03-05T10:00:00.000Z');
      await writeExchangeBatch(store, [], { runId, now: '2024-03-05T10:02:00.000Z' });
      const run = await store.db
        .selectFrom('ingest_run')
        .select('last_batch_at')
        .where('id', '=', runId)
        .executeTakeFirstOrThrow();
      expect(run.last_batch_at).toBe('2024-03-05T10:02:00.000Z');
    }));
});
