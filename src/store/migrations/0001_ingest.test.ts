import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';

describe.each(DIALECTS)('migration 0001_ingest on %s', (dialect) => {
  it('creates the ingest tables with a bericht_id that refuses a second copy', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const run = await store.db
        .insertInto('ingest_run')
        .values({
          source: 's',
          started_at: 't',
          finished_at: null,
          received: 0,
          stored: 0,
          duplicates: 0,
          conflicts: 0,
          quarantined: 0,
          skipped: 0,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const raw = await store.db
        .insertInto('raw_message')
        .values({ key_id: 'k', nonce: Buffer.alloc(12), tag: Buffer.alloc(16), ciphertext: Buffer.from('x') })
        .returning('id')
        .executeTakeFirstOrThrow();
      const message = {
        bericht_id: 'b1',
        standard: 'ijw',
        code: 'JW301',
        gemeente: '0363',
        afzender: '0363',
        ontvanger: '12345678',
        identificatie: 'A1',
        dagtekening: '2024-01-01',
        identificatie_retour: null,
        dagtekening_retour: null,
        key_hash: 'k1',
        content_hash: 'c1',
        conflict: 0,
        first_moment: '2024-01-01T00:00:00.000Z',
        hub_id: null,
        verzender: '0363',
        ontvanger_hub: '12345678',
        passages: 1,
        rows: '{}',
        raw_id: raw.id,
        ingest_run_id: run.id,
        ingested_at: 't',
      };
      const m = await store.db
        .insertInto('message')
        .values(message)
        .returning('seq')
        .executeTakeFirstOrThrow();
      expect(typeof m.seq).toBe('number');
      await expect(store.db.insertInto('message').values(message).execute()).rejects.toThrow();
      const back = await store.db.selectFrom('raw_message').selectAll().executeTakeFirstOrThrow();
      expect(Buffer.from(back.ciphertext).toString()).toBe('x');
      const n = await sql<{ n: number }>`select count(*) as n from message`.execute(store.db);
      expect(Number(n.rows[0]?.n)).toBe(1);
    } finally {
      await drop();
    }
  });
});
