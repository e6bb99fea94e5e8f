import type { DeliveryWriter } from '../export/delivery-writer.js';
import { KOPPELTABEL_COLUMNS, KOPPELTABEL_FILE, koppeltabelRecord } from '../links/koppeltabel.js';
import type { StoredLink } from '../store/deliveries.js';
import type { Store } from '../store/open.js';
import { readWatermarks } from '../store/watermark.js';

/** `Koppeltabel.csv` header, as the links concern defines it. */
export const KOPPELTABEL_HEADER: readonly string[] = KOPPELTABEL_COLUMNS.map((c) => c.name);
export { KOPPELTABEL_FILE };

/** The message and link watermarks in one cut (`readWatermarks`): no link of a message past the first. */
export async function deliveryMarks(
  store: Store,
): Promise<{ readonly message: number; readonly link: number }> {
  const [message, link] = (await readWatermarks(store, ['message', 'link'])) as [number, number];
  return { message, link };
}

/** A stored link as its Koppeltabel row. BerichtIds are message keys, not identifiers. */
export function storedLinkRecord(l: StoredLink) {
  return koppeltabelRecord({
    type: l.type,
    mutatie: l.mutatie,
    gemeente: l.gemeente,
    fromTable: l.from_table,
    fromBerichtId: l.from_bericht_id,
    fromRow: l.from_row,
    toTable: l.to_table,
    toBerichtId: l.to_bericht_id,
    toRow: l.to_row,
  });
}

/** Writes one batch of stored links as Koppeltabel rows. */
export async function addLinks(writer: DeliveryWriter, batch: readonly StoredLink[]): Promise<void> {
  await writer.add(KOPPELTABEL_FILE, batch.map(storedLinkRecord));
}
