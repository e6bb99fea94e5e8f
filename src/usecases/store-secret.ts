import { deriveKeys, type Keys, keyId } from '../pseudonymise/keys.js';
import { describePostgres, openStore, type Store, type StoreOptions } from '../store/open.js';
import { readStoreSecret, recordStoreSecret, replaceStoreSecret } from '../store/store-secret.js';

/**
 * A store built with one master secret used with another: its pseudonyms would never join the new ones and
 * every delivered hash would change without a word (docs/keys.md). Thrown before anything is written.
 */
export class SecretMismatchError extends Error {
  override readonly name = 'SecretMismatchError';
  readonly code = 'keys.secret_mismatch';
  constructor(
    /** The fingerprint the store holds; undefined for a store without one whose raw messages disagree. */
    readonly storeKeyId: string | undefined,
    /** The fingerprint of the secret given. */
    readonly givenKeyId: string,
    message: string,
  ) {
    super(`keys.secret_mismatch: ${message}`);
  }
}

/** The public fingerprint of a master secret: the key id of the pseudonym key derived from it. */
export function secretFingerprint(keys: Pick<Keys, 'pseudonym'>): string {
  return keyId(keys.pseudonym);
}

const WHAT_TO_DO =
  'set KETENDATA_SECRET to the secret this store was built with; a deliberate change of secret is a rotation (docs/keys.md, "Rotation": reprocess into a fresh store, or raw-rekey for a store without messages). Nothing was written';

/**
 * Whether a store without a recorded fingerprint (made before migration 0018) can have been built with one
 * of these secrets: it holds no raw message, or one under one of their raw-encryption keys.
 */
async function fitsUnrecorded(store: Store, candidates: readonly Keys[]): Promise<boolean> {
  const any = await store.db.selectFrom('raw_message').select('id').limit(1).executeTakeFirst();
  if (!any) return true;
  const under = await store.db
    .selectFrom('raw_message')
    .select('id')
    .where(
      'key_id',
      'in',
      candidates.map((k) => k.rawKeyId),
    )
    .limit(1)
    .executeTakeFirst();
  return under !== undefined;
}

/**
 * Checks the master secret against the one the store was built with, and records it on first use. `matches`:
 * the store's own; `recorded`: the store had none and now has this one; a SecretMismatchError (nothing
 * written) when it was built with another. `where` names the store in the message ("the store in /srv/data").
 */
export async function bindStoreSecret(
  store: Store,
  keys: Keys,
  { now, where = 'the store' }: { now: Date; where?: string },
): Promise<'matches' | 'recorded'> {
  if ((await checkStoreSecret(store, keys, { where })) === 'matches') return 'matches';
  const given = secretFingerprint(keys);
  await recordStoreSecret(store.db, given, now);
  // Two first uses at once: the one recorded first is the store's.
  const recorded = await readStoreSecret(store.db);
  if (recorded && recorded.keyId !== given) throw mismatch(where, recorded.keyId, given);
  return 'recorded';
}

/**
 * The check of `bindStoreSecret` without recording: `matches`, or `none` for a store with no fingerprint yet
 * that nothing contradicts (so a caller can write what the secret needs, such as the demo's secret file,
 * before binding the store to it). A SecretMismatchError otherwise.
 */
export async function checkStoreSecret(
  store: Store,
  keys: Keys,
  { where = 'the store' }: { where?: string } = {},
): Promise<'matches' | 'none'> {
  const given = secretFingerprint(keys);
  const recorded = await readStoreSecret(store.db);
  if (recorded) {
    if (recorded.keyId === given) return 'matches';
    throw mismatch(where, recorded.keyId, given);
  }
  if (!(await fitsUnrecorded(store, [keys]))) {
    throw new SecretMismatchError(
      undefined,
      given,
      `${where} holds raw messages encrypted under another master secret (none under key ${keys.rawKeyId} of this KETENDATA_SECRET): ${WHAT_TO_DO}`,
    );
  }
  return 'none';
}

function mismatch(where: string, stored: string, given: string): SecretMismatchError {
  return new SecretMismatchError(
    stored,
    given,
    `${where} was built with another master secret (fingerprint ${stored}; this KETENDATA_SECRET gives ${given}): ${WHAT_TO_DO}`,
  );
}

