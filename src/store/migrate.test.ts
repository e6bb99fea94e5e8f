import type { MigrationProvider } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DIALECTS, PG_ADMIN_URL, withFreshStore } from '../../test/support/databases.js';
import { migrationProvider } from './migrations/index.js';
import { migrate, openStore } from './open.js';

/** This build's migrations and one more that does nothing: the schema of a newer build. */
function newerBuild(dialect: (typeof DIALECTS)[number]): MigrationProvider {
  return {
    async getMigrations() {
      return {
        ...(await migrationProvider(dialect).getMigrations()),
        '9999_next_release': { up: async () => undefined },
      };
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

for (const dialect of DIALECTS) {
  describe(`migrating a ${dialect} store`, () => {
    it('says on stderr which migrations an upgrade ran, and nothing when there was none to run', async () => {
      await withFreshStore(dialect, async (store) => {
        const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
        await migrate(store);
        expect(stderr).not.toHaveBeenCalled();
        const last = Object.keys(await migrationProvider(dialect).getMigrations())
          .sort()
          .at(-1);
        await migrate(store, newerBuild(dialect));
        expect(stderr.mock.calls).toEqual([
          [`ketendata: store upgraded from ${last} to 9999_next_release (1 migration: 9999_next_release)`],
        ]);
      });
    });

    it('refuses a store a newer build migrated, saying what to do instead of "corrupted migrations"', async () => {
      await withFreshStore(dialect, async (store) => {
        vi.spyOn(console, 'error').mockImplementation(() => undefined);
        await migrate(store, newerBuild(dialect));
        await expect(migrate(store)).rejects.toThrow(
          'store.newer_than_build: this store was migrated by a newer version of ketendata (migration 9999_next_release, which this build does not have): run that version, or restore the backup taken before the upgrade (docs/operations.md, Upgrading)',
        );
      });
    });
  });
}

describe('a PostgreSQL database its role does not own', () => {
  it('is refused with how to make the role its owner (PostgreSQL 15: no CREATE on schema public)', async () => {
    const name = `kd_test_owner_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const role = `${name}_role`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`CREATE DATABASE ${name}`);
      // PostgreSQL 14 and older let every role create in public: take that away as 15 does.
      const db = new pg.Client({ connectionString: new URL(`/${name}`, PG_ADMIN_URL).toString() });
      await db.connect();
      await db.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
      await db.end();
      const url = new URL(`/${name}`, PG_ADMIN_URL);
      url.username = role;
      await expect(openStore({ databaseUrl: url.toString(), dataDir: '/tmp' })).rejects.toThrow(
        /^store\.migration_failed: permission denied for schema public: the role of KETENDATA_DATABASE_URL must own its database \(createdb --owner=<role>, or ALTER DATABASE <name> OWNER TO <role>; docs\/operations\.md, PostgreSQL connection\)$/,
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
