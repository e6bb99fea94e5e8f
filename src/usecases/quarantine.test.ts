import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { EXAMPLES, exampleTraffic, SECRET } from '../../test/support/exchange-fixtures.js';
import { parseMessage } from '../ingest/index.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { listAudit } from '../store/audit.js';
import { type ConflictingExchange, ingestSource, type QuarantinedExchange } from './ingest-exchanges.js';
import type { Parse } from './ingest-prepare.js';
import { openSource } from './ingest-sources.js';
import {
  dismissQuarantine,
  exportQuarantined,
  listQuarantine,
  otherMessageThan,
  retryQuarantine,
} from './quarantine.js';

const traffic = exampleTraffic();
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');

// A parser that does not know JW305 yet: the "bug" a later release fixes.
const withoutJw305: Parse = (xml, source) => {
  const r = parseMessage(xml, source);
  if (r.ok && r.message.schema.code === 'JW305') {
    return {
      ok: false,
      error: {
        code: 'ingest.unknown_type',
        message: `${source.file}: JW305 not supported`,
        file: source.file,
      },
    };
  }
  return r;
};

describe.each(DIALECTS)('quarantine on %s', (dialect) => {
  it('stores exchanges that pass after a software fix, as new messages or as passages of a stored one', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const first = await ingestSource(
        { store, keys, now, parse: withoutJw305 },
        await openSource(traffic.dir),
      );
      expect(first.quarantinedByReason['ingest.unknown_type']).toBe(3);
      const open = await listQuarantine(store);
      expect(open).toHaveLength(traffic.expected.quarantined + 2);
      expect(open.every((e) => e.status === 'open')).toBe(true);

      const retry = await retryQuarantine({ store, keys, now }, undefined);
      expect(retry.resolved).toBe(2);
      expect(retry.stored).toBe(2);
      expect(retry.conflicts).toBe(1);
      expect(retry.notRetryable).toHaveLength(2);
      expect(retry.quarantined).toBe(3);
      const after = await listQuarantine(store);
      expect(after.map((e) => e.reasonCode).sort()).toEqual([
        'ingest.file_missing',
        'ingest.manifest_invalid',
        'ingest.not_well_formed',
        'ingest.unknown_type',
        'ingest.xsd_invalid',
      ]);
      const resolved = (await listQuarantine(store, { all: true })).filter((e) => e.status === 'resolved');
      expect(resolved).toHaveLength(2);
      for (const e of resolved) {
        const ex = await store.db
          .selectFrom('exchange')
          .selectAll()
          .where('quarantine_id', '=', e.id)
          .executeTakeFirstOrThrow();
        expect(Number(ex.message_seq)).toBe(e.resolvedMessageSeq);
      }
      const messages = await store.db.selectFrom('message').select('seq').execute();
      expect(messages).toHaveLength(traffic.expected.stored);
    } finally {
      await drop();
    }
  });

  it('reports each quarantined exchange with the item that keeps it, and each conflict with both seqs, as written', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const quarantined: QuarantinedExchange[] = [];
      const conflicts: ConflictingExchange[] = [];
      await ingestSource({ store, keys, now, parse: withoutJw305 }, await openSource(traffic.dir), {
        batchSize: 7,
        onQuarantined: (q) => quarantined.push(q),
        onConflict: (c) => conflicts.push(c),
      });
      const open = await listQuarantine(store);
      expect(quarantined).toEqual(
        open.map((e) => ({ id: e.id, source: e.source, reasonCode: e.reasonCode, reason: e.reason })),
      );
      expect(conflicts).toEqual([]);
      // The retry reports what stays quarantined under the same ids, and the JW305 versions as a conflict.
      const again: QuarantinedExchange[] = [];
      await retryQuarantine({ store, keys, now }, undefined, {
        onQuarantined: (q) => again.push(q),
        onConflict: (c) => conflicts.push(c),
      });
      const still = await listQuarantine(store);
      expect(again.map((q) => q.id)).toEqual(
        still
          .filter((e) => e.reasonCode !== 'ingest.manifest_invalid' && e.reasonCode !== 'ingest.file_missing')
          .map((e) => e.id),
      );
      expect(conflicts).toHaveLength(1);
      const versions = await store.db
        .selectFrom('message')
        .select('seq')
        .where('conflict', '=', 1)
        .orderBy('seq')
        .execute();
      expect(conflicts[0]).toMatchObject({
        code: 'JW305',
        identificatie: '123456789012',
        seq: Number(versions[1]!.seq),
        earlierSeq: Number(versions[0]!.seq),
      });
    } finally {
      await drop();
    }
  });

  it('stores a corrected file in place of a quarantined one and keeps the rest open', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const invalid = (await listQuarantine(store)).find((e) => e.reasonCode === 'ingest.xsd_invalid')!;
      expect(invalid.reason).toContain('JW315');
      const fixed = readFileSync(join(EXAMPLES, 'ijw-voorbeelden-gecorrigeerd', 'JW315.xml'));
      const r = await retryQuarantine({ store, keys, now }, [invalid.id], { replacement: fixed });
      expect(r).toMatchObject({ tried: 1, resolved: 1 });
      // The corrected JW315 is the one already stored: it counts as a second passage.
      expect(r.duplicates).toBe(1);
      const m = await store.db
        .selectFrom('message')
        .select('passages')
        .where('code', '=', 'JW315')
        .executeTakeFirstOrThrow();
      expect(m.passages).toBe(2);
      expect((await listQuarantine(store)).map((e) => e.id)).not.toContain(invalid.id);
      const again = await retryQuarantine({ store, keys, now }, [invalid.id]);
      expect(again.unknownIds).toEqual([invalid.id]);
    } finally {
      await drop();
    }
  });
  it('refuses a corrected file that is another message than the item, and changes nothing', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const invalid = (await listQuarantine(store)).find((e) => e.reasonCode === 'ingest.xsd_invalid')!;
      const before = await store.db
        .selectFrom('message')
        .select(['seq', 'passages'])
        .orderBy('seq')
        .execute();
      // Another type (a JW301 for the JW315 item), and the same type from another sender.
      const jw315 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden-gecorrigeerd', 'JW315.xml'), 'utf8');
      const sender = /<(\w+:)?Afzender>([^<]+)</.exec(jw315)![2]!;
      for (const [file, expected] of [
        [readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW301.xml')), /^JW301 /],
        [Buffer.from(jw315.replace(`Afzender>${sender}<`, 'Afzender>99999999<')), /^JW315 99999999 → /],
      ] as const) {
        const r = await retryQuarantine({ store, keys, now }, [invalid.id], { replacement: file });
        expect(r).toMatchObject({ tried: 0, resolved: 0 });
        expect(r.otherMessage?.item).toMatch(new RegExp(`^JW315 ${sender} → \\S+ Identificatie \\S+$`));
        expect(r.otherMessage?.file).toMatch(expected);
        expect((await listQuarantine(store)).find((e) => e.id === invalid.id)?.status).toBe('open');
        expect(
          await store.db.selectFrom('message').select(['seq', 'passages']).orderBy('seq').execute(),
        ).toEqual(before);
      }
      // Taken when the operator says the file corrects those fields.
      const told = await retryQuarantine({ store, keys, now }, [invalid.id], {
        replacement: Buffer.from(jw315.replace(`Afzender>${sender}<`, 'Afzender>99999999<')),
        otherIdentity: true,
      });
      expect(told.otherMessage).toBeUndefined();
      expect(told).toMatchObject({ tried: 1, resolved: 1 });
      // (Its own correction replaces it: 'stores a corrected file in place of a quarantined one'.)
    } finally {
      await drop();
    }
  });

  it('closes items an operator dismisses, with the note in the audit log; a re-ingest does not reopen them', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const open = await listQuarantine(store);
      const [first, second] = open;
      const r = await dismissQuarantine(store, {
        ids: [second!.id, first!.id, 999],
        note: 'verzender leverde een gecorrigeerd bericht',
        actor: 'cli:beheer',
        now: now(),
      });
      expect(r).toEqual({
        dismissed: [first!.id, second!.id],
        notOpen: [999],
        note: 'verzender leverde een gecorrigeerd bericht',
      });
      expect((await listQuarantine(store)).map((e) => e.id)).toEqual(open.slice(2).map((e) => e.id));
      const all = await listQuarantine(store, { all: true });
      expect(all.filter((e) => e.status === 'dismissed').map((e) => e.id)).toEqual([first!.id, second!.id]);
      const [entry] = await listAudit(store.db, { actionPrefix: 'quarantine.dismiss' });
      expect(entry).toMatchObject({ actor: 'cli:beheer' });
      expect(JSON.parse(String(entry?.detail))).toEqual({
        ids: [first!.id, second!.id],
        note: 'verzender leverde een gecorrigeerd bericht',
      });
      // Dismissed is final: not dismissed twice, not retried, not reopened by the same input.
      expect(
        await dismissQuarantine(store, { ids: [first!.id], note: 'x', actor: 'cli:beheer', now: now() }),
      ).toEqual({ dismissed: [], notOpen: [first!.id], note: 'x' });
      expect((await retryQuarantine({ store, keys, now }, [first!.id])).unknownIds).toEqual([first!.id]);
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      expect((await listQuarantine(store)).map((e) => e.id)).toEqual(open.slice(2).map((e) => e.id));
      await expect(
        dismissQuarantine(store, { ids: [open[2]!.id], note: '  ', actor: 'cli:beheer', now: now() }),
      ).rejects.toThrow(/quarantine.no_note/);
    } finally {
      await drop();
    }
  });
});

