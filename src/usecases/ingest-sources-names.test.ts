import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { DIALECTS, withFreshStore } from '../../test/support/databases.js';
import { SECRET, validExamples } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { type IngestSummary, ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { listQuarantine } from './quarantine.js';

const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');
const examples = validExamples();
const xmlOf = (code: string) => examples.find((e) => e.name.endsWith(`/${code}.xml`))!.xml;
const line = (file: string, n: number) =>
  JSON.stringify({
    file,
    moment: new Date(Date.UTC(2024, 2, 4, 9, 0, n)).toISOString(),
    verzender: '0384',
    ontvanger: '12345678',
  });

const tmp = mkdtempSync(join(tmpdir(), 'ketendata-names-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function ingest(store: Store, path: string): Promise<IngestSummary> {
  const s = await ingestSource({ store, keys, now }, await openSource(path), { batchSize: 2 });
  expect(s.received).toBe(s.stored + s.duplicates + s.quarantined + s.skipped);
  return s;
}

const openItems = async (store: Store) =>
  (await listQuarantine(store)).map((i) => [i.source, i.reasonCode]).sort();

/**
 * A ZIP as yazl writes it (every name UTF-8, flagged), then per entry as other tools write it: `unflag` clears
 * the UTF-8 flag (general purpose bit 11) in the local and central header, `raw` puts other name bytes of the
 * same length in both.
 */
async function writeZip(
  path: string,
  files: { name: string; data: Buffer | string; unflag?: boolean; raw?: Buffer }[],
): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(Buffer.from(f.data), f.name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const buf = Buffer.concat(chunks);
  // No ZIP comment: the end of central directory record is the last 22 bytes.
  const eocd = buf.length - 22;
  expect(buf.readUInt32LE(eocd)).toBe(0x06054b50);
  let at = buf.readUInt32LE(eocd + 16);
  for (const f of files) {
    expect(buf.readUInt32LE(at)).toBe(0x02014b50);
    const nameLength = buf.readUInt16LE(at + 28);
    const local = buf.readUInt32LE(at + 42);
    for (const [flag, name] of [
      [at + 8, at + 46],
      [local + 6, local + 30],
    ] as const) {
      if (f.unflag) buf.writeUInt16LE(buf.readUInt16LE(flag) & ~0x800, flag);
      if (f.raw) {
        expect(f.raw.length).toBe(nameLength);
        f.raw.copy(buf, name);
      }
    }
    at += 46 + nameLength + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  writeFileSync(path, buf);
}

const UTF8_FLAGGED = 'flagged-Zoë.xml';
const UTF8_UNFLAGGED = 'mac-Zoë.xml';
// CP437 0x81 is 'ü'; alone it is no UTF-8.
const CP437 = { name: 'dos-Zo_.xml', raw: Buffer.from('dos-Zo\x81.xml', 'latin1'), shown: 'dos-Zoü.xml' };

describe('ZIP entry names', () => {
  it('reads a name as UTF-8 when flagged or when it is UTF-8 without the flag (macOS), else as CP437', async () => {
    const path = join(tmp, 'names.zip');
    // Each entry holds the name it should come out under: the bytes show the right entry was read.
    await writeZip(path, [
      { name: UTF8_FLAGGED, data: UTF8_FLAGGED },
      { name: UTF8_UNFLAGGED, data: UTF8_UNFLAGGED, unflag: true },
      { name: CP437.name, data: CP437.shown, unflag: true, raw: CP437.raw },
      { name: 'plain.xml', data: 'plain.xml', unflag: true },
    ]);
    const source = await openSource(path);
    const got: [string, string | undefined, string][] = [];
    for await (const r of source.exchanges()) got.push([r.source, r.identity, (await r.read()).toString()]);
    await source.close();
    expect(got).toEqual(
      [CP437.shown, UTF8_FLAGGED, UTF8_UNFLAGGED, 'plain.xml'].map((n) => [`names.zip!${n}`, n, n]),
    );
  });
});

describe.each(DIALECTS)('ingest of a manifest source, on %s', (dialect) => {
  const withStore = (test: (store: Store) => Promise<void>) => withFreshStore(dialect, test);

  it('finds a Mac ZIP entry by the UTF-8 name a manifest line gives, and names an unnamed entry as it is', async () => {
    await withStore(async (store) => {
      const path = join(tmp, `mac-${dialect}.zip`);
      await writeZip(path, [
        { name: 'manifest.ndjson', data: `${line(UTF8_UNFLAGGED, 1)}\n` },
        { name: UTF8_UNFLAGGED, data: xmlOf('JW301'), unflag: true },
        { name: CP437.name, data: xmlOf('JW305'), unflag: true, raw: CP437.raw },
      ]);
      const s = await ingest(store, path);
      expect(s).toMatchObject({ received: 2, stored: 1, quarantined: 1 });
      expect(s.quarantinedByReason).toEqual({ 'ingest.not_in_manifest': 1 });
      expect(await openItems(store)).toEqual([
        [`mac-${dialect}.zip!${CP437.shown}`, 'ingest.not_in_manifest'],
      ]);
    });
  });

  // Every line and every file once: a line that cannot be used is one item, and the file it names (where it can
  // be read from the line) is not a second one; a file no line can be seen to name is an item of its own.
  it.each(['folder', 'ZIP'] as const)(
    'counts each unusable manifest line once and the file it names not again (%s)',
    async (form) => {
      await withStore(async (store) => {
        const files: [string, Buffer][] = [
          ['w1/a.xml', xmlOf('JW301')],
          ['w1/b.xml', xmlOf('JW305')],
          ['w1/d.xml', xmlOf('JW315')],
          ['w1/e.xml', xmlOf('JW317')],
          ['w1/f.xml', xmlOf('JW317')],
        ];
        const manifest = [
          line('a.xml', 1),
          JSON.stringify({ ...JSON.parse(line('d.xml', 2)), moment: '2024-02-30T09:00:00Z' }),
          JSON.stringify({ ...JSON.parse(line('./e.xml', 3)), verzender: 'x' }),
          '{"file":"f.xml", not json',
        ].join('\n');
        const base = join(tmp, `${form}-${dialect}`);
        let path = base;
        if (form === 'ZIP') {
          path = `${base}.zip`;
          await writeZip(path, [
            { name: 'w1/manifest.ndjson', data: manifest },
            ...files.map(([name, data]) => ({ name, data })),
          ]);
        } else {
          mkdirSync(join(base, 'w1'), { recursive: true });
          for (const [f, x] of files) writeFileSync(join(base, f), x);
          writeFileSync(join(base, 'w1/manifest.ndjson'), manifest);
          path = join(base, 'w1');
        }
        // 4 lines, and b.xml and f.xml, which no line can be seen to name.
        const s = await ingest(store, path);
        expect(s).toMatchObject({ received: 6, stored: 1, duplicates: 0, quarantined: 5, skipped: 0 });
        expect(s.quarantinedByReason).toEqual({ 'ingest.manifest_invalid': 3, 'ingest.not_in_manifest': 2 });
        const shown = form === 'ZIP' ? `${form}-${dialect}.zip!w1/` : '';
        expect(await openItems(store)).toEqual(
          [
            [`${shown}b.xml`, 'ingest.not_in_manifest'],
            [`${shown}f.xml`, 'ingest.not_in_manifest'],
            [`${shown}manifest.ndjson#2`, 'ingest.manifest_invalid'],
            [`${shown}manifest.ndjson#3`, 'ingest.manifest_invalid'],
            [`${shown}manifest.ndjson#4`, 'ingest.manifest_invalid'],
          ].sort(),
        );
        expect(await ingest(store, path)).toMatchObject({ received: 6, quarantined: 0, skipped: 6 });
      });
    },
  );
});
