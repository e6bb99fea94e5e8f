import { DELIVERED_HASH_LENGTH, keyedPseudonym } from '../pseudonymise/pseudonym.js';
import type { HashedElement } from '../schema/model.js';
import { berichtId } from './message-id.js';
import type { FlatMessage, Row, Tables } from './types.js';

/**
 * The message's tables with every hashed cell replaced by `hash(element, canonical value)` and
 * BerichtId filled in. The message itself is left untouched.
 */
export function pseudonymiseRows(
  msg: FlatMessage,
  hash: (element: HashedElement, canonical: string) => string,
  berichtId: string,
): Tables {
  const out: Tables = new Map();
  for (const table of msg.schema.tables) {
    const hashedCols: { col: number; element: HashedElement }[] = [];
    table.columns.forEach((c, col) => {
      if (c.hashed) hashedCols.push({ col, element: c.hashed });
    });
    const rows = msg.tables.get(table.name) ?? [];
    const next: Row[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = (rows[r] as Row).slice();
      row[0] = berichtId;
      for (const h of hashedCols) {
        const v = row[h.col];
        if (v !== null && v !== undefined) row[h.col] = hash(h.element, v);
      }
      next[r] = row;
    }
    out.set(table.name, next);
  }
  return out;
}

/** The hash a stand-alone flatten run writes: the keyed pseudonym shortened to the delivered length. */
export function keyedHasher(key: Buffer): (element: HashedElement, canonical: string) => string {
  return (element, canonical) => keyedPseudonym(key, element, canonical).slice(0, DELIVERED_HASH_LENGTH);
}

/** Tables as `ketendata flatten` writes them with one key: hashed cells and BerichtId from that key. */
export function pseudonymiseWithKey(msg: FlatMessage, key: Buffer): Tables {
  return pseudonymiseRows(msg, keyedHasher(key), berichtId(key, msg));
}
