import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import { deriveKeys } from '../../pseudonymise/keys.js';
import { bindStoreSecret, secretFingerprint } from '../../usecases/store-secret.js';
import { migrate, type Store } from '../open.js';
import { readStoreSecret } from '../store-secret.js';
import { migrationProvider } from './index.js';

const keys = deriveKeys('migration-0018-secret-migration-0018-secret');
const NOW = new Date('2026-03-02T08:00:00Z');

const tables = async (store: Store) => (await store.db.introspection.getTables()).map((t) => t.name);

describe.each(DIALECTS)('migration 0018 on %s', (dialect) => {
  it('adds store_secret (one row at most), drops it on the way down and adds it again', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      expect(await tables(store)).toContain('store_secret');
      await bindStoreSecret(store, keys, { now: NOW });
      // One fingerprint per store: a second row is refused by the table itself.
      await expect(
        sql`INSERT INTO store_secret (id, key_id, recorded_at) VALUES (2, 'x', 'y')`.execute(store.db),
      ).rejects.toThrow();

      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      const down = await migrator.migrateTo('0017_link_key_info_backfill');
      expect(down.error).toBeUndefined();
      expect(down.results?.at(-1)).toEqual({
        migrationName: '0018_store_secret',
        direction: 'Down',
        status: 'Success',
      });
      expect(await tables(store)).not.toContain('store_secret');

      await migrate(store);
      expect(await tables(store)).toContain('store_secret');
      // Up again: empty, so the next command records its secret anew.
      expect(await readStoreSecret(store.db)).toBeUndefined();
      expect(await bindStoreSecret(store, keys, { now: NOW })).toBe('recorded');
      expect((await readStoreSecret(store.db))?.keyId).toBe(secretFingerprint(keys));
    } finally {
      await drop();
    }
  });
});
