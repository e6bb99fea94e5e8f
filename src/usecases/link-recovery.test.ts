import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { simulate } from '../simulate/simulate.js';
import { LINKABLE_MESSAGE_COLUMNS } from '../store/links.js';
import { migrationProvider } from '../store/migrations/index.js';
import { migrate, type Store } from '../store/open.js';
import { storedLinkRecord } from './deliver-links.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { linkBatch, linkPending } from './link-batch.js';

const keys = deriveKeys('links-recovery-secret-links-recovery-secret');
const now = () => new Date('2025-01-05T06:00:00Z');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ketendata-links-recovery-'));
  simulate({
    out: dir,
    gemeenten: '2',
    clients: 25,
    from: '2024-01-01',
    to: '2024-06-30',
    seed: 3,
    duplicates: 0,
    errors: 0.02,
    clean: true,
  });
  const lines = readFileSync(join(dir, 'manifest.ndjson'), 'utf8').trim().split('\n');
  const half = Math.floor(lines.length / 2);
  writeFileSync(join(dir, 'first.ndjson'), `${lines.slice(0, half).join('\n')}\n`);
  writeFileSync(join(dir, 'second.ndjson'), `${lines.slice(half).join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function linkEvents(store: Store): Promise<string[]> {
  const rows = await store.db
    .selectFrom('link')
    .innerJoin('message as f', 'f.bericht_id', 'link.from_bericht_id')
    .innerJoin('message as t', 't.bericht_id', 'link.to_bericht_id')
    .select([
      'link.type',
      'link.mutatie',
      'f.identificatie as fi',
      'f.code as fc',
      'link.from_row',
      't.identificatie as ti',
      't.code as tc',
      'link.to_row',
    ])
    .execute();
  return rows
    .map((r) => `${r.type} ${r.mutatie} ${r.fc}/${r.fi}:${r.from_row} ${r.tc}/${r.ti}:${r.to_row}`)
    .sort();
}

for (const dialect of DIALECTS) {
  describe(`linking after a crash (${dialect})`, () => {
    it('links the messages a crash left unlinked together with the next batch, ending as an uninterrupted run', async () => {
      const reference = await freshStore(dialect);
      const crashed = await freshStore(dialect);
      try {
        for (const part of ['first', 'second']) {
          await ingestSource(
            { store: reference.store, keys, now },
            await openSource(join(dir, `${part}.ndjson`)),
            { batchSize: 100 },
          );
        }
        await ingestSource({ store: crashed.store, keys, now }, await openSource(join(dir, 'first.ndjson')), {
          batchSize: 100,
        });
        // The crash: the last batch was stored, its linking never happened.
        const { m } = await crashed.store.db
          .selectFrom('message')
          .select((eb) => eb.fn.max('seq').as('m'))
          .executeTakeFirstOrThrow();
        const lost = (
          await crashed.store.db
            .selectFrom('message')
            .select('bericht_id')
            .where('seq', '>', Number(m) - 30)
            .execute()
        ).map((r) => r.bericht_id);
        await crashed.store.db
          .deleteFrom('link')
          .where((eb) => eb.or([eb('from_bericht_id', 'in', lost), eb('to_bericht_id', 'in', lost)]))
          .execute();
        await crashed.store.db.deleteFrom('link_key').where('bericht_id', 'in', lost).execute();
        await crashed.store.db
          .deleteFrom('link_done')
          .where('seq', '>', Number(m) - 30)
          .execute();
        await ingestSource(
          { store: crashed.store, keys, now },
          await openSource(join(dir, 'second.ndjson')),
          { batchSize: 100 },
        );

        const expected = await linkEvents(reference.store);
        expect(expected.length).toBeGreaterThan(100);
        expect(await linkEvents(crashed.store)).toEqual(expected);
      } finally {
        await reference.drop();
        await crashed.drop();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`catching up a long gap (${dialect})`, () => {
    it('links many unlinked messages in bounded chunks, oldest first, and ends as if nothing was missed', async () => {
      const db = await freshStore(dialect);
      try {
        await ingestSource({ store: db.store, keys, now }, await openSource(join(dir, 'manifest.ndjson')), {
          batchSize: 100,
        });
        const expected = await linkEvents(db.store);
        await db.store.db.deleteFrom('link').execute();
        await db.store.db.deleteFrom('link_key').execute();
        await db.store.db.deleteFrom('link_done').execute();
        const last = await db.store.db
          .selectFrom('message')
          .select(LINKABLE_MESSAGE_COLUMNS)
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirstOrThrow();
        const r = await linkBatch(db.store, [last], { now: now(), catchUp: 7 });
        const { n } = await db.store.db
          .selectFrom('message')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(r.messages).toBe(Number(n));
        expect(await linkEvents(db.store)).toEqual(expected);
      } finally {
        await db.drop();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`a bulk load without linking (${dialect})`, () => {
    it('stores without links when asked, and linkPending afterwards makes the same links as linking per batch', async () => {
      const linked = await freshStore(dialect);
      const bulk = await freshStore(dialect);
      try {
        const source = join(dir, 'manifest.ndjson');
        await ingestSource({ store: linked.store, keys, now }, await openSource(source), { batchSize: 100 });
        await ingestSource({ store: bulk.store, keys, now }, await openSource(source), {
          batchSize: 100,
          link: false,
        });
        expect(await linkEvents(bulk.store)).toEqual([]);
        const expected = await linkEvents(linked.store);
        expect(expected.length).toBeGreaterThan(0);
        await linkPending(bulk.store, { now: now(), batchSize: 100 });
        expect(await linkEvents(bulk.store)).toEqual(expected);
      } finally {
        await linked.drop();
        await bulk.drop();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`a store linked before migration 0005 (${dialect})`, () => {
    it('migrates and links on, ending as a store that always had it', async () => {
      const reference = await freshStore(dialect);
      const migrated = await freshStore(dialect);
      try {
        for (const part of ['first', 'second']) {
          await ingestSource(
            { store: reference.store, keys, now },
            await openSource(join(dir, `${part}.ndjson`)),
            { batchSize: 100 },
          );
        }
        await ingestSource(
          { store: migrated.store, keys, now },
          await openSource(join(dir, 'first.ndjson')),
          { batchSize: 100 },
        );
        // Back to the layout 0003 and 0004 made, with its data, then up again as an upgrade would.
        const migrator = new Migrator({
          db: migrated.store.db,
          provider: migrationProvider(migrated.store.dialect),
        });
        const down = await migrator.migrateTo('0004_accounts');
        expect(down.error).toBeUndefined();
        const before = await migrated.store.db
          .selectFrom('link_done as d')
          .innerJoin('message as m', 'm.bericht_id', 'd.bericht_id' as never)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        await migrate(migrated.store);
        const after = await migrated.store.db
          .selectFrom('link_done')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(after.n)).toBe(Number(before.n));
        expect(Number(after.n)).toBeGreaterThan(0);
        await ingestSource(
          { store: migrated.store, keys, now },
          await openSource(join(dir, 'second.ndjson')),
          { batchSize: 100 },
        );

        const expected = await linkEvents(reference.store);
        expect(expected.length).toBeGreaterThan(100);
        expect(await linkEvents(migrated.store)).toEqual(expected);
        // Linking stays idempotent across the upgrade: the first half is not linked again.
        expect(await linkPending(migrated.store, { now: now() })).toEqual({
          messages: 0,
          added: 0,
          lapsed: 0,
        });
      } finally {
        await reference.drop();
        await migrated.drop();
      }
    });
  });
}

describe('the link table on both databases', () => {
  it('holds the same Koppeltabel rows in the same seq order on SQLite and PostgreSQL', async () => {
    const rows = async (dialect: (typeof DIALECTS)[number]) => {
      const db = await freshStore(dialect);
      try {
        await ingestSource({ store: db.store, keys, now }, await openSource(join(dir, 'manifest.ndjson')), {
          batchSize: 100,
        });
        const links = await db.store.db.selectFrom('link').selectAll().orderBy('seq').execute();
        return links.map((l) =>
          [Number(l.seq), l.gemeente, ...storedLinkRecord({ ...l, seq: Number(l.seq) })].join(';'),
        );
      } finally {
        await db.drop();
      }
    };
    const sqlite = await rows('sqlite');
    expect(sqlite.length).toBeGreaterThan(100);
    expect(await rows('postgres')).toEqual(sqlite);
  });
});
