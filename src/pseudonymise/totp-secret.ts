import type { TotpKeys } from './keys.js';
import { openSealedText, type RawKeyRing, sealText } from './raw-encryption.js';

/**
 * A user's TOTP secret as stored in `app_user.totp_secret`: `v1:<key id>:<base64url(nonce | tag | ciphertext)>`,
 * AES-256-GCM under the `totp-encryption` key. Secrets stored before this format are plain base32 (no `:`).
 */
// Bound to the user: a sealed secret copied into another user's row does not open there.
const aad = (userId: number): Buffer => Buffer.from(`ketendata totp secret v1:${userId}`);

export function sealTotpSecret(keys: TotpKeys, userId: number, secret: string): string {
  return sealText(keys.totpEncryption, keys.totpKeyId, secret, aad(userId));
}

export type OpenedTotpSecret =
  | { readonly kind: 'sealed'; readonly keyId: string; readonly secret: string }
  /** Stored before secrets were encrypted: to be sealed on first use. */
  | { readonly kind: 'plain'; readonly secret: string }
  /** Sealed under a key the ring does not hold (the master secret changed, raw-rekey not run). */
  | { readonly kind: 'unknown_key'; readonly keyId: string };

export function openTotpSecret(ring: RawKeyRing, userId: number, stored: string): OpenedTotpSecret {
  if (!stored.includes(':')) return { kind: 'plain', secret: stored };
  const o = openSealedText(ring, stored, aad(userId));
  switch (o.kind) {
    case 'open':
      return { kind: 'sealed', keyId: o.keyId, secret: o.clear };
    case 'unknown_key':
      return o;
    case 'format':
      throw new Error(`keys.totp_unreadable: the TOTP secret of user ${userId} is not in a known format`);
    case 'tampered':
      throw new Error(`keys.totp_unreadable: the TOTP secret of user ${userId} fails authentication`);
  }
}
