import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { DIALECTS, freshStore, rowCounts } from '../../test/support/databases.js';
import { exampleTraffic, SECRET } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { describePostgres, openStore } from '../store/open.js';
import { secretFingerprint } from '../usecases/store-secret.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const OTHER = 'another-secret-another-secret-another-secret';
const SUNDAY = '2024-03-03T06:00:00+01:00';

describe.each(DIALECTS)(
  'a command under another KETENDATA_SECRET than its store was built with (%s)',
  (dialect) => {
    it('is refused with keys.secret_mismatch and exit code 1, writing nothing; the store’s own secret goes on', async () => {
      const fresh = await freshStore(dialect);
      // The commands open the store themselves.
      await fresh.store.close();
      const base = {
        KETENDATA_DATA_DIR: fresh.dataDir,
        ...(fresh.url ? { KETENDATA_DATABASE_URL: fresh.url } : {}),
      };
      const built = { ...base, KETENDATA_SECRET: SECRET };
      const other = { ...base, KETENDATA_SECRET: OTHER };
      const where = fresh.url
        ? `the store at PostgreSQL ${describePostgres(fresh.url)}`
        : `the store in ${fresh.dataDir}`;
      try {
        expect((await runCli(['ingest', traffic.dir, '--no-progress'], built)).code).toBe(0);
        const friday = ['--now', '2024-03-01T10:00:00Z'];
        expect(
          (await runCli(['organisations', 'add', '0599', '--name', 'Rotterdam', ...friday], base)).code,
        ).toBe(0);
        expect((await runCli(['organisations', 'activate', '0599', ...friday], base)).code).toBe(0);

        const state = async () => {
          const store = await openStore({ databaseUrl: fresh.url, dataDir: fresh.dataDir });
          try {
            return {
              ...(await rowCounts(store, ['exchange', 'raw_message', 'ingest_run', 'delivery', 'job_run'])),
              files: existsSync(join(fresh.dataDir, 'deliveries'))
                ? readdirSync(join(fresh.dataDir, 'deliveries'), { recursive: true })
                : [],
            };
          } finally {
            await store.close();
          }
        };
        const before = await state();
        expect(before.exchange).toBeGreaterThan(0);
        expect(before.delivery).toBe(0);

        const message = `ketendata: keys.secret_mismatch: ${where} was built with another master secret (fingerprint ${secretFingerprint(deriveKeys(SECRET))}; this KETENDATA_SECRET gives ${secretFingerprint(deriveKeys(OTHER))}): set KETENDATA_SECRET to the secret this store was built with; a deliberate change of secret is a rotation (docs/keys.md, "Rotation": reprocess into a fresh store, or raw-rekey for a store without messages). Nothing was written\n`;
        for (const argv of [
          ['deliver', '--now', SUNDAY],
          ['ingest', traffic.dir, '--no-progress'],
          ['quarantine', 'retry'],
        ]) {
          const r = await runCli(argv, other);
          expect(r, argv.join(' ')).toEqual({ code: 1, out: '', err: message });
        }
        expect(await state()).toEqual(before);

        // Commands that need no secret are not held back by one that does not fit.
        expect(await runCli(['deliveries', '0599', '--now', SUNDAY], base)).toMatchObject({
          code: 0,
          err: '',
        });

        // The secret the store was built with: the weekly delivery is made.
        const right = await runCli(['deliver', '--now', SUNDAY], built);
        expect(right).toMatchObject({ code: 0, err: '' });
        expect(right.out).toMatch(/made weekly delivery \d+ for 0599/);
      } finally {
        await fresh.drop();
      }
    });
  },
);
