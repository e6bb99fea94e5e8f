import type { Keys } from '../pseudonymise/keys.js';
import { decryptRaw, encryptRaw, rawKeyRing } from '../pseudonymise/raw-encryption.js';
import type { Store } from '../store/open.js';

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
