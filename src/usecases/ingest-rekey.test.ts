import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { exampleTraffic } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { decryptRaw, rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { ingestSource } from './ingest-exchanges.js';
import { reencryptRawMessages, rekeyWouldSplit } from './ingest-rekey.js';
import { openSource } from './ingest-sources.js';
import { bindStoreSecret, secretFingerprint } from './store-secret.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const oldKeys = deriveKeys('the-old-secret-the-old-secret-the-old-secret');
const newKeys = deriveKeys('the-new-secret-the-new-secret-the-new-secret');
const now = () => new Date('2024-03-05T10:00:00Z');

describe.each(DIALECTS)('raw key rotation on %s', (dialect) => {
  it('re-encrypts every raw message under the new key, readable with it alone, and is a no-op when run again', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys: oldKeys, now }, await openSource(traffic.dir));
      const before = await store.db.selectFrom('raw_message').selectAll().orderBy('id').execute();
      const clear = before.map((r) => decryptRaw(rawKeyRing(oldKeys.rawEncryption), r));

      const blind = await reencryptRawMessages(store, newKeys, [], 7);
      expect(blind).toEqual({
        reencrypted: 0,
        unreadable: before.length,
        unreadableKeyIds: [oldKeys.rawKeyId],
      });

      const r = await reencryptRawMessages(store, newKeys, [oldKeys.rawEncryption], 7);
      expect(r.reencrypted).toBe(before.length);
      const after = await store.db.selectFrom('raw_message').selectAll().orderBy('id').execute();
      expect(after.every((row) => row.key_id === newKeys.rawKeyId)).toBe(true);
      expect(after.map((row) => decryptRaw(rawKeyRing(newKeys.rawEncryption), row))).toEqual(clear);
      expect(await reencryptRawMessages(store, newKeys, [oldKeys.rawEncryption])).toEqual({
        reencrypted: 0,
        unreadable: 0,
        unreadableKeyIds: [],
      });
    } finally {
      await drop();
    }
  });

  it('says when the move to the new secret would split a store with data, and not for the current secret or an empty store', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      // Empty and bound to the old secret: the move splits nothing.
      await bindStoreSecret(store, oldKeys, { now: now() });
      expect(await rekeyWouldSplit(store, newKeys)).toBeUndefined();
      await ingestSource({ store, keys: oldKeys, now }, await openSource(traffic.dir));
      const messages = (await store.db.selectFrom('message').select('seq').execute()).length;
      const exchanges = (await store.db.selectFrom('exchange').select('id').execute()).length;
      expect(messages).toBe(traffic.expected.stored);
      expect(await rekeyWouldSplit(store, newKeys)).toEqual({
        from: secretFingerprint(oldKeys),
        to: secretFingerprint(newKeys),
        messages,
        exchanges,
      });
      // The current secret (the upgrade case, or a run again): the fingerprint does not move.
      expect(await rekeyWouldSplit(store, oldKeys)).toBeUndefined();
      // A store from before the fingerprint: its raw messages tell whose it is.
      await store.db.deleteFrom('store_secret').execute();
      expect(await rekeyWouldSplit(store, oldKeys)).toBeUndefined();
      expect(await rekeyWouldSplit(store, newKeys)).toMatchObject({ from: undefined, messages, exchanges });
    } finally {
      await drop();
    }
  });
});