describe.each(DIALECTS)('the message of a quarantine item on %s', (dialect) => {
  it('is given as received, decrypted, with an audit line; none for an item whose file was not read', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const items = await listQuarantine(store);
      const written: Buffer[] = [];
      const exportOf = (id: number, write = (m: Buffer) => void written.push(m)) =>
        exportQuarantined({ store, keys }, { id, actor: 'cli:op', now: now(), write });
      const invalid = items.find((i) => i.reasonCode === 'ingest.xsd_invalid');
      expect(await exportOf(invalid!.id)).toEqual({
        source: invalid!.source,
        reasonCode: 'ingest.xsd_invalid',
        exported: true,
      });
      expect(written).toEqual([readFileSync(join(traffic.dir, invalid!.source))]);
      const exports = () => listAudit(store.db, { actionPrefix: 'quarantine.export' });
      expect(await exports()).toMatchObject([
        { actor: 'cli:op', detail: JSON.stringify({ ids: [invalid!.id] }) },
      ]);
      // A write that fails is no export: not in the audit log.
      const failing = exportOf(invalid!.id, () => {
        throw new Error('disk full');
      });
      await expect(failing).rejects.toThrow('disk full');
      expect(await exports()).toHaveLength(1);
      const missing = items.find((i) => i.reasonCode === 'ingest.file_missing');
      expect(await exportOf(missing!.id)).toEqual({
        source: 'berichten/missing.xml',
        reasonCode: 'ingest.file_missing',
        exported: false,
      });
      expect(await exportOf(99_999)).toBeUndefined();
      expect(written).toHaveLength(1);
      expect(await exports()).toHaveLength(1);
    } finally {
      await drop();
    }
  });
});

