import type { Store } from '../store/open.js';
import { readWatermark } from '../store/watermark.js';

/** `Koppeltabel.csv` columns (agreed with the links concern). */
export const KOPPELTABEL_HEADER = [
  'Type',
  'Van_Bestand',
  'Van_BerichtId',
  'Van_Rij',
  'Naar_Bestand',
  'Naar_BerichtId',
  'Naar_Rij',
] as const;

const tableCache = new WeakMap<Store, boolean>();

/** Whether the link table exists yet (the links concern adds it in its own migration). */
export async function hasLinkTable(store: Store): Promise<boolean> {
  let has = tableCache.get(store);
  if (has === undefined) {
    const tables = await store.db.introspection.getTables();
    has = tables.some((t) => t.name === 'link');
    if (has) tableCache.set(store, has);
  }
  return has;
}

/** The link seq watermark (0 while there is no link table). */
export async function linkWatermark(store: Store): Promise<number> {
  return (await hasLinkTable(store)) ? readWatermark(store, 'link') : 0;
}
