import type { TotpKeys } from './keys.js';
import { decryptRaw, encryptRaw, type RawKeyRing } from './raw-encryption.js';

/**
 * A user's TOTP secret as stored in `app_user.totp_secret`: `v1:<key id>:<base64url(nonce | tag | ciphertext)>`,
 * AES-256-GCM under the `totp-encryption` key. Secrets stored before this format are plain base32 (no `:`).
 */
const VERSION = 'v1';
const NONCE = 12;
const TAG = 16;

// Bound to the user: a sealed secret copied into another user's row does not open there.
const aad = (userId: number): Buffer => Buffer.from(`ketendata totp secret v1:${userId}`);

export function sealTotpSecret(keys: TotpKeys, userId: number, secret: string): string {
  const e = encryptRaw(keys.totpEncryption, Buffer.from(secret, 'utf8'), keys.totpKeyId, aad(userId));
  return `${VERSION}:${e.key_id}:${Buffer.concat([e.nonce, e.tag, e.ciphertext]).toString('base64url')}`;
}

export type OpenedTotpSecret =
  | { readonly kind: 'sealed'; readonly keyId: string; readonly secret: string }
  /** Stored before secrets were encrypted: to be sealed on first use. */
  | { readonly kind: 'plain'; readonly secret: string }
  /** Sealed under a key the ring does not hold (the master secret changed, raw-rekey not run). */
  | { readonly kind: 'unknown_key'; readonly keyId: string };

export function openTotpSecret(ring: RawKeyRing, userId: number, stored: string): OpenedTotpSecret {
  if (!stored.includes(':')) return { kind: 'plain', secret: stored };
  const [version, keyId, body, ...rest] = stored.split(':');
  const bytes = Buffer.from(body ?? '', 'base64url');
  if (version !== VERSION || !keyId || rest.length || bytes.length <= NONCE + TAG) {
    throw new Error(`keys.totp_unreadable: the TOTP secret of user ${userId} is not in a known format`);
  }
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
      aad(userId),
    );
    return { kind: 'sealed', keyId, secret: clear.toString('utf8') };
  } catch {
    throw new Error(`keys.totp_unreadable: the TOTP secret of user ${userId} fails authentication`);
  }
}
