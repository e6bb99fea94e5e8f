import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { HISTORY_START_INSTANT } from '../domain/delivery-week.js';
import { RECOMPUTED } from '../links/match.js';
import { linksInWindow, type StoredLink } from './deliveries.js';
import { LAPSING_LINK_TYPES, lapsingLinkTypesSql } from './links.js';
import type { Store } from './open.js';

const pair = (from: string, to: string) => ({
  type: 'toewijzing-versie',
  gemeente: '0363',
  from_table: 'JW301_ToegewezenProduct',
  from_bericht_id: from,
  from_row: '1',
  to_table: 'JW301_ToegewezenProduct',
  to_bericht_id: to,
  to_row: '1',
  created_at: '2024-05-01T10:00:00.000Z',
});

async function all(gen: AsyncGenerator<StoredLink[]>): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of gen)
    for (const l of batch) out.push(`${l.mutatie} ${l.from_bericht_id}->${l.to_bericht_id}`);
  return out;
}

for (const dialect of DIALECTS) {
  describe(`Koppeltabel window on ${dialect}`, () => {
    let store: Store;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      ({ store, drop } = await freshStore(dialect));
      // Versions V1, V3, then the late V2: V3→V1 is made, then V2→V1 and V3→V2 added and V3→V1 lapses;
      // at last V3→V1 holds again (an event after the lapse). Another municipality's link is left out.
      const events = [
        { ...pair('V3', 'V1'), mutatie: 'toegevoegd' as const },
        { ...pair('V2', 'V1'), mutatie: 'toegevoegd' as const },
        { ...pair('V3', 'V2'), mutatie: 'toegevoegd' as const },
        { ...pair('V3', 'V1'), mutatie: 'vervallen' as const },
        { ...pair('X2', 'X1'), mutatie: 'toegevoegd' as const, gemeente: '0599' },
        { ...pair('V3', 'V2'), mutatie: 'vervallen' as const },
        { ...pair('V3', 'V1'), mutatie: 'toegevoegd' as const },
      ];
      for (const e of events) await store.db.insertInto('link').values(e).execute();
    });
    afterAll(async () => drop());

    it('gives every event of the window in seq order', async () => {
      const w = { gemeenten: ['0363'], seqFrom: 0, seqTo: 7, span: 2 };
      expect(await all(linksInWindow(store, w))).toEqual([
        'toegevoegd V3->V1',
        'toegevoegd V2->V1',
        'toegevoegd V3->V2',
        'vervallen V3->V1',
        'vervallen V3->V2',
        'toegevoegd V3->V1',
      ]);
    });

    it('gives one row per relation that holds at the end of the window as a snapshot', async () => {
      const at = (seqTo: number) =>
        all(linksInWindow(store, { gemeenten: ['0363'], seqFrom: 0, seqTo, span: 2, inForce: true }));
      expect(await at(3)).toEqual(['toegevoegd V3->V1', 'toegevoegd V2->V1', 'toegevoegd V3->V2']);
      expect(await at(4)).toEqual(['toegevoegd V2->V1', 'toegevoegd V3->V2']);
      expect(await at(7)).toEqual(['toegevoegd V2->V1', 'toegevoegd V3->V1']);
    });
  });
}

describe('the index of messages before 1-1-2021', () => {
  it('has the predicate of HISTORY_START_INSTANT, so the history Koppeltabel query can be held to it', async () => {
    expect(HISTORY_START_INSTANT).toBe('2020-12-31T23:00:00.000Z');
    const { store, drop } = await freshStore('sqlite');
    try {
      const plan = store
        .sqlite!.prepare(
          `EXPLAIN QUERY PLAN SELECT 1 FROM link WHERE NOT EXISTS (SELECT 1 FROM message b INDEXED BY message_before_history WHERE b.bericht_id = link.from_bericht_id AND b.first_moment < '${HISTORY_START_INSTANT}')`,
        )
        .all() as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain('message_before_history');
    } finally {
      await drop();
    }
  });
});

describe('the index of links that can lapse', () => {
  it('holds the relations linking recomputes, and a later event of a pair is looked up in it', async () => {
    expect(new Set(Object.values(RECOMPUTED).flat())).toEqual(new Set(LAPSING_LINK_TYPES));
    for (const dialect of DIALECTS) {
      const { store, drop } = await freshStore(dialect);
      try {
        const later = `SELECT 1 FROM link WHERE NOT EXISTS (SELECT 1 FROM link later WHERE ${lapsingLinkTypesSql('later.type')} AND later.from_bericht_id = link.from_bericht_id AND later.type = link.type AND later.seq > link.seq)`;
        const plan =
          dialect === 'sqlite'
            ? (store.sqlite!.prepare(`EXPLAIN QUERY PLAN ${later}`).all() as { detail: string }[]).map(
                (p) => p.detail,
              )
            : await explainPg(store, later);
        expect(JSON.stringify(plan)).toContain('link_from_lapsing');
      } finally {
        await drop();
      }
    }
  });
});

/** PostgreSQL's plan of a query on an empty table, with sequential scans ruled out (as on a large one). */
async function explainPg(store: Store, query: string): Promise<unknown[]> {
  const client = await store.pool!.connect();
  try {
    await client.query('SET enable_seqscan = off');
    return (await client.query(`EXPLAIN ${query}`)).rows;
  } finally {
    client.release();
  }
}
