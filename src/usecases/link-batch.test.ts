import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { compactKey } from '../links/entries.js';
import { MemoryLinkIndex } from '../links/memory-index.js';
import { test301Version, testMessage, testRetour } from '../links/test-messages.js';
import { startRun } from '../store/ingest-repository.js';
import { entriesByKey } from '../store/links.js';
import type { Store } from '../store/open.js';
import { withIngestLock } from '../store/watermark.js';
import { storedForLinks } from './link-batch.fixtures.js';
import { linkBatch, type StoredMessageForLinks } from './link-batch.js';

const GEM = '0363';
const AGB = '12345678';
const NOW = new Date('2024-06-01T10:00:00Z');

/** A provider's message for client `bsn` with rows of one table (a 305 or 307). */
const productMessage = (
  bsn: string,
  id: string,
  code: string,
  dagtekening: string,
  table: string,
  rows: Record<string, string>[],
) =>
  testMessage({
    id,
    code,
    afzender: AGB,
    ontvanger: GEM,
    dagtekening,
    main: { Client_Bsn: bsn },
    rows: { [table]: rows },
  });

/** The stop-start pairs in force (their last event adds them) from messages whose BerichtId starts with `prefix`. */
async function stopStartsInForce(store: Store, prefix: string): Promise<string[]> {
  const state = new Map<string, string>();
  for (const l of await store.db
    .selectFrom('link')
    .selectAll()
    .where('type', '=', 'stop-start')
    .where('from_bericht_id', 'like', `${prefix}%`)
    .orderBy('seq')
    .execute())
    state.set(`${l.from_bericht_id}:${l.from_row} -> ${l.to_bericht_id}:${l.to_row}`, l.mutatie);
  return [...state].flatMap(([pair, mutatie]) => (mutatie === 'toegevoegd' ? [pair] : []));
}

const stored = storedForLinks();

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

