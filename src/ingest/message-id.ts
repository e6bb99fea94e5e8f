import { createHmac } from 'node:crypto';
import { DELIVERED_HASH_LENGTH } from '../pseudonymise/pseudonym.js';
import type { FlatMessage, MessageKey } from './types.js';

/** The message key as one string: stable, unambiguous (fields never contain `|`). */
export function messageKeyString(key: MessageKey): string {
  return [
    key.standard,
    key.code,
    key.afzender,
    key.ontvanger,
    key.identificatie,
    key.dagtekening,
    key.identificatieRetour ?? '',
    key.dagtekeningRetour ?? '',
  ].join('|');
}

/**
 * BerichtId: keyed hash of the message key and its canonical content, 32 hex characters. Keyed, because
 * the key fields alone could be guessed; content included, so a conflicting version gets its own id.
 */
export function berichtId(key: Buffer, msg: FlatMessage): string {
  return createHmac('sha256', key)
    .update(`${messageKeyString(msg.key)}\n`)
    .update(msg.canonical)
    .digest('hex')
    .slice(0, DELIVERED_HASH_LENGTH);
}
