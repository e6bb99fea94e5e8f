import { describe, expect, it } from 'vitest';
import { deriveKey } from './keys.js';
import { decryptRaw, encryptRaw, rawKeyRing } from './raw-encryption.js';

const key = deriveKey('secret-one-secret-one-secret-one-!!', 'raw-encryption');
const other = deriveKey('secret-two-secret-two-secret-two-!!', 'raw-encryption');
const xml = Buffer.from('<Bericht><Bsn>999990019</Bsn></Bericht>');

describe('raw encryption', () => {
  it('round-trips a message and leaves no clear text in the ciphertext', () => {
    const enc = encryptRaw(key, xml);
    expect(enc.ciphertext.includes(Buffer.from('999990019'))).toBe(false);
    expect(decryptRaw(rawKeyRing(key), enc).equals(xml)).toBe(true);
  });

  it('uses a fresh nonce for every message, also across a refill of the nonce pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 9000; i++) seen.add(encryptRaw(key, xml).nonce.toString('hex'));
    expect(seen.size).toBe(9000);
  });

  it('decrypts rows of a previous key while a rotation keeps both keys in the ring', () => {
    const old = encryptRaw(other, xml);
    expect(() => decryptRaw(rawKeyRing(key), old)).toThrow(/keys.unknown_raw_key/);
    expect(decryptRaw(rawKeyRing(key, other), old).equals(xml)).toBe(true);
  });

  it('rejects a tampered ciphertext', () => {
    const enc = encryptRaw(key, xml);
    const bad = { ...enc, ciphertext: Buffer.from(enc.ciphertext) };
    bad.ciphertext[0] = (bad.ciphertext[0] ?? 0) ^ 1;
    expect(() => decryptRaw(rawKeyRing(key), bad)).toThrow(/keys.raw_tampered/);
  });
});
