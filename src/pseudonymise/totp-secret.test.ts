import { describe, expect, it } from 'vitest';
import { deriveKeys } from './keys.js';
import { rawKeyRing } from './raw-encryption.js';
import { openTotpSecret, sealTotpSecret } from './totp-secret.js';

const keys = deriveKeys('totp-secret-test-totp-secret-test-!!');
const old = deriveKeys('totp-secret-old-totp-secret-old-!!!!');
const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const ring = rawKeyRing(keys.totpEncryption);

describe('TOTP secrets at rest', () => {
  it('seals a secret as v1:<key id>:<base64url>, with a fresh nonce each time, and opens it again', () => {
    const sealed = sealTotpSecret(keys, 7, secret);
    expect(sealed).toMatch(new RegExp(`^v1:${keys.totpKeyId}:[A-Za-z0-9_-]+$`));
    expect(sealed).not.toContain(secret);
    expect(sealTotpSecret(keys, 7, secret)).not.toBe(sealed);
    expect(openTotpSecret(ring, 7, sealed)).toEqual({ kind: 'sealed', keyId: keys.totpKeyId, secret });
  });

  it('uses a key of its own: not the raw-message key', () => {
    expect(keys.totpKeyId).not.toBe(keys.rawKeyId);
    expect(keys.totpEncryption.equals(keys.rawEncryption)).toBe(false);
  });

  it('takes a plain base32 secret (stored before encryption) as such', () => {
    expect(openTotpSecret(ring, 7, secret)).toEqual({ kind: 'plain', secret });
  });

  it('names the key id of a secret sealed under a key the ring does not hold', () => {
    expect(openTotpSecret(ring, 7, sealTotpSecret(old, 7, secret))).toEqual({
      kind: 'unknown_key',
      keyId: old.totpKeyId,
    });
  });

  it('does not open a sealed secret moved to another user, or one tampered with', () => {
    const sealed = sealTotpSecret(keys, 7, secret);
    expect(() => openTotpSecret(ring, 8, sealed)).toThrow(/keys.totp_unreadable/);
    // A character in the middle: every one of them carries 6 bits of nonce, tag or ciphertext.
    const at = sealed.length - 10;
    const flipped = `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`;
    expect(flipped).not.toBe(sealed);
    expect(() => openTotpSecret(ring, 7, flipped)).toThrow(/keys.totp_unreadable/);
    expect(() => openTotpSecret(ring, 7, 'v2:abc:def')).toThrow(/keys.totp_unreadable/);
  });
});