// One ToewijzingNummer's group: a 301, a start, a debet, the credit that reverses it and an answer to the debet;
// `n` keeps the groups of different runs apart (BerichtIds and ToewijzingNummer).
const twnGroup = (n: number) => {
  const twn = `G${n}`;
  const prestatie = (id: string, dag: string, row: Record<string, string>) =>
    testMessage({
      id: `${n}${id}`,
      code: 'JW323',
      afzender: AGB,
      ontvanger: GEM,
      dagtekening: dag,
      rows: { Client: [{ Bsn: 'B1' }], Prestatie: [{ ToewijzingNummer: twn, ...row }] },
    });
  return [
    testMessage({
      id: `${n}W1`,
      code: 'JW301',
      afzender: GEM,
      ontvanger: AGB,
      dagtekening: '2024-01-05',
      rows: { ToegewezenProduct: [{ ToewijzingNummer: twn }] },
    }),
    testMessage({
      id: `${n}S1`,
      code: 'JW305',
      afzender: AGB,
      ontvanger: GEM,
      dagtekening: '2024-01-20',
      main: { Client_Bsn: 'B1' },
      rows: { StartProduct: [{ ToewijzingNummer: twn, Begindatum: '2024-01-15', StatusAanlevering: '1' }] },
    }),
    prestatie('D1', '2024-02-03', {
      ProductReferentie_ReferentieNummer: 'P1',
      IngediendBedrag_DebetCredit: 'D',
    }),
    prestatie('C1', '2024-03-03', {
      ProductReferentie_ReferentieNummer: 'P2',
      ProductReferentie_VorigReferentieNummer: 'P1',
      IngediendBedrag_DebetCredit: 'C',
    }),
    testMessage({
      id: `${n}A1`,
      code: 'JW325',
      afzender: GEM,
      ontvanger: AGB,
      dagtekening: '2024-02-10',
      main: {
        Header_DeclaratieIdentificatie_Identificatie: `${n}D1`,
        Header_DeclaratieIdentificatie_Dagtekening: '2024-02-03',
      },
      rows: {
        Client: [{ Bsn: 'B1' }],
        Prestatie: [{ _row: '1.1', ProductReferentie_ReferentieNummer: 'P1', ToewijzingNummer: twn }],
      },
    }),
  ];
};
const orders = <T>(xs: readonly T[]): T[][] =>
  xs.length <= 1
    ? [[...xs]]
    : xs.flatMap((x, i) => orders(xs.filter((_, j) => j !== i)).map((o) => [x, ...o]));

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

    it("links a ToewijzingNummer's group the same in every arrival order, a batch per message", async () => {
      const runs = orders([0, 1, 2, 3, 4]);
      for (const [n, order] of runs.entries()) {
        const group = twnGroup(n);
        for (const i of order) await linkBatch(store, [stored(group[i]!)], { now: NOW });
      }
      const held = await store.db
        .selectFrom('link')
        .select(['type', 'from_bericht_id', 'from_row', 'to_bericht_id', 'to_row'])
        .where('mutatie', '=', 'toegevoegd')
        .where('from_bericht_id', 'not in', ['R1', 'V1', 'V2', 'V3', 'S1'])
        .execute();
      const byRun = runs.map(() => [] as string[]);
      for (const l of held) {
        const n = Number.parseInt(l.from_bericht_id, 10);
        const side = (id: string, row: string) => `${id.slice(String(n).length)}:${row}`;
        byRun[n]!.push(
          `${l.type} ${side(l.from_bericht_id, l.from_row)} -> ${side(l.to_bericht_id, l.to_row)}`,
        );
      }
      expect(new Set(byRun.map((links) => links.sort().join('\n')))).toEqual(
        new Set([
          [
            'credit-debet C1:1.1 -> D1:1.1',
            'declaratie-antwoord A1: -> D1:',
            'prestatie-antwoord A1:1.1 -> D1:1.1',
            'prestatie-toewijzing C1:1.1 -> W1:1',
            'prestatie-toewijzing D1:1.1 -> W1:1',
            'start-toewijzing S1:1 -> W1:1',
          ].join('\n'),
        ]),
      );
    });

    it('leaves a message its retour rejected out of stop-start batch by batch, as the reference index does', async () => {
      const key = { ToewijzingNummer: 'XT1', Product_Categorie: '45', Begindatum: '2024-01-10' };
      const stopRow = { ...key, RedenBeeindiging: '31', Einddatum: '2024-05-31', StatusAanlevering: '1' };
      const product = (id: string, code: string, dag: string, table: string, row: Record<string, string>) =>
        productMessage('XB1', id, code, dag, table, [row]);
      const retourOf = (id: string, code: string, heen: string, dagtekening: string) =>
        testRetour({ id, code, afzender: AGB, ontvanger: GEM, heen, dagtekening, rejected: true });
      const first = product('XS1', 'JW305', '2024-01-12', 'StartProduct', { ...key, StatusAanlevering: '1' });
      const resent = product('XS2', 'JW305', '2024-01-15', 'StartProduct', {
        ...key,
        StatusAanlevering: '1',
      });
      const stop = product('XP1', 'JW307', '2024-06-03', 'StopProduct', stopRow);
      const stopAgain = product('XP2', 'JW307', '2024-06-05', 'StopProduct', stopRow);
      const batches = [
        [first, stop],
        [resent],
        [retourOf('XR1', 'JW308', 'XP1', '2024-06-03'), stopAgain],
        [retourOf('XR2', 'JW306', 'XS2', '2024-01-15')],
      ];
      const inForce = () => stopStartsInForce(store, 'X');
      // A rejecting retour finds its heen message in the message table: these are stored there, as ingest does.
      const runId = await startRun(store, 'test', NOW.toISOString());
      const raw = await store.db
        .insertInto('raw_message')
        .values({ key_id: 'k', nonce: Buffer.alloc(12), tag: Buffer.alloc(16), ciphertext: Buffer.alloc(1) })
        .returning('id')
        .executeTakeFirstOrThrow();
      const storeMessages = async (batch: readonly StoredMessageForLinks[]) => {
        for (const m of batch)
          await store.db
            .insertInto('message')
            .values({
              ...m,
              rows: m.rows as string,
              standard: 'ijw',
              conflict: 0,
              passages: 1,
              key_hash: m.bericht_id,
              content_hash: m.bericht_id,
              first_moment: NOW.toISOString(),
              verzender: m.afzender,
              ontvanger_hub: m.ontvanger,
              raw_id: Number(raw.id),
              ingest_run_id: runId,
              ingested_at: NOW.toISOString(),
            })
            .execute();
      };
      const reference = new MemoryLinkIndex();
      const seen: string[][] = [];
      for (const batch of batches) {
        reference.add(batch);
        await storeMessages(batch.map(stored));
        await linkBatch(store, batch.map(stored), { now: NOW });
        const expected = reference
          .links()
          .filter((l) => l.type === 'stop-start')
          .map((l) => `${l.fromBerichtId}:${l.fromRow} -> ${l.toBerichtId}:${l.toRow}`);
        expect(await inForce()).toEqual(expected);
        seen.push(expected);
      }
      // The stop moved to the resent start, then the rejected stop and start dropped out.
      expect(seen).toEqual([['XP1:1 -> XS1:1'], ['XP1:1 -> XS2:1'], ['XP2:1 -> XS2:1'], ['XP2:1 -> XS1:1']]);
    });

    it('orders the versions of two 301s of one day by Toewijzingstijd, not by Identificatie', async () => {
      const version = (id: string, identificatie: string, tijd: string) =>
        test301Version({ id, identificatie, tijd, nummer: 'YT1', afzender: GEM, ontvanger: AGB });
      await linkBatch(store, [stored(version('YV2', 'A2', '10:00:00'))], { now: NOW });
      await linkBatch(store, [stored(version('YV1', 'X1', '09:00:00'))], { now: NOW });
      const links = await store.db
        .selectFrom('link')
        .select(['from_bericht_id', 'to_bericht_id', 'mutatie'])
        .where('from_bericht_id', 'like', 'YV%')
        .execute();
      expect(links.map((l) => `${l.mutatie} ${l.from_bericht_id} -> ${l.to_bericht_id}`)).toEqual([
        'toegevoegd YV2 -> YV1',
      ]);
    });

    it('lapses the stop-start of a stop that a later status-3 stop deletes, as the reference index does', async () => {
      const key = { ToewijzingNummer: 'ZT1', Product_Categorie: '45', Begindatum: '2024-03-04' };
      const stopOn = (einddatum: string, status: string) => ({
        ...key,
        RedenBeeindiging: '31',
        Einddatum: einddatum,
        StatusAanlevering: status,
      });
      const product = (
        id: string,
        code: string,
        dag: string,
        table: string,
        rows: Record<string, string>[],
      ) => productMessage('ZB1', id, code, dag, table, rows);
      const batches = [
        [product('ZS', 'JW305', '2024-03-05', 'StartProduct', [{ ...key, StatusAanlevering: '1' }])],
        [product('ZT1', 'JW307', '2024-06-03', 'StopProduct', [stopOn('2024-05-31', '1')])],
        [
          product('ZT2', 'JW307', '2024-06-10', 'StopProduct', [
            stopOn('2024-05-31', '3'),
            stopOn('2024-05-28', '1'),
          ]),
        ],
      ];
      const reference = new MemoryLinkIndex();
      for (const batch of batches) {
        reference.add(batch);
        await linkBatch(store, batch.map(stored), { now: NOW });
      }
      const inForce = await stopStartsInForce(store, 'Z');
      expect(inForce).toEqual(['ZT2:2 -> ZS:1']);
      expect(
        reference
          .links()
          .filter((l) => l.type === 'stop-start')
          .map((l) => `${l.fromBerichtId}:${l.fromRow} -> ${l.toBerichtId}:${l.toRow}`),
      ).toEqual(inForce);
    });

    it("links a start or stop only to a 301 row of the same client's, one indexed before the Bsn on the number alone", async () => {
      const row = {
        ToewijzingNummer: 'QT1',
        Begindatum: '2024-01-10',
        RedenBeeindiging: '31',
        Einddatum: '2024-05-31',
        StatusAanlevering: '1',
      };
      const startBy = (bsn: string, id: string) =>
        productMessage(bsn, id, 'JW305', '2024-03-01', 'StartProduct', [row]);
      const stopBy = (bsn: string, id: string) =>
        productMessage(bsn, id, 'JW307', '2024-06-03', 'StopProduct', [row]);
      // QB2's messages carry QB1's ToewijzingNummer by error. QO is QB2's too, but indexed as before (no Bsn).
      await linkBatch(
        store,
        [
          startBy('QB1', 'QS1'),
          startBy('QB2', 'QS2'),
          stopBy('QB1', 'QP1'),
          stopBy('QB2', 'QP2'),
          startBy('QB2', 'QO'),
        ].map(stored),
        { now: NOW },
      );
      const infoOfQO = async () =>
        (
          await store.db
            .selectFrom('link_key')
            .select('info')
            .where('bericht_id', '=', 'QO')
            .where('keyspace', '=', 'twn')
            .execute()
        ).map((e) => e.info);
      expect(await infoOfQO()).toEqual(['1|QB2']);
      await store.db
        .updateTable('link_key')
        .set({ info: '1' })
        .where('bericht_id', '=', 'QO')
        .where('keyspace', '=', 'twn')
        .execute();
      expect(await infoOfQO()).toEqual(['1']);
      const toewijzing = testMessage({
        id: 'QV1',
        code: 'JW301',
        afzender: GEM,
        ontvanger: AGB,
        dagtekening: '2024-01-05',
        main: { Client_Bsn: 'QB1' },
        rows: { ToegewezenProduct: [{ ToewijzingNummer: 'QT1' }] },
      });
      await linkBatch(store, [stored(toewijzing)], { now: NOW });
      // After the 301: its client's start is linked, the other client's not.
      await linkBatch(store, [startBy('QB2', 'QS3'), startBy('QB1', 'QS4')].map(stored), { now: NOW });
      const links = await store.db
        .selectFrom('link')
        .select(['type', 'from_bericht_id', 'to_bericht_id', 'mutatie'])
        .where('type', 'in', ['start-toewijzing', 'stop-toewijzing'])
        .where('from_bericht_id', 'like', 'Q%')
        .execute();
      expect(
        links.map((l) => `${l.mutatie} ${l.type} ${l.from_bericht_id} -> ${l.to_bericht_id}`).sort(),
      ).toEqual([
        'toegevoegd start-toewijzing QO -> QV1',
        'toegevoegd start-toewijzing QS1 -> QV1',
        'toegevoegd start-toewijzing QS4 -> QV1',
        'toegevoegd stop-toewijzing QP1 -> QV1',
      ]);
    });

    it('does nothing when a batch is linked again', async () => {
      const before = await events();
      const r = await linkBatch(store, [stored(v('V2', '2024-02-05')), stored(start), stored(retour)], {
        now: NOW,
      });
      expect(r.messages).toBe(0);
      expect(await events()).toEqual(before);
    });

    it('reads a ToewijzingNummer group without its debets and starts when asked, in the info format of now', async () => {
      const group = twnGroup(500);
      await linkBatch(store, group.map(stored), { now: NOW });
      const key = compactKey(`twn|JW|${GEM}|${AGB}|G500`);
      const read = async (withoutDebetsAndStarts: boolean) =>
        (
          (await withIngestLock(store, (tx) => entriesByKey(tx, [key], { withoutDebetsAndStarts }))).get(
            key,
          ) ?? []
        )
          .map((e) => `${e.tag} ${e.berichtId}`)
          .sort();
      expect(await read(false)).toEqual([
        'antwoord 500A1',
        'prestatie 500C1',
        'prestatie 500D1',
        'start 500S1',
        'toewijzing 500W1',
      ]);
      expect(await read(true)).toEqual(['antwoord 500A1', 'prestatie 500C1', 'toewijzing 500W1']);
    });
  });
}
