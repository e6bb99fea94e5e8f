import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { DIALECTS, withFreshStore } from '../../test/support/databases.js';
import { SECRET, validExamples } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { type IngestSummary, ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { listQuarantine } from './quarantine.js';

// Files a source holds but does not read (not named by its manifest, a ZIP inside it, an entry leading out of
// the ZIP) are each stored as an input-problem item, counted, and listed: none goes unnoticed.

const keys = deriveKeys(SECRET);
const now = () => new Date('2024-03-05T10:00:00Z');
const examples = validExamples();
const xmlOf = (code: string) => examples.find((e) => e.name.endsWith(`/${code}.xml`))!.xml;
const line = (file: string, n: number, hubId?: string) =>
  JSON.stringify({
    file,
    moment: new Date(Date.UTC(2024, 2, 4, 9, 0, n)).toISOString(),
    verzender: '0384',
    ontvanger: '12345678',
    ...(hubId ? { hubId } : {}),
  });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ketendata-unread-'));
  dirs.push(d);
  return d;
};

async function ingest(store: Store, path: string): Promise<IngestSummary> {
  const s = await ingestSource({ store, keys, now }, await openSource(path), { batchSize: 2 });
  expect(s.received).toBe(s.stored + s.duplicates + s.quarantined + s.skipped);
  return s;
}

/** Open items as [file, code]; each reason (but a manifest line's, named by its line) starts with the file. */
async function openItems(store: Store): Promise<[string, string][]> {
  const items = await listQuarantine(store);
  for (const i of items)
    if (i.reasonCode !== 'ingest.manifest_invalid') expect(i.reason.startsWith(`${i.source}: `)).toBe(true);
  return items.map((i) => [i.source, i.reasonCode] as [string, string]).sort();
}

/** A ZIP of [name, bytes]; `XX/` in a name becomes `../` (yazl refuses such names). */
async function writeZip(path: string, files: [string, Buffer | string][]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of files) zip.addBuffer(Buffer.from(data), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  writeFileSync(
    path,
    Buffer.from(Buffer.concat(chunks).toString('latin1').replaceAll('XX/', '../'), 'latin1'),
  );
}

