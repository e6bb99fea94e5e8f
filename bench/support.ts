import type { Store } from '../src/store/open.js';

/** Rows in a table of the store (the benches print what they measured on). */
export async function count(store: Store, table: 'message' | 'link'): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
