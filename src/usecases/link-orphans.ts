import { sql } from 'kysely';
import { DELIVERY_TIME_ZONE } from '../domain/delivery-week.js';
import { localIsoDay } from '../domain/zoned-time.js';
import { EXPECTATIONS } from '../links/orphans.js';
import { subtractWorkingDays } from '../links/working-days.js';
import { inForceSql } from '../store/links.js';
import type { Store } from '../store/open.js';

export interface OrphanCount {
  /** Expectation name (`heen-zonder-retour`). */
  readonly name: string;
  readonly description: string;
  /** The file the orphans are in (`JW301`, `JW323_Prestatie`). */
  readonly table: string;
  readonly count: number;
}

/**
 * Messages and rows whose expected partner has not come (yet): per expectation and file. Deadlines count
 * from the message's Dagtekening to `now` in working days. An orphan can stop being one when its partner
 * arrives later; the counts are of this moment.
 */
export async function countOrphans(
  store: Store,
  options: { readonly now: Date; readonly gemeenten?: readonly string[] },
): Promise<OrphanCount[]> {
  // Working days as the Dagtekening counts them: the Dutch calendar day, not the UTC one.
  const today = localIsoDay(options.now, DELIVERY_TIME_ZONE);
  const out: OrphanCount[] = [];
  for (const x of EXPECTATIONS) {
    // The table counts: a 317 numbers its unchanged and its to-be-changed products from 1 each.
    // Most links have no index by source (migration 0011), so the source side is one pass over the links of
    // these types: PostgreSQL makes NOT EXISTS a hash anti-join, SQLite reads a NOT IN list into one
    // temporary index (a NOT IN list larger than PostgreSQL's work_mem would be scanned per entry).
    const linked = sql`select l.from_bericht_id, l.from_row, l.from_table from link l where l.type in (${sql.join(x.types)}) and l.mutatie = 'toegevoegd' and ${inForceSql('l')}`;
    const unmatched =
      x.side === 'to'
        ? sql<boolean>`not exists (select 1 from link_key p where p.k = e.k and p.tag = ${x.partnerTag ?? ''})`
        : store.dialect === 'postgres'
          ? sql<boolean>`not exists (${linked} and l.from_bericht_id = e.bericht_id and l.from_row = e.row and l.from_table = e.tbl)`
          : sql<boolean>`(e.bericht_id, e.row, e.tbl) not in (${linked})`;
    const counts = new Map<string, number>();
    for (const spec of x.entries) {
      let q = store.db
        .selectFrom('link_key as e')
        .select(['e.tbl', (eb) => eb.fn.countAll<number>().as('n')])
        .where('e.keyspace', '=', spec.keyspace)
        .where('e.tag', '=', spec.tag)
        .where(unmatched)
        // A message its retour rejected counts as not sent (OP286): no partner is expected.
        .where(
          sql<boolean>`(e.msg = '' or not exists (select 1 from link_key r where r.k = e.msg and r.tag = 'retour' and r.info = 'afgewezen'))`,
        )
        .groupBy('e.tbl');
      if (spec.info !== undefined) q = q.where('e.info', '=', spec.info);
      if (spec.infoPrefix !== undefined) q = q.where('e.info', 'like', `${spec.infoPrefix}%`);
      if (options.gemeenten?.length) q = q.where('e.gemeente', 'in', options.gemeenten);
      if (x.workingDays) q = q.where('e.dagtekening', '<=', subtractWorkingDays(today, x.workingDays));
      if (x.unlessTargetOf?.length)
        q = q.where(
          sql<boolean>`(e.bericht_id, e.row, e.tbl) not in (select c.to_bericht_id, c.to_row, c.to_table from link c where c.type in (${sql.join(x.unlessTargetOf)}) and c.mutatie = 'toegevoegd' and ${inForceSql('c')})`,
        );
      for (const r of await q.execute()) counts.set(r.tbl, (counts.get(r.tbl) ?? 0) + Number(r.n));
    }
    for (const [table, count] of [...counts].sort()) {
      out.push({ name: x.name, description: x.description, table, count });
    }
  }
  return out;
}