describe('a dismissal note', () => {
  it('is stored with runs of 9 or more digits masked (a BSN), and returned as stored', async () => {
    const { store, drop } = await freshStore('sqlite');
    try {
      await ingestSource({ store, keys, now }, await openSource(traffic.dir));
      const [item] = await listQuarantine(store);
      const r = await dismissQuarantine(store, {
        ids: [item!.id],
        note: '  bsn 111222333 fout, zie ticket 12345678, cliënt 999 435 978  ',
        actor: 'cli:beheer',
        now: now(),
      });
      // Eight digits (a ticket, a date) stay readable.
      expect(r.note).toBe('bsn ********* fout, zie ticket 12345678, cliënt *** *** ***');
      const [entry] = await listAudit(store.db, { actionPrefix: 'quarantine.dismiss' });
      expect(String(entry?.detail)).not.toContain('111222333');
      expect(String(entry?.detail)).not.toContain('999 435 978');
      expect(JSON.parse(String(entry?.detail))).toEqual({ ids: [item!.id], note: r.note });
    } finally {
      await drop();
    }
  });
});

describe('quarantine retry meeting a dismissal', () => {
  it('leaves an item another operator dismissed meanwhile dismissed, and stores nothing of the retry', async () => {
    const { store, dataDir, drop } = await freshStore('sqlite');
    try {
      await ingestSource({ store, keys, now, parse: withoutJw305 }, await openSource(traffic.dir));
      const item = (await listQuarantine(store)).find((e) => e.reasonCode === 'ingest.unknown_type')!;
      const messages = (await store.db.selectFrom('message').select('seq').execute()).length;
      // The other operator acts while this retry parses (a second connection, as another process would).
      const other = new SqliteDatabase(join(dataDir, 'ketendata.sqlite'));
      const dismissWhileParsing: Parse = (xml, source) => {
        other.prepare("UPDATE quarantine SET status = 'dismissed' WHERE id = ?").run(item.id);
        return parseMessage(xml, source);
      };
      await expect(
        retryQuarantine({ store, keys, now, parse: dismissWhileParsing }, [item.id]),
      ).rejects.toThrow(/quarantine.not_open: quarantine item \d+ was closed meanwhile/);
      other.close();
      const after = await store.db
        .selectFrom('quarantine')
        .select('status')
        .where('id', '=', item.id)
        .executeTakeFirstOrThrow();
      expect(after.status).toBe('dismissed');
      expect((await store.db.selectFrom('message').select('seq').execute()).length).toBe(messages);
    } finally {
      await drop();
    }
  });
});

