import type { Keys } from '../pseudonymise/keys.js';
import { decryptRaw, encryptRaw, rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { countRows } from '../store/ingest-repository.js';
import type { Store } from '../store/open.js';
import { readStoreSecret } from '../store/store-secret.js';
import { secretFingerprint } from './store-secret.js';

export interface RekeyResult {
  /** Rows now under the current key that were under another. */
  readonly reencrypted: number;
  /** Rows under a key none of the given secrets provides: left as they are. */
  readonly unreadable: number;
  readonly unreadableKeyIds: readonly string[];
}

/**
 * Re-encrypts every raw message that is not under the current raw-encryption key, reading it with the
 * previous keys (rotation, docs/keys.md). Row by row in batches, each batch one transaction; safe to stop
 * and run again. Pseudonyms are untouched: they depend on the pseudonym key, not this one.
 */
export async function reencryptRawMessages(
  store: Store,
  keys: Keys,
  previousRawKeys: readonly Buffer[],
  batchSize = 500,
): Promise<RekeyResult> {
  const ring = rawKeyRing(keys.rawEncryption, ...previousRawKeys);
  let reencrypted = 0;
  let unreadable = 0;
  const unknown = new Set<string>();
  let after = 0;
  for (;;) {
    const rows = await store.db
      .selectFrom('raw_message')
      .selectAll()
      .where('key_id', '!=', keys.rawKeyId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (!rows.length) break;
    after = Number(rows[rows.length - 1]!.id);
    await store.db.transaction().execute(async (trx) => {
      for (const row of rows) {
        if (!ring.has(row.key_id)) {
          unreadable++;
          unknown.add(row.key_id);
          continue;
        }
        const next = encryptRaw(keys.rawEncryption, decryptRaw(ring, row), keys.rawKeyId);
        await trx
          .updateTable('raw_message')
          .set({ key_id: next.key_id, nonce: next.nonce, tag: next.tag, ciphertext: next.ciphertext })
          .where('id', '=', row.id)
          .where('key_id', '=', row.key_id)
          .execute();
        reencrypted++;
      }
    });
  }
  return { reencrypted, unreadable, unreadableKeyIds: [...unknown].sort() };
}

export interface RekeySplit {
  /** The store's fingerprint now (undefined: none recorded, its raw messages are a previous secret's). */
  readonly from: string | undefined;
  readonly to: string;
  readonly messages: number;
  readonly exchanges: number;
}

/**
 * Whether this `raw-rekey` would move the fingerprint of a store that holds data made with the old secret:
 * its pseudonyms, BerichtIds and exchange keys stay the old secret's, so after the move a re-ingest stores
 * the same messages again, new ones do not link with the old, and organisations' hashes change
 * (docs/keys.md, "Rotation"). Undefined when the fingerprint stays (the store is the current secret's) or
 * the store holds no message or exchange. Run after `checkRekeySecrets`, before anything is re-encrypted.
 */
export async function rekeyWouldSplit(store: Store, keys: Keys): Promise<RekeySplit | undefined> {
  const to = secretFingerprint(keys);
  const recorded = await readStoreSecret(store.db);
  if (recorded?.keyId === to) return undefined;
  // No fingerprint yet (a store from before migration 0018): it is the current secret's, as the other
  // commands would record it, unless its raw messages are all under other keys.
  if (!recorded) {
    const anyRaw = await store.db.selectFrom('raw_message').select('id').limit(1).executeTakeFirst();
    const underCurrent = await store.db
      .selectFrom('raw_message')
      .select('id')
      .where('key_id', '=', keys.rawKeyId)
      .limit(1)
      .executeTakeFirst();
    if (!anyRaw || underCurrent) return undefined;
  }
  const messages = await countRows(store, 'message');
  const exchanges = await countRows(store, 'exchange');
  if (messages === 0 && exchanges === 0) return undefined;
  return { from: recorded?.keyId, to, messages, exchanges };
}
