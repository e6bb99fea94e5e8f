import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/** The fingerprint of the master secret a store was built with (table `store_secret`, one row at most). */
export interface StoreSecret {
  readonly keyId: string;
  readonly recordedAt: string;
}

const ROW = 1;

export async function readStoreSecret(db: Kysely<Database>): Promise<StoreSecret | undefined> {
  const row = await db
    .selectFrom('store_secret')
    .select(['key_id', 'recorded_at'])
    .where('id', '=', ROW)
    .executeTakeFirst();
  return row && { keyId: row.key_id, recordedAt: row.recorded_at };
}

/**
 * Records the fingerprint when the store has none yet; one already there is kept (two first uses at the
 * same moment: the first wins, the caller reads it back to compare).
 */
export async function recordStoreSecret(db: Kysely<Database>, keyId: string, at: Date): Promise<void> {
  await db
    .insertInto('store_secret')
    .values({ id: ROW, key_id: keyId, recorded_at: at.toISOString() })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Sets the fingerprint, replacing the one there (`raw-rekey`, at the end of a rotation). */
export async function replaceStoreSecret(db: Kysely<Database>, keyId: string, at: Date): Promise<void> {
  await db
    .insertInto('store_secret')
    .values({ id: ROW, key_id: keyId, recorded_at: at.toISOString() })
    .onConflict((oc) => oc.column('id').doUpdateSet({ key_id: keyId, recorded_at: at.toISOString() }))
    .execute();
}
