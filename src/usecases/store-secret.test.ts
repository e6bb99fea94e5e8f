import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore, rowCounts } from '../../test/support/databases.js';
import { exampleTraffic } from '../../test/support/exchange-fixtures.js';
import { deriveKeys, keyId } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { readStoreSecret } from '../store/store-secret.js';
import { ingestSource } from './ingest-exchanges.js';
import { reencryptRawMessages } from './ingest-rekey.js';
import { openSource } from './ingest-sources.js';
import {
  bindStoreSecret,
  checkRekeySecrets,
  finishRekey,
  openKeyedStore,
  SecretMismatchError,
  secretFingerprint,
} from './store-secret.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const A = 'store-secret-a-store-secret-a-store-secret-a';
const B = 'store-secret-b-store-secret-b-store-secret-b';
const C = 'store-secret-c-store-secret-c-store-secret-c';
const keysA = deriveKeys(A);
const keysB = deriveKeys(B);
const keysC = deriveKeys(C);
const T0 = new Date('2026-03-02T08:00:00Z');
const T1 = new Date('2026-03-09T08:00:00Z');

/** Every table a command could write, counted: a refused command must leave them as they are. */
async function counts(store: Store) {
  return {
    ...(await rowCounts(store, ['exchange', 'raw_message', 'message', 'quarantine', 'ingest_run'])),
    secret: await readStoreSecret(store.db),
  };
}

const mismatch = (p: Promise<unknown>) =>
  expect(p).rejects.toSatisfy(
    (err) => err instanceof SecretMismatchError && err.code === 'keys.secret_mismatch',
  );

describe.each(DIALECTS)('the store tied to its master secret on %s', (dialect) => {
  it('records the secret on first use, lets the same one pass and refuses another before anything is written', async () => {
    const { store, url, dataDir, drop } = await freshStore(dialect);
    try {
      expect(await readStoreSecret(store.db)).toBeUndefined();
      expect(secretFingerprint(keysA)).toBe(keyId(keysA.pseudonym));
      expect(secretFingerprint(keysA)).not.toBe(secretFingerprint(keysB));

      expect(await bindStoreSecret(store, keysA, { now: T0 })).toBe('recorded');
      expect(await readStoreSecret(store.db)).toEqual({
        keyId: secretFingerprint(keysA),
        recordedAt: T0.toISOString(),
      });
      expect(await bindStoreSecret(store, keysA, { now: T1 })).toBe('matches');
      // Kept as first recorded.
      expect((await readStoreSecret(store.db))?.recordedAt).toBe(T0.toISOString());

      await ingestSource({ store, keys: keysA, now: () => T0 }, await openSource(traffic.dir));
      const before = await counts(store);
      expect(before.exchange).toBeGreaterThan(0);

      await mismatch(bindStoreSecret(store, keysB, { now: T1, where: 'the store in /x' }));
      const err = (await bindStoreSecret(store, keysB, { now: T1, where: 'the store in /x' }).catch(
        (e: unknown) => e,
      )) as SecretMismatchError;
      expect(err).toBeInstanceOf(SecretMismatchError);
      expect(err.storeKeyId).toBe(secretFingerprint(keysA));
      expect(err.givenKeyId).toBe(secretFingerprint(keysB));
      expect(err.message).toBe(
        `keys.secret_mismatch: the store in /x was built with another master secret (fingerprint ${secretFingerprint(keysA)}; this KETENDATA_SECRET gives ${secretFingerprint(keysB)}): set KETENDATA_SECRET to the secret this store was built with; a deliberate change of secret is a rotation (docs/keys.md, "Rotation": reprocess into a fresh store, or raw-rekey for a store without messages). Nothing was written`,
      );

      // The one way commands open a keyed store: the same refusal, and the store is closed again.
      await mismatch(openKeyedStore({ databaseUrl: url, dataDir }, B));
      const opened = await openKeyedStore({ databaseUrl: url, dataDir }, A);
      try {
        expect(secretFingerprint(opened.keys)).toBe(secretFingerprint(keysA));
      } finally {
        await opened.store.close();
      }
      expect(await counts(store)).toEqual(before);
    } finally {
      await drop();
    }
  });

  it('binds a store of before the fingerprint only to a secret its raw messages are under', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys: keysA, now: () => T0 }, await openSource(traffic.dir));
      // As a store that was filled before migration 0018: no fingerprint.
      await store.db.deleteFrom('store_secret').execute();
      const err = await bindStoreSecret(store, keysB, { now: T1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecretMismatchError);
      expect((err as Error).message).toContain(
        `holds raw messages encrypted under another master secret (none under key ${keysB.rawKeyId} of this KETENDATA_SECRET)`,
      );
      expect(await readStoreSecret(store.db)).toBeUndefined();
      expect(await bindStoreSecret(store, keysA, { now: T1 })).toBe('recorded');
      expect((await readStoreSecret(store.db))?.keyId).toBe(secretFingerprint(keysA));
    } finally {
      await drop();
    }
  });

  it('lets one of two first uses at once win, and refuses the other', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const results = await Promise.allSettled([
        bindStoreSecret(store, keysA, { now: T0 }),
        bindStoreSecret(store, keysB, { now: T0 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(SecretMismatchError);
      const won = results[0]!.status === 'fulfilled' ? keysA : keysB;
      expect((await readStoreSecret(store.db))?.keyId).toBe(secretFingerprint(won));
    } finally {
      await drop();
    }
  });

  it('moves the fingerprint to the new secret when raw-rekey has re-encrypted everything, not before', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await bindStoreSecret(store, keysA, { now: T0 });
      await ingestSource({ store, keys: keysA, now: () => T0 }, await openSource(traffic.dir));

      // Neither the new secret nor the "previous" one built this store: refused before anything is done.
      await mismatch(checkRekeySecrets(store, keysB, [keysC]));
      await checkRekeySecrets(store, keysB, [keysA]);

      // Nothing re-encrypted yet: every raw message is still under A's key, so the store stays A's.
      const early = await finishRekey(store, keysB, [keysA], T1);
      expect(early).toMatchObject({ from: secretFingerprint(keysA), bound: false });
      expect(early.left).toBeGreaterThan(0);
      expect((await readStoreSecret(store.db))?.keyId).toBe(secretFingerprint(keysA));
      await mismatch(bindStoreSecret(store, keysB, { now: T1 }));

      await reencryptRawMessages(store, keysB, [keysA.rawEncryption]);
      expect(await finishRekey(store, keysB, [keysA], T1)).toEqual({
        from: secretFingerprint(keysA),
        to: secretFingerprint(keysB),
        bound: true,
        left: 0,
      });
      expect(await readStoreSecret(store.db)).toEqual({
        keyId: secretFingerprint(keysB),
        recordedAt: T1.toISOString(),
      });
      expect(await bindStoreSecret(store, keysB, { now: T1 })).toBe('matches');
      await mismatch(bindStoreSecret(store, keysA, { now: T1 }));
      // Run again after the rotation: the store is the current secret's, which passes too.
      await checkRekeySecrets(store, keysB, [keysA]);
      expect(await finishRekey(store, keysB, [keysA], T1)).toMatchObject({ bound: true, left: 0 });
    } finally {
      await drop();
    }
  });
});