describe('a corrected file against its quarantine item', () => {
  const jw301 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW301.xml'), 'utf8');
  const field = (name: string) => new RegExp(`(<(\\w+:)?${name}>)([^<]*)(<)`);
  const header = (name: string) => field(name).exec(jw301)![3]!;
  const withField = (text: string, name: string, value: string) => text.replace(field(name), `$1${value}$4`);
  const bytes = (text: string) => Buffer.from(text);

  it('is the same message when it corrects an invalid type, sender, receiver or Identificatie', () => {
    const afzender = header('Afzender');
    const cases = [
      // The sender's leading zero lost, an Identificatie too long, a misspelt namespace.
      withField(jw301, 'Afzender', afzender.replace(/^0+/, '').slice(0, 3)),
      withField(jw301, 'Identificatie', `${header('Identificatie')}XXXXXXXXXXXXX`),
      jw301.replace('/jw301/schema', '/jw031/schema'),
      'niet eens XML',
    ];
    for (const item of cases)
      expect(otherMessageThan(bytes(item), bytes(jw301)), item.slice(0, 40)).toBeUndefined();
    // With a BOM, whitespace around a value, another prefix: still the same message.
    const layout = `\uFEFF${withField(jw301, 'Afzender', ` ${afzender} `)}`;
    expect(otherMessageThan(bytes(jw301), bytes(layout))).toBeUndefined();
  });

  it('is another message when a valid type, sender, receiver or Identificatie differ, in UTF-16 too', () => {
    const other = withField(jw301, 'Identificatie', 'ANDER1');
    expect(otherMessageThan(bytes(jw301), bytes(other))).toEqual({
      item: expect.stringMatching(new RegExp(`^JW301 \\S+ → \\S+ Identificatie ${header('Identificatie')}$`)),
      file: expect.stringMatching(/^JW301 \S+ → \S+ Identificatie ANDER1$/),
    });
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(other.replace(/encoding="[^"]*"/, 'encoding="UTF-16"'), 'utf16le'),
    ]);
    expect(otherMessageThan(bytes(jw301), utf16)?.file).toMatch(/Identificatie ANDER1$/);
    const jw315 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden-gecorrigeerd', 'JW315.xml'));
    expect(otherMessageThan(bytes(jw301), jw315)?.file).toMatch(/^JW315 /);
  });
});