/**
 * Before `raw-rekey`: the store must have been built with the current secret (a run again after the rotation)
 * or with one of the previous ones (the rotation itself). Otherwise a SecretMismatchError before anything is
 * re-encrypted.
 */
export async function checkRekeySecrets(
  store: Store,
  keys: Keys,
  previous: readonly Keys[],
  { where = 'the store' }: { where?: string } = {},
): Promise<void> {
  const given = secretFingerprint(keys);
  const candidates = [keys, ...previous];
  const recorded = await readStoreSecret(store.db);
  const fits = recorded
    ? candidates.some((k) => secretFingerprint(k) === recorded.keyId)
    : await fitsUnrecorded(store, candidates);
  if (fits) return;
  throw new SecretMismatchError(
    recorded?.keyId,
    given,
    `${where} was built with a master secret that is neither KETENDATA_SECRET (fingerprint ${given}) nor one in the previous-secret file (${previous.map(secretFingerprint).join(', ')})${recorded ? `: its fingerprint is ${recorded.keyId}` : ''}. Put the secret this store was built with in the file (docs/keys.md, "Rotation"); nothing was re-encrypted`,
  );
}

export interface RekeyBinding {
  /** The store's fingerprint before; undefined when it had none. */
  readonly from: string | undefined;
  readonly to: string;
  /** Whether the store now holds `to` (false: raw messages were left under a previous key, see `left`). */
  readonly bound: boolean;
  /** Raw messages still under a previous secret's key (written while re-encrypting ran). */
  readonly left: number;
}

/**
 * The end of `raw-rekey`: binds the store to the current secret once no raw message is left under a
 * previous secret's key — checked and moved in one transaction, so the fingerprint never says "new secret"
 * while rows the previous secrets could read still wait (an ingest under the old secret that ran meanwhile
 * leaves the store bound to the old one: raw-rekey again). Rows under a key none of the secrets provides do
 * not hold it back: they could not be read before either. Run after the raw and TOTP re-encryption.
 */
export async function finishRekey(
  store: Store,
  keys: Keys,
  previous: readonly Keys[],
  now: Date,
): Promise<RekeyBinding> {
  const to = secretFingerprint(keys);
  const previousRawKeyIds = [...new Set(previous.map((k) => k.rawKeyId))].filter(
    (id) => id !== keys.rawKeyId,
  );
  return store.db.transaction().execute(async (trx) => {
    const before = await readStoreSecret(trx);
    const left = previousRawKeyIds.length
      ? Number(
          (
            await trx
              .selectFrom('raw_message')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('key_id', 'in', previousRawKeyIds)
              .executeTakeFirstOrThrow()
          ).n,
        )
      : 0;
    if (left > 0) return { from: before?.keyId, to, bound: before?.keyId === to, left };
    if (before?.keyId !== to) await replaceStoreSecret(trx, to, now);
    return { from: before?.keyId, to, bound: true, left: 0 };
  });
}

/** The store of these options, for messages: its folder, or where its PostgreSQL server is (no user). */
export function storeName(options: StoreOptions): string {
  return options.databaseUrl
    ? `the store at PostgreSQL ${describePostgres(options.databaseUrl)}`
    : `the store in ${options.dataDir}`;
}

/**
 * The one way a command that uses the master secret with the store opens it: the store and the keys of
 * `secret`, once `bindStoreSecret` has found the store built with it (or recorded it, on first use). A store
 * built with another secret is closed again and the SecretMismatchError (`keys.secret_mismatch`, exit code 1)
 * thrown before the command writes anything. See docs/keys.md.
 */
export async function openKeyedStore(
  options: StoreOptions,
  secret: string,
): Promise<{ store: Store; keys: Keys }> {
  const keys = deriveKeys(secret);
  const store = await openStore({
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    poolSize: options.poolSize,
  });
  try {
    await bindStoreSecret(store, keys, { now: new Date(), where: storeName(options) });
  } catch (err) {
    await store.close();
    throw err;
  }
  return { store, keys };
}
