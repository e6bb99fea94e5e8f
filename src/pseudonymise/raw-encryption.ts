import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { keyId } from './keys.js';

/** One encrypted raw message as stored: the key id says which key decrypts it, so keys can rotate. */
export interface EncryptedRaw {
  readonly key_id: string;
  readonly nonce: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

// Binds every ciphertext to its purpose; a raw row cannot be passed off as another kind of secret.
const AAD = Buffer.from('ketendata raw message v1');

// Nonces come from a pooled CSPRNG buffer: one system call per 4096 messages instead of one each.
const NONCE = 12;
let pool = Buffer.alloc(0);
let used = 0;
function freshNonce(): Buffer {
  if (used + NONCE > pool.length) {
    pool = randomBytes(NONCE * 4096);
    used = 0;
  }
  const nonce = Buffer.from(pool.subarray(used, used + NONCE));
  used += NONCE;
  return nonce;
}

/** `aad` binds the ciphertext to another purpose than a raw message (e.g. a user's TOTP secret). */
export function encryptRaw(
  key: Buffer,
  plaintext: Buffer,
  id: string = keyId(key),
  aad: Buffer = AAD,
): EncryptedRaw {
  const nonce = freshNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  // GCM is a stream mode: final() adds no bytes, so the ciphertext is not copied once more to append them.
  const tail = cipher.final();
  const ciphertext = tail.length ? Buffer.concat([head, tail]) : head;
  return { key_id: id, nonce, tag: cipher.getAuthTag(), ciphertext };
}

/** Keys that can decrypt, by key id: the current one and any previous ones kept during a rotation. */
export type RawKeyRing = ReadonlyMap<string, Buffer>;

export function rawKeyRing(...keys: Buffer[]): RawKeyRing {
  return new Map(keys.map((k) => [keyId(k), k]));
}

export function decryptRaw(ring: RawKeyRing, raw: EncryptedRaw, aad: Buffer = AAD): Buffer {
  const key = ring.get(raw.key_id);
  if (!key) {
    throw new Error(
      `keys.unknown_raw_key: raw message encrypted with key ${raw.key_id}, which the current secret does not provide (see docs/keys.md, rotation)`,
    );
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(raw.nonce));
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(raw.tag));
  try {
    return Buffer.concat([decipher.update(Buffer.from(raw.ciphertext)), decipher.final()]);
  } catch {
    throw new Error(`keys.raw_tampered: raw message with key ${raw.key_id} fails authentication`);
  }
}

const SEALED_VERSION = 'v1';
const TAG = 16;

/**
 * A short text sealed for a column: `v1:<key id>:<base64url(nonce | tag | ciphertext)>`, AES-256-GCM, bound by
 * `aad` to its purpose and row (a TOTP secret to its user, a one-time flash to its key).
 */
export function sealText(key: Buffer, id: string, clear: string, aad: Buffer): string {
  const e = encryptRaw(key, Buffer.from(clear, 'utf8'), id, aad);
  return `${SEALED_VERSION}:${e.key_id}:${Buffer.concat([e.nonce, e.tag, e.ciphertext]).toString('base64url')}`;
}

export type OpenedText =
  | { readonly kind: 'open'; readonly keyId: string; readonly clear: string }
  /** Not `sealText`'s format. */
  | { readonly kind: 'format' }
  /** Sealed under a key the ring does not hold (another master secret). */
  | { readonly kind: 'unknown_key'; readonly keyId: string }
  /** Altered, or moved to another row (its `aad`). */
  | { readonly kind: 'tampered'; readonly keyId: string };

/** `sealText` undone with the key of its key id. */
export function openSealedText(ring: RawKeyRing, sealed: string, aad: Buffer): OpenedText {
  const [version, keyId, body, ...rest] = sealed.split(':');
  const bytes = Buffer.from(body ?? '', 'base64url');
  if (version !== SEALED_VERSION || !keyId || rest.length || bytes.length <= NONCE + TAG)
    return { kind: 'format' };
  if (!ring.has(keyId)) return { kind: 'unknown_key', keyId };
  try {
    const clear = decryptRaw(
      ring,
      {
        key_id: keyId,
        nonce: bytes.subarray(0, NONCE),
        tag: bytes.subarray(NONCE, NONCE + TAG),
        ciphertext: bytes.subarray(NONCE + TAG),
      },
      aad,
    );
    return { kind: 'open', keyId, clear: clear.toString('utf8') };
  } catch {
    return { kind: 'tampered', keyId };
  }
}