describe.each(DIALECTS)('files a source does not read, on %s', (dialect) => {
  const withStore = (test: (store: Store) => Promise<void>) => withFreshStore(dialect, test);

  it('quarantines the files beside an empty manifest, and settles each once a line names it', async () => {
    await withStore(async (store) => {
      const dir = tmp();
      writeFileSync(join(dir, 'manifest.ndjson'), '');
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'a.xml'), xmlOf('JW301'));
      writeFileSync(join(dir, 'b.xml'), xmlOf('JW305'));
      writeFileSync(join(dir, 'sub/c.xml'), xmlOf('JW315'));
      writeFileSync(join(dir, 'sub/inner.zip'), 'x');
      writeFileSync(join(dir, 'notes.txt'), 'x');
      const first = await ingest(store, dir);
      expect(first).toMatchObject({ received: 4, stored: 0, quarantined: 4 });
      expect(first.quarantinedByReason).toEqual({ 'ingest.not_in_manifest': 3, 'ingest.nested_zip': 1 });
      expect(await openItems(store)).toEqual([
        ['a.xml', 'ingest.not_in_manifest'],
        ['b.xml', 'ingest.not_in_manifest'],
        ['sub/c.xml', 'ingest.not_in_manifest'],
        ['sub/inner.zip', 'ingest.nested_zip'],
      ]);
      const [a] = await listQuarantine(store);
      expect(a!.reason).toBe('a.xml: the manifest names no line for this file: it is not read');
      // Still unnamed: nothing new.
      expect(await ingest(store, dir)).toMatchObject({ received: 4, quarantined: 0, skipped: 4 });

      // The manifest fixed for two of them (one with a hub id, one without; one named `./`): both stored and
      // their items settled; the others stay open.
      writeFileSync(join(dir, 'manifest.ndjson'), `${line('a.xml', 1, 'H-A')}\n${line('./b.xml', 2)}\n`);
      const fixed = await ingest(store, dir);
      expect(fixed).toMatchObject({ received: 4, stored: 2, quarantined: 0, skipped: 2 });
      expect(await openItems(store)).toEqual([
        ['sub/c.xml', 'ingest.not_in_manifest'],
        ['sub/inner.zip', 'ingest.nested_zip'],
      ]);
      const resolved = (await listQuarantine(store, { all: true })).filter((i) => i.status === 'resolved');
      expect(resolved.map((i) => i.source).sort()).toEqual(['a.xml', 'b.xml']);
      expect(await ingest(store, dir)).toMatchObject({ received: 4, stored: 0, skipped: 4 });
    });
  });

  it.each(['folder', 'ZIP'] as const)(
    'settles the unnamed files in a %s once the fixed manifest names every file',
    async (form) => {
      await withStore(async (store) => {
        // As the hub delivers: files in subfolders, lines with hub ids. The first manifest has a line without a
        // file and one naming a file that is not there; the fixed one names every file, so none is unnamed.
        const dir = tmp();
        const files = [
          ['berichten/2026/08/GGK1.xml', 'JW301', 'H-1'],
          ['berichten/2026/08/GGK2.xml', 'JW305', 'H-2'],
          ['berichten/2026/08/GGK3.xml', 'JW315', 'H-3'],
        ] as const;
        const good = files.map(([f, , h], n) => line(f, n, h));
        const { file: _, ...noFile } = JSON.parse(good[1]!) as Record<string, string>;
        const broken = [good[0]!, JSON.stringify(noFile), line(`${files[2][0]}.missing`, 2, 'H-3')];
        const contents = files.map(([f, c]): [string, Buffer] => [f, xmlOf(c)]);
        const src = form === 'folder' ? join(dir, 'src') : join(dir, 'extract.zip');
        const write = async (manifest: string[]) => {
          const text = `${manifest.join('\n')}\n`;
          if (form === 'ZIP') return writeZip(src, [['manifest.ndjson', text], ...contents]);
          for (const [f, xml] of contents) {
            mkdirSync(join(src, f, '..'), { recursive: true });
            writeFileSync(join(src, f), xml);
          }
          writeFileSync(join(src, 'manifest.ndjson'), text);
        };
        await write(broken);
        const first = await ingest(store, src);
        expect(first).toMatchObject({ received: 5, stored: 1, quarantined: 4 });
        expect(first.quarantinedByReason).toEqual({
          'ingest.file_missing': 1,
          'ingest.manifest_invalid': 1,
          'ingest.not_in_manifest': 2,
        });
        await write(good);
        expect(await ingest(store, src)).toMatchObject({
          received: 3,
          stored: 2,
          quarantined: 0,
          skipped: 1,
        });
        expect(await openItems(store)).toEqual([]);
        const resolved = (await listQuarantine(store, { all: true })).filter((i) => i.status === 'resolved');
        expect(resolved.map((i) => i.reasonCode).sort()).toEqual([
          'ingest.file_missing',
          'ingest.manifest_invalid',
          'ingest.not_in_manifest',
          'ingest.not_in_manifest',
        ]);
      });
    },
  );

  it('quarantines the files a truncated manifest no longer names, and not a file an unusable line names', async () => {
    await withStore(async (store) => {
      const dir = tmp();
      for (const [f, c] of [
        ['a.xml', 'JW301'],
        ['b.xml', 'JW305'],
        ['c.xml', 'JW315'],
        ['d.xml', 'JW317'],
      ] as const)
        writeFileSync(join(dir, f), xmlOf(c));
      // d.xml's line is there but unusable: its item is the line's, not a second one for the file.
      const bad = JSON.stringify({ file: 'd.xml', moment: 'gisteren', verzender: '0384', ontvanger: '1' });
      writeFileSync(join(dir, 'manifest.ndjson'), `${line('a.xml', 1, 'H-A')}\n${bad}\n`);
      const s = await ingest(store, dir);
      expect(s).toMatchObject({ received: 4, stored: 1, quarantined: 3 });
      expect(s.quarantinedByReason).toEqual({ 'ingest.manifest_invalid': 1, 'ingest.not_in_manifest': 2 });
      expect(await openItems(store)).toEqual([
        ['b.xml', 'ingest.not_in_manifest'],
        ['c.xml', 'ingest.not_in_manifest'],
        ['manifest.ndjson#2', 'ingest.manifest_invalid'],
      ]);
    });
  });

  it('quarantines the unnamed, refused and nested entries of a manifest ZIP, and settles one named later', async () => {
    await withStore(async (store) => {
      const dir = tmp();
      const zipPath = join(dir, 'extract.zip');
      const entries = (manifest: string): [string, Buffer | string][] => [
        ['w1/manifest.ndjson', manifest],
        ['w1/a.xml', xmlOf('JW301')],
        ['w1/unlisted.xml', xmlOf('JW305')],
        ['XX/evil.xml', xmlOf('JW315')],
        ['week2.zip', 'x'],
      ];
      await writeZip(zipPath, entries(`${line('a.xml', 1, 'H-A')}\n`));
      const first = await ingest(store, zipPath);
      expect(first).toMatchObject({ received: 4, stored: 1, quarantined: 3 });
      expect(first.quarantinedByReason).toEqual({
        'ingest.entry_refused': 1,
        'ingest.nested_zip': 1,
        'ingest.not_in_manifest': 1,
      });
      expect(first.notXml).toBeUndefined();
      expect(await openItems(store)).toEqual([
        ['extract.zip!../evil.xml', 'ingest.entry_refused'],
        ['extract.zip!w1/unlisted.xml', 'ingest.not_in_manifest'],
        ['extract.zip!week2.zip', 'ingest.nested_zip'],
      ]);
      expect(await ingest(store, zipPath)).toMatchObject({ received: 4, stored: 0, skipped: 4 });

      // The hub's fixed ZIP names the file: stored, and its item settled (with a hub id, so under a new key).
      await writeZip(zipPath, entries(`${line('a.xml', 1, 'H-A')}\n${line('unlisted.xml', 2, 'H-U')}\n`));
      const fixed = await ingest(store, zipPath);
      expect(fixed).toMatchObject({ received: 4, stored: 1, quarantined: 0, skipped: 3 });
      expect(await openItems(store)).toEqual([
        ['extract.zip!../evil.xml', 'ingest.entry_refused'],
        ['extract.zip!week2.zip', 'ingest.nested_zip'],
      ]);
      // A file of that name named by a manifest elsewhere settles nothing: the item is named by its ZIP.
    });
  });

  it('quarantines a ZIP inside a plain folder; ingesting that ZIP on its own leaves the item open', async () => {
    await withStore(async (store) => {
      const dir = tmp();
      mkdirSync(join(dir, 'in'));
      writeFileSync(join(dir, 'in/a.xml'), xmlOf('JW301'));
      const inner = join(dir, 'in/inner.zip');
      await writeZip(inner, [['b.xml', xmlOf('JW305')]]);
      const s = await ingest(store, join(dir, 'in'));
      expect(s).toMatchObject({ received: 2, stored: 1, quarantined: 1 });
      expect(s.quarantinedByReason).toEqual({ 'ingest.nested_zip': 1 });
      expect(s.notXml).toBeUndefined();
      const [item] = await listQuarantine(store);
      expect(item).toMatchObject({ source: 'inner.zip', reasonCode: 'ingest.nested_zip', status: 'open' });
      expect(item!.reason).toBe('inner.zip: a ZIP inside the source is not read: ingest it on its own');
      // Ingested on its own it is another source: its message is stored, the item (of the folder) stays
      // open, for `quarantine dismiss`; the folder again adds nothing.
      expect(await ingest(store, inner)).toMatchObject({ received: 1, stored: 1 });
      expect(await openItems(store)).toEqual([['inner.zip', 'ingest.nested_zip']]);
      expect(await ingest(store, join(dir, 'in'))).toMatchObject({ received: 2, skipped: 2 });
    });
  });
});
