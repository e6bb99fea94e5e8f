import { describe, expect, it } from 'vitest';
import { deliveredHash, deriveKey, deriveKeys, keyId } from './keys.js';
import { keyedPseudonym } from './pseudonym.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';

describe('keys', () => {
  it('derives a different key per purpose and the same key for the same secret and purpose', () => {
    const k = deriveKeys(SECRET);
    expect(k.pseudonym.equals(k.berichtId)).toBe(false);
    expect(k.pseudonym.equals(k.rawEncryption)).toBe(false);
    expect(k.loginDevice).toEqual(deriveKey(SECRET, 'login-device'));
    expect(k.loginDevice?.equals(k.totpEncryption)).toBe(false);
    expect(k.pseudonym.equals(deriveKeys(SECRET).pseudonym)).toBe(true);
    expect(k.pseudonym.equals(deriveKeys(`${SECRET}x`).pseudonym)).toBe(false);
    expect(k.pseudonym).toHaveLength(32);
  });

  it('gives a client the same delivered hash within one organisation and another one elsewhere', () => {
    const k = deriveKeys(SECRET);
    const stored = keyedPseudonym(k.pseudonym, 'Bsn', '999990019');
    const a1 = deliveredHash(k.organisation('0363'), stored);
    const a2 = deliveredHash(deriveKeys(SECRET).organisation('0363'), stored);
    const b = deliveredHash(k.organisation('0384'), stored);
    expect(a1).toMatch(/^[0-9a-f]{32}$/);
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
  });

  it('names a key by a fingerprint that differs from the key itself', () => {
    const key = deriveKey(SECRET, 'raw-encryption');
    expect(keyId(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(key.toString('hex')).not.toContain(keyId(key));
    expect(deriveKeys(SECRET).rawKeyId).toBe(keyId(key));
  });

  it('refuses an empty secret', () => {
    expect(() => deriveKey('', 'pseudonym')).toThrow(/keys.no_secret/);
  });
});
