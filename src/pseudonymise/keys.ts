import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { DELIVERED_HASH_LENGTH } from './pseudonym.js';

/**
 * Every key the service uses, derived from the master secret (KETENDATA_SECRET) with HKDF-SHA256 and a
 * purpose label, so one leaked purpose key reveals nothing about another. See docs/keys.md.
 */
export interface Keys {
  /** Stored pseudonyms: HMAC-SHA256(pseudonym, `<Element>:<canonical value>`). */
  readonly pseudonym: Buffer;
  /** BerichtId, key hash and content hash of a message; exchange keys without a hub id. */
  readonly berichtId: Buffer;
  /** AES-256-GCM key for the raw messages kept for re-processing. */
  readonly rawEncryption: Buffer;
  /** Identifies rawEncryption (stored with every raw row) without revealing it. */
  readonly rawKeyId: string;
  /** AES-256-GCM key for the portal users' TOTP secrets. */
  readonly totpEncryption: Buffer;
  /** Identifies totpEncryption (stored with every TOTP secret). */
  readonly totpKeyId: string;
  /**
   * HMAC-SHA256 key of the portal's device cookies (a browser a user logged in with before). Always derived;
   * optional only for the parse workers, which are handed no portal keys.
   */
  readonly loginDevice?: Buffer;
  /**
   * The portal's one-time flash (a new API token's secret between a POST and the page after it): its values
   * are encrypted and its keys hashed under sub-keys of this one (src/http/flash.ts). Always derived; optional
   * only for the parse workers.
   */
  readonly flash?: Buffer;
  /** The re-keying key of one receiving organisation (CBS or head organisation code). */
  organisation(code: string): Buffer;
}

/**
 * The keys the account use cases need: second-factor secrets are kept encrypted under them, device cookies
 * are signed with them.
 */
export type TotpKeys = Pick<Keys, 'totpEncryption' | 'totpKeyId' | 'loginDevice'>;

const SALT = Buffer.from('ketendata/v1');
const KEY_LENGTH = 32;

export const KEY_PURPOSES = {
  pseudonym: 'pseudonym',
  rawEncryption: 'raw-encryption',
  totpEncryption: 'totp-encryption',
  berichtId: 'bericht-id',
  loginDevice: 'login-device',
  flash: 'flash-encryption',
  organisation: (code: string) => `organisation:${code}`,
} as const;

export function deriveKey(secret: string, purpose: string): Buffer {
  if (!secret) throw new Error('keys.no_secret: the master secret is empty');
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, Buffer.from(purpose, 'utf8'), KEY_LENGTH),
  );
}

/** A short public fingerprint of a key: tells which secret encrypted a row, reveals nothing of the key. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('ketendata key id:').update(key).digest('hex').slice(0, 16);
}

export function deriveKeys(secret: string): Keys {
  const rawEncryption = deriveKey(secret, KEY_PURPOSES.rawEncryption);
  const totpEncryption = deriveKey(secret, KEY_PURPOSES.totpEncryption);
  const orgKeys = new Map<string, Buffer>();
  return {
    pseudonym: deriveKey(secret, KEY_PURPOSES.pseudonym),
    berichtId: deriveKey(secret, KEY_PURPOSES.berichtId),
    rawEncryption,
    rawKeyId: keyId(rawEncryption),
    totpEncryption,
    totpKeyId: keyId(totpEncryption),
    loginDevice: deriveKey(secret, KEY_PURPOSES.loginDevice),
    flash: deriveKey(secret, KEY_PURPOSES.flash),
    organisation(code: string): Buffer {
      let key = orgKeys.get(code);
      if (!key) {
        key = deriveKey(secret, KEY_PURPOSES.organisation(code));
        orgKeys.set(code, key);
      }
      return key;
    },
  };
}

/**
 * The hash an organisation receives for a stored pseudonym: first 32 hex of HMAC-SHA256(orgKey, pseudonym).
 * Stable within one organisation, unrelated between organisations.
 */
export function deliveredHash(orgKey: Buffer, storedPseudonym: string): string {
  return createHmac('sha256', orgKey).update(storedPseudonym).digest('hex').slice(0, DELIVERED_HASH_LENGTH);
}

/** HMAC-SHA256 hex over parts joined by a unit separator (parts never contain it). */
export function keyedDigest(key: Buffer, parts: readonly (string | null | undefined)[]): string {
  const h = createHmac('sha256', key);
  parts.forEach((p, i) => {
    if (i > 0) h.update('\u001f');
    h.update(p ?? '\u0000');
  });
  return h.digest('hex');
}
