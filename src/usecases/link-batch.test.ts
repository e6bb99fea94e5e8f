import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import type { LinkableMessage } from '../links/entries.js';
import { testMessage } from '../links/test-messages.js';
import type { Store } from '../store/open.js';
import { linkBatch, type StoredMessageForLinks } from './link-batch.js';

const GEM = '0363';
const AGB = '12345678';
const NOW = new Date('2024-06-01T10:00:00Z');

// Messages are linked by their seq; these are not in the message table, so each BerichtId gets its own.
const seqs = new Map<string, number>();
const seqOf = (id: string) => seqs.get(id) ?? seqs.set(id, seqs.size + 1).size;

const stored = (m: LinkableMessage): StoredMessageForLinks => ({
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

const v = (id: string, dag: string) =>
  testMessage({
    id,
    code: 'JW301',
    afzender: GEM,
    ontvanger: AGB,
    dagtekening: dag,
    rows: { ToegewezenProduct: [{ ToewijzingNummer: 'T1' }] },
  });
const retour = testMessage({
  id: 'R1',
  code: 'JW302',
  afzender: GEM,
  ontvanger: AGB,
  identificatie: 'V1',
  dagtekening: '2024-01-05',
});
const start = testMessage({
  id: 'S1',
  code: 'JW305',
  afzender: AGB,
  ontvanger: GEM,
  dagtekening: '2024-03-01',
  main: { Client_Bsn: 'B1' },
  rows: { StartProduct: [{ ToewijzingNummer: 'T1', Begindatum: '2024-01-10', StatusAanlevering: '1' }] },
});

for (const dialect of DIALECTS) {
  describe(`linking in the store (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshStore>>;
    let store: Store;
    beforeAll(async () => {
      db = await freshStore(dialect);
      store = db.store;
    });
    afterAll(async () => db.drop());

    const events = async () =>
      (await store.db.selectFrom('link').selectAll().orderBy('seq').execute()).map(
        (l) =>
          `${l.mutatie} ${l.type} ${l.from_bericht_id}${l.from_row ? `:${l.from_row}` : ''} -> ${l.to_bericht_id}${l.to_row ? `:${l.to_row}` : ''}`,
      );

    it('makes a link when its second side arrives in a later batch, and lapses a version link a late middle version splits', async () => {
      await linkBatch(store, [stored(retour), stored(v('V3', '2024-04-05'))], { now: NOW });
      expect(await events()).toEqual([]);
      await linkBatch(store, [stored(v('V1', '2024-01-05'))], { now: NOW });
      expect(await events()).toEqual([
        'toegevoegd retour R1 -> V1',
        'toegevoegd toewijzing-versie V3:1 -> V1:1',
      ]);
      const r = await linkBatch(store, [stored(v('V2', '2024-02-05')), stored(start)], { now: NOW });
      expect(r).toEqual({ messages: 2, added: 4, lapsed: 1 });
      expect((await events()).slice(2).sort()).toEqual([
        'toegevoegd start-toewijzing S1:1 -> V1:1',
        'toegevoegd start-toewijzing S1:1 -> V2:1',
        'toegevoegd toewijzing-versie V2:1 -> V1:1',
        'toegevoegd toewijzing-versie V3:1 -> V2:1',
        'vervallen toewijzing-versie V3:1 -> V1:1',
      ]);
      const seqs = (await store.db.selectFrom('link').select('seq').orderBy('seq').execute()).map((s) =>
        Number(s.seq),
      );
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    });

    it('does nothing when a batch is linked again', async () => {
      const before = await events();
      const r = await linkBatch(store, [stored(v('V2', '2024-02-05')), stored(start), stored(retour)], {
        now: NOW,
      });
      expect(r.messages).toBe(0);
      expect(await events()).toEqual(before);
    });
  });
}
