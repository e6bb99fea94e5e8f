import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { freshStore } from '../../test/support/databases.js';
import { SECRET } from '../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { ingestSource } from '../usecases/ingest-exchanges.js';
import { openSource } from '../usecases/ingest-sources.js';
import { simulate } from './simulate.js';
import { ZipWriter } from './zip-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'ketendata-zip-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every entry of a ZIP as yauzl (what ingest uses) reads it. */
function readZip(
  path: string,
): Promise<{ count: number; entries: Map<string, { text: string; date: Date }> }> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const entries = new Map<string, { text: string; date: Date }>();
      zip.on('entry', (e: yauzl.Entry) =>
        zip.openReadStream(e, (err2, stream) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            entries.set(e.fileName, {
              text: Buffer.concat(chunks).toString('utf8'),
              date: e.getLastModDate(),
            });
            zip.readEntry();
          });
        }),
      );
      zip.on('end', () => resolve({ count: zip.entryCount, entries }));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('ZipWriter', () => {
  it('writes entries, large ones and files as stored entries that yauzl reads back', async () => {
    const path = join(dir, 'mixed.zip');
    const side = join(dir, 'side.ndjson');
    writeFileSync(side, '{"a":1}\n{"b":"ë"}\n');
    const big = 'x'.repeat(3 << 20);
    const zip = new ZipWriter(path);
    zip.add(
      'berichten/2025/03/GGK00000001.xml',
      Buffer.from('<Bericht>Zoë &amp; café</Bericht>\n'),
      Date.UTC(2025, 2, 4, 9, 12, 34),
    );
    zip.add('big.txt', Buffer.from(big), Date.UTC(2025, 2, 5));
    zip.add('bytes.bin', Buffer.from([1, 2, 3]), Date.UTC(2025, 2, 5));
    zip.addFile('side.ndjson', side, Date.UTC(2025, 2, 6));
    zip.close();
    const { entries } = await readZip(path);
    expect([...entries.keys()]).toEqual([
      'berichten/2025/03/GGK00000001.xml',
      'big.txt',
      'bytes.bin',
      'side.ndjson',
    ]);
    expect(entries.get('berichten/2025/03/GGK00000001.xml')?.text).toBe(
      '<Bericht>Zoë &amp; café</Bericht>\n',
    );
    expect(entries.get('berichten/2025/03/GGK00000001.xml')?.date.toISOString()).toBe(
      '2025-03-04T09:12:34.000Z',
    );
    expect(entries.get('big.txt')?.text).toBe(big);
    expect(entries.get('bytes.bin')?.text).toBe('\u0001\u0002\u0003');
    expect(entries.get('side.ndjson')?.text).toBe('{"a":1}\n{"b":"ë"}\n');
    // No side file left next to the ZIP.
    expect(readdirSync(dir).filter((n) => n.startsWith('mixed.zip'))).toEqual(['mixed.zip']);
  });

  it('adds ZIP64 end records for more than 65,535 entries', async () => {
    const path = join(dir, 'many.zip');
    const zip = new ZipWriter(path);
    const n = 70_000;
    for (let i = 0; i < n; i++) zip.add(`e/${i}.txt`, Buffer.from(String(i)), Date.UTC(2025, 0, 1));
    zip.close();
    const { count, entries } = await readZip(path);
    expect(count).toBe(n);
    expect(entries.size).toBe(n);
    expect(entries.get('e/69999.txt')?.text).toBe('69999');
  });
});

function filesUnder(root: string, sub = root): string[] {
  return readdirSync(sub).flatMap((n) => {
    const p = join(sub, n);
    return statSync(p).isDirectory() ? filesUnder(root, p) : [relative(root, p)];
  });
}

describe('simulate --out x.zip', () => {
  const options = {
    gemeenten: '3',
    clients: 120,
    from: '2024-01-01',
    to: '2024-06-30',
    seed: 7,
    duplicates: 0.03,
    errors: 0.1,
  };
  const folder = join(dir, 'traffic');
  const zip = join(dir, 'traffic.zip');
  simulate({ ...options, out: folder });
  simulate({ ...options, out: zip });

  it('holds exactly the files of the folder output, byte for byte, and nothing next to it', async () => {
    const { entries } = await readZip(zip);
    const files = filesUnder(folder);
    expect([...entries.keys()].sort()).toEqual(files.sort());
    for (const f of files) expect(entries.get(f)?.text, f).toBe(readFileSync(join(folder, f), 'utf8'));
    expect(readdirSync(dir).filter((n) => n.startsWith('traffic.zip'))).toEqual(['traffic.zip']);
  });

  it('ingests to the same summary as the folder', async () => {
    const keys = deriveKeys(SECRET);
    const now = () => new Date('2024-07-01T08:00:00Z');
    const ingest = async (path: string) => {
      const { store, drop } = await freshStore('sqlite');
      try {
        const { runId: _, ...summary } = await ingestSource({ store, keys, now }, await openSource(path), {
          batchSize: 250,
        });
        return summary;
      } finally {
        await drop();
      }
    };
    const fromFolder = await ingest(folder);
    expect(fromFolder.stored).toBeGreaterThan(500);
    expect(fromFolder.duplicates).toBeGreaterThan(0);
    expect(fromFolder.quarantined).toBeGreaterThan(0);
    expect(await ingest(zip)).toEqual(fromFolder);
  });
});
