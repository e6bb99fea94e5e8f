import { hkdfSync } from 'node:crypto';
import type { Keys } from '../pseudonymise/keys.js';
import { keyedDigest, keyId } from '../pseudonymise/keys.js';
import { openSealedText, rawKeyRing, sealText } from '../pseudonymise/raw-encryption.js';
import { putFlash, takeFlash } from '../store/flash.js';
import type { Store } from '../store/open.js';

/** What a flash needs of the app's deps: the store all instances share and the `flash-encryption` key. */
export interface FlashDeps {
  readonly store: Store;
  readonly flashKey: Buffer;
}

/** The `flash-encryption` key of `keys`; every Keys but a parse worker's has it. */
export function flashKeyOf(keys: Keys): Buffer {
  if (!keys.flash) throw new Error('keys.no_flash_key: these keys have no flash-encryption key');
  return keys.flash;
}

interface SubKeys {
  readonly lookup: Buffer;
  readonly encryption: Buffer;
  readonly encryptionId: string;
}
const subKeys = new WeakMap<Buffer, SubKeys>();
// One purpose key, two uses: the hash of the keys and the encryption of the values get keys of their own.
function subKeysOf(flashKey: Buffer): SubKeys {
  let k = subKeys.get(flashKey);
  if (!k) {
    const sub = (info: string) => Buffer.from(hkdfSync('sha256', flashKey, Buffer.alloc(0), info, 32));
    const encryption = sub('ketendata flash value');
    k = { lookup: sub('ketendata flash key'), encryption, encryptionId: keyId(encryption) };
    subKeys.set(flashKey, k);
  }
  return k;
}

// Bound to its row: a value copied under another key (another session) does not open there.
const aad = (storedKey: string) => Buffer.from(`ketendata one-time flash v1:${storedKey}`);

/**
 * Something to show once on the page a POST redirects to (Post/Redirect/Get), such as a new API token's
 * secret. Kept in the store, so the page may be served by another instance than the POST (`serve` behind a
 * load balancer), under a keyed hash of a key that holds the session id (the store alone names no session),
 * encrypted under the `flash-encryption` key (docs/keys.md). Taken (and so gone) by the first page that
 * shows it, in one statement, so two instances cannot both show it; dropped unshown after `ttlMs`. Never in
 * a URL, a cookie or a log.
 */
export class OneTimeFlash<T> {
  constructor(
    private readonly ttlMs: number,
    /** Keeps the flashes of one page apart from another's that might use the same key. */
    private readonly kind: string,
  ) {}

  #storedKey(deps: FlashDeps, key: string): string {
    return keyedDigest(subKeysOf(deps.flashKey).lookup, [this.kind, key]);
  }

  async put(deps: FlashDeps, key: string, value: T, now: Date): Promise<void> {
    const { encryption, encryptionId } = subKeysOf(deps.flashKey);
    const stored = this.#storedKey(deps, key);
    const sealed = sealText(encryption, encryptionId, JSON.stringify(value), aad(stored));
    const until = new Date(now.getTime() + this.ttlMs).toISOString();
    await putFlash(deps.store.db, { key: stored, value: sealed, until }, now.toISOString());
  }

  /** The value, once: a second call (a reload of the page) gets undefined, as does one after `ttlMs`. */
  async take(deps: FlashDeps, key: string, now: Date): Promise<T | undefined> {
    const stored = this.#storedKey(deps, key);
    const sealed = await takeFlash(deps.store.db, stored, now.toISOString());
    if (sealed === undefined) return undefined;
    // Put under another master secret (a store moved), altered, or moved to another row: not to be shown,
    // as if expired (the row is gone already).
    const o = openSealedText(rawKeyRing(subKeysOf(deps.flashKey).encryption), sealed, aad(stored));
    return o.kind === 'open' ? (JSON.parse(o.clear) as T) : undefined;
  }
}
