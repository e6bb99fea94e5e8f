import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { test301Version, testMessage } from '../links/test-messages.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { simulate } from '../simulate/simulate.js';
import { migrationProvider } from '../store/migrations/index.js';
import { migrate, type Store } from '../store/open.js';
import { runDue } from './deliver.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { storedForLinks } from './link-batch.fixtures.js';
import { linkBatch } from './link-batch.js';
import { replanDue, replanLinks } from './link-replan.js';

const GEM = '0363';
const AGB = '12345678';
const NOW = new Date('2024-06-01T10:00:00Z');
const LATER = new Date('2024-07-01T10:00:00Z');

const stored = storedForLinks();

/** Every link event in seq order, as `mutatie type from -> to`. */
async function events(store: Store): Promise<string[]> {
  return (await store.db.selectFrom('link').selectAll().orderBy('seq').execute()).map(
    (l) => `${l.mutatie} ${l.type} ${l.from_bericht_id}:${l.from_row} -> ${l.to_bericht_id}:${l.to_row}`,
  );
}

/** The pairs in force (their last event adds them), sorted. */
async function inForce(store: Store): Promise<string[]> {
  const state = new Map<string, string>();
  for (const l of await store.db.selectFrom('link').selectAll().orderBy('seq').execute())
    state.set(
      `${l.type} ${l.from_bericht_id}:${l.from_table}:${l.from_row} -> ${l.to_bericht_id}:${l.to_table}:${l.to_row}`,
      l.mutatie,
    );
  return [...state].flatMap(([pair, mutatie]) => (mutatie === 'toegevoegd' ? [pair] : [])).sort();
}

/**
 * A start, its stop, and a later 307 whose status-3 row deletes that stop and stops on another day: linking
 * now lapses the deleted stop's stop-start (IV008). A release before 0017 kept it (its stop entries had the
 * status alone), and so does a store upgraded from one.
 */
async function linkDeletedStop(store: Store, prefix: string): Promise<void> {
  const key = { ToewijzingNummer: `${prefix}T1`, Product_Categorie: '45', Begindatum: '2024-03-04' };
  const stopOn = (Einddatum: string, StatusAanlevering: string) => ({
    ...key,
    RedenBeeindiging: '31',
    Einddatum,
    StatusAanlevering,
  });
  const product = (id: string, code: string, dagtekening: string, table: string, rows: object[]) =>
    testMessage({
      id: `${prefix}${id}`,
      code,
      afzender: AGB,
      ontvanger: GEM,
      dagtekening,
      main: { Client_Bsn: `${prefix}B1` },
      rows: { [table]: rows as Record<string, string>[] },
    });
  for (const m of [
    product('S', 'JW305', '2024-03-05', 'StartProduct', [{ ...key, StatusAanlevering: '1' }]),
    product('P1', 'JW307', '2024-06-03', 'StopProduct', [stopOn('2024-05-31', '1')]),
    product('P2', 'JW307', '2024-06-10', 'StopProduct', [
      stopOn('2024-05-31', '3'),
      stopOn('2024-05-28', '1'),
    ]),
  ])
    await linkBatch(store, [stored(m)], { now: NOW });
}

/** Removes the lapses of stop-start (from BerichtIds starting with `prefix`): the links as older rules left them. */
async function asOlderRulesLeftThem(store: Store, prefix: string): Promise<number> {
  const r = await store.db
    .deleteFrom('link')
    .where('type', '=', 'stop-start')
    .where('mutatie', '=', 'vervallen')
    .where('from_bericht_id', 'like', `${prefix}%`)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

for (const dialect of DIALECTS) {
  describe(`replanning links after an upgrade (${dialect})`, () => {
    it('lapses again the stop-start of a deleted stop that older rules kept, once', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        await linkDeletedStop(store, 'Z');
        const head = await inForce(store);
        expect(head.filter((l) => l.startsWith('stop-start'))).toEqual([
          'stop-start ZP2:JW307_StopProduct:2 -> ZS:JW305_StartProduct:1',
        ]);
        expect(await asOlderRulesLeftThem(store, 'Z')).toBe(1);
        const old = await events(store);
        // The start keeps two stops.
        expect((await inForce(store)).filter((l) => l.startsWith('stop-start'))).toHaveLength(2);

        const r = await replanLinks(store, { now: LATER });
        expect(r).toMatchObject({ added: 0, lapsed: 1 });
        expect(r.keys).toBeGreaterThanOrEqual(3); // the start key, two stop keys (and the ToewijzingNummer's)
        expect((await events(store)).slice(0, old.length)).toEqual(old);
        expect((await events(store)).slice(old.length)).toEqual(['vervallen stop-start ZP1:1 -> ZS:1']);
        expect(await inForce(store)).toEqual(head);
        // With the next seq, at the replan's time: the next weekly carries it.
        const last = await store.db
          .selectFrom('link')
          .select(['seq', 'created_at'])
          .orderBy('seq', 'desc')
          .executeTakeFirstOrThrow();
        expect(last.created_at).toBe(LATER.toISOString());

        const before = await events(store);
        expect(await replanLinks(store, { now: LATER, batchSize: 1 })).toMatchObject({ added: 0, lapsed: 0 });
        expect(await events(store)).toEqual(before);
      } finally {
        await drop();
      }
    });

    it('moves a version link that older rules ordered by Identificatie to the Toewijzingstijd order', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const version = (id: string, identificatie: string, tijd: string) =>
          test301Version({ id, identificatie, tijd, nummer: 'YT1', afzender: GEM, ontvanger: AGB });
        await linkBatch(store, [stored(version('YV2', 'A2', '10:00:00'))], { now: NOW });
        await linkBatch(store, [stored(version('YV1', 'X1', '09:00:00'))], { now: NOW });
        expect(await events(store)).toEqual(['toegevoegd toewijzing-versie YV2:1 -> YV1:1']);
        // Before 0017 a 301 row had no Toewijzingstijd in its entry: same day, so A2 before X1.
        await store.db
          .updateTable('link')
          .set({ from_bericht_id: 'YV1', to_bericht_id: 'YV2' })
          .where('type', '=', 'toewijzing-versie')
          .execute();

        expect(await replanLinks(store, { now: LATER, batchSize: 2 })).toMatchObject({ added: 1, lapsed: 1 });
        expect(await events(store)).toEqual([
          'toegevoegd toewijzing-versie YV1:1 -> YV2:1',
          'vervallen toewijzing-versie YV1:1 -> YV2:1',
          'toegevoegd toewijzing-versie YV2:1 -> YV1:1',
        ]);
        expect(await replanLinks(store, { now: LATER })).toMatchObject({ added: 0, lapsed: 0 });
        expect(await events(store)).toHaveLength(3);
      } finally {
        await drop();
      }
    });

    it('runs once in the weekly run after an upgrade to 0022, and clears the mark', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        const deps = { store, dataDir, organisationKey: () => Buffer.alloc(32), worker: 'w1' };
        // A fresh store has no links: nothing is due.
        expect(await replanDue(store)).toBe(false);
        expect((await runDue(deps, NOW)).replanned).toBeNull();

        await linkDeletedStop(store, 'Q');
        await asOlderRulesLeftThem(store, 'Q');
        const old = await events(store);
        // The upgrade: down to the release before, up again.
        const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
        expect((await migrator.migrateTo('0021_landed_migration_repairs')).error).toBeUndefined();
        await migrate(store);
        expect(await replanDue(store)).toBe(true);

        const run = await runDue(deps, LATER);
        expect(run.replanned).toMatchObject({ added: 0, lapsed: 1 });
        expect((await events(store)).slice(old.length)).toEqual(['vervallen stop-start QP1:1 -> QS:1']);
        expect(await replanDue(store)).toBe(false);

        const again = await runDue(deps, LATER);
        expect(again.replanned).toBeNull();
        expect(await events(store)).toHaveLength(old.length + 1);
      } finally {
        await drop();
      }
    });
  });
}

