import type { LinkableMessage } from '../links/entries.js';
import type { StoredMessageForLinks } from './link-batch.js';

/**
 * A test message as linking reads it from the store. Messages are linked by their seq; these are not in the
 * message table, so each BerichtId gets its own, in the order the returned function first sees them.
 */
export function storedForLinks(): (m: LinkableMessage) => StoredMessageForLinks {
  const seqs = new Map<string, number>();
  const seqOf = (id: string) => seqs.get(id) ?? seqs.set(id, seqs.size + 1).size;
  return (m) => ({
    seq: seqOf(m.berichtId),
    bericht_id: m.berichtId,
    code: m.code,
    gemeente: m.gemeente,
    afzender: m.afzender,
    ontvanger: m.ontvanger,
    identificatie: m.identificatie,
    dagtekening: m.dagtekening,
    rows: JSON.stringify(m.tables),
  });
}