describe('replanning a store that linking of now made', () => {
  const keys = deriveKeys('links-replan-secret-links-replan-secret');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ketendata-links-replan-'));
    simulate({
      out: dir,
      gemeenten: '2',
      clients: 400,
      from: '2024-01-01',
      to: '2024-12-31',
      seed: 11,
      duplicates: 0,
      errors: 0.02,
      clean: true,
    });
    // Also out of order (a fixed shuffle): linking then lapses and adds recomputed links again and again.
    const lines = readFileSync(join(dir, 'manifest.ndjson'), 'utf8').trim().split('\n');
    let x = 7;
    for (let i = lines.length - 1; i > 0; i--) {
      x = (x * 48271) % 2147483647;
      const j = x % (i + 1);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    writeFileSync(join(dir, 'shuffled.ndjson'), `${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases = DIALECTS.flatMap((dialect) =>
    ['manifest', 'shuffled'].map((order) => [dialect, order] as const),
  );
  it.each(cases)('appends nothing, and restores what older rules left (%s, %s)', async (dialect, order) => {
    const { store, drop } = await freshStore(dialect);
    try {
      // Out of order in small batches: most pairs meet across batches, as in the hub's live feed.
      await ingestSource({ store, keys, now: () => NOW }, await openSource(join(dir, `${order}.ndjson`)), {
        batchSize: order === 'shuffled' ? 25 : 200,
      });
      const count = async (table: 'message' | 'link') =>
        Number(
          (
            await store.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const messages = await count('message');
      const links = await count('link');
      const head = await inForce(store);
      // Traffic with corrections and deleted stops, so recomputed links have lapsed.
      const lapses = await store.db
        .selectFrom('link')
        .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
        .where('mutatie', '=', 'vervallen')
        .groupBy('type')
        .execute();
      expect(head.some((l) => l.startsWith('correctie'))).toBe(true);
      expect(head.some((l) => l.startsWith('toewijzing-versie'))).toBe(true);

      const t0 = performance.now();
      const r = await replanLinks(store, { now: LATER, batchSize: 200 });
      const ms = Math.round(performance.now() - t0);
      console.log(
        `replan of a HEAD-linked store (${dialect}, ${order}): ${messages} messages, ${links} link events, ${r.keys} keys replanned, ${r.added} added, ${r.lapsed} lapsed, ${ms} ms; lapses made by linking: ${JSON.stringify(lapses)}`,
      );
      expect(r).toMatchObject({ added: 0, lapsed: 0 });
      expect(r.keys).toBeGreaterThan(500);
      expect(await count('link')).toBe(links);

      // Older rules kept the stop-starts of deleted stops: the replan lapses them again, and only them.
      const removed = await asOlderRulesLeftThem(store, '');
      expect(removed).toBeGreaterThan(0);
      const fixed = await replanLinks(store, { now: LATER, batchSize: 200 });
      expect(fixed.added).toBe(0);
      expect(fixed.lapsed).toBeGreaterThan(0);
      expect(fixed.lapsed).toBeLessThanOrEqual(removed);
      expect(await inForce(store)).toEqual(head);
      expect(await replanLinks(store, { now: LATER })).toMatchObject({ added: 0, lapsed: 0 });
    } finally {
      await drop();
    }
  });
});
