import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { exampleTraffic, validExamples } from '../../test/support/exchange-fixtures.js';
import { type ExchangeRef, MAX_EXCHANGE_BYTES, openSource, parseManifestLine } from './ingest-sources.js';

const LIST_CHILD = join(import.meta.dirname, '..', '..', 'test', 'support', 'list-source.ts');
const traffic = exampleTraffic();
const tmp = mkdtempSync(join(tmpdir(), 'ketendata-sources-'));
afterAll(() => {
  rmSync(traffic.dir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

async function collect(
  path: string,
): Promise<{ refs: ExchangeRef[]; bytes: (Buffer | string)[]; total: number | undefined }> {
  const source = await openSource(path);
  const refs: ExchangeRef[] = [];
  for await (const r of source.exchanges()) refs.push(r);
  const bytes = await Promise.all(refs.map((r) => r.read().catch((e: Error) => e.message)));
  await source.close();
  return { refs, bytes, total: source.total };
}

function zipFolder(dir: string, files: readonly string[], prefix: string, out: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(readFileSync(join(dir, f)), `${prefix}${f}`);
  zip.end();
  return new Promise((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(out)).on('close', resolve).on('error', reject);
  });
}

describe('exchange sources', () => {
  it('reads a folder with a manifest: metadata per line, files relative to it, bad lines kept as problems', async () => {
    const { refs, bytes, total } = await collect(traffic.dir);
    expect(total).toBe(traffic.expected.received);
    expect(refs).toHaveLength(traffic.expected.received);
    expect(refs[0]).toMatchObject({
      source: 'berichten/001.xml',
      verzender: '0384',
      ontvanger: '12345678',
      hubId: 'GGK00000001',
    });
    expect(refs[0]!.moment).toBe('2024-03-04T09:00:01.000Z');
    expect(String(bytes[0])).toContain('Bericht');
    const bad = refs.find((r) => r.problem);
    expect(bad?.problem?.code).toBe('ingest.manifest_invalid');
    expect(bad?.problem?.reason).toMatch(/manifest.ndjson line \d+: field "file"/);
    expect(bytes.some((b) => typeof b === 'string' && b.includes('ENOENT'))).toBe(true);
  });

  it('names a bad line of a manifest given by path after that manifest, not the default name', async () => {
    const path = join(tmp, 'maandag.ndjson');
    writeFileSync(path, '{"file":"a.xml","moment":"gisteren","verzender":"0384","ontvanger":"12345678"}\n');
    const { refs } = await collect(path);
    expect(refs.map((r) => [r.source, r.problem?.reason])).toEqual([
      ['maandag.ndjson#1', 'maandag.ndjson line 1: moment "gisteren" is not an ISO-8601 date-time with zone'],
    ]);
  });

  it('names UTF-16 as the reason a manifest line is not JSON', async () => {
    const path = join(tmp, 'woensdag.ndjson');
    const text =
      '{"file":"a.xml","moment":"2026-02-03T00:00:00Z","verzender":"0384","ontvanger":"12345678"}\n';
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const { refs } = await collect(path);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs)
      expect(r.problem?.reason).toMatch(/not valid JSON: the manifest is not UTF-8 \(it looks like UTF-16/);
  });

  it('says of a well-written moment on a day that does not exist that the day does not exist', async () => {
    const path = join(tmp, 'dinsdag.ndjson');
    writeFileSync(
      path,
      '{"file":"a.xml","moment":"2026-02-30T00:00:00Z","verzender":"0384","ontvanger":"12345678"}\n',
    );
    const { refs } = await collect(path);
    expect(refs.map((r) => r.problem?.reason)).toEqual([
      'dinsdag.ndjson line 1: moment "2026-02-30T00:00:00Z" is no date and time that exists (a day such as 30 February, or an hour past 23)',
    ]);
  });

  it('reads the same exchanges from a ZIP of the folder, also when the manifest sits in a top folder', async () => {
    const folder = await collect(traffic.dir);
    const files = [
      'manifest.ndjson',
      ...folder.refs.filter((r) => !r.problem && !r.source.includes('missing')).map((r) => r.source),
    ];
    const zipPath = join(tmp, 'extract.zip');
    await zipFolder(traffic.dir, files, 'export-2024-03/', zipPath);
    const zipped = await collect(zipPath);
    expect(zipped.total).toBe(folder.total);
    // Shown with the ZIP and the path in it; identified by the path relative to the manifest, as in a folder
    // (a bad line by its manifest's path).
    expect(zipped.refs.map((r) => [r.source, r.identity, r.moment, r.hubId])).toEqual(
      folder.refs.map((r) => [
        `extract.zip!export-2024-03/${r.problem ? 'manifest.ndjson#' : ''}${r.problem ? r.source.split('#')[1] : r.source}`,
        r.problem ? `export-2024-03/${r.source}` : r.source,
        r.moment,
        r.hubId,
      ]),
    );
    const same = zipped.bytes.map((b, i) =>
      Buffer.isBuffer(b) ? b.equals(folder.bytes[i] as Buffer) : 'error',
    );
    expect(same.filter((s) => s === true)).toHaveLength(
      folder.bytes.filter((b) => Buffer.isBuffer(b)).length,
    );
  });

  it('finds files named with ./ in a ZIP as in a folder, and reads a manifest with CR line ends', async () => {
    const folder = await collect(traffic.dir);
    const good = folder.refs.filter((r) => !r.problem && !r.source.includes('missing'));
    const dir = mkdtempSync(join(tmp, 'dot-'));
    const lines = readFileSync(join(traffic.dir, 'manifest.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => good.some((r) => l.includes(`"${r.source}"`)))
      .map((l) => l.replace('"file":"', '"file":"./'));
    // Old Mac line ends: one manifest line each, as with LF.
    writeFileSync(join(dir, 'manifest.ndjson'), `${lines.join('\r')}\r`);
    for (const r of good) {
      mkdirSync(join(dir, r.source, '..'), { recursive: true });
      writeFileSync(join(dir, r.source), readFileSync(join(traffic.dir, r.source)));
    }
    const plain = await collect(dir);
    expect(plain.refs.filter((r) => r.problem)).toEqual([]);
    expect(plain.refs).toHaveLength(good.length);
    const zipPath = join(tmp, 'dot.zip');
    await zipFolder(dir, ['manifest.ndjson', ...good.map((r) => r.source)], '', zipPath);
    const zipped = await collect(zipPath);
    expect(zipped.bytes.filter((b) => !Buffer.isBuffer(b))).toEqual([]);
    expect(zipped.bytes).toEqual(plain.bytes);
    // A ZIP tool that names its entries ./manifest.ndjson, ./berichten/…: the same files.
    const dotZip = join(tmp, 'dot-entries.zip');
    await zipFolder(dir, ['manifest.ndjson', ...good.map((r) => r.source)], './', dotZip);
    const dotted = await collect(dotZip);
    expect(dotted.bytes.filter((b) => !Buffer.isBuffer(b))).toEqual([]);
    expect(dotted.bytes).toEqual(plain.bytes);
  });

  it('reads every manifest of a ZIP that holds several (a folder each), each with the files beside it', async () => {
    const folder = await collect(traffic.dir);
    const files = [
      'manifest.ndjson',
      ...folder.refs.filter((r) => !r.problem && !r.source.includes('missing')).map((r) => r.source),
    ];
    const zip = new yazl.ZipFile();
    for (const week of ['week1/', 'week2/'])
      for (const f of files) zip.addBuffer(readFileSync(join(traffic.dir, f)), `${week}${f}`);
    zip.end();
    const zipPath = join(tmp, 'weeks.zip');
    await new Promise<void>((resolve, reject) => {
      zip.outputStream
        .pipe(createWriteStream(zipPath))
        .on('close', () => resolve())
        .on('error', reject);
    });
    const both = await collect(zipPath);
    expect(both.total).toBe(2 * (folder.total ?? 0));
    // Each named by its full path in the ZIP; a bad line's identity names its manifest, so the same bad line
    // in two weeks is two exchanges (before, both were `manifest.ndjson#n`: the second counted as ingested).
    expect(both.refs.map((r) => r.source)).toEqual(
      ['week1/', 'week2/'].flatMap((week) => folder.refs.map((r) => `weeks.zip!${week}${r.source}`)),
    );
    const bad = both.refs.filter((r) => r.problem).map((r) => r.identity);
    expect(bad).toEqual(
      ['week1/', 'week2/'].flatMap((w) => folder.refs.filter((r) => r.problem).map((r) => w + r.source)),
    );
    expect(new Set(bad).size).toBe(bad.length);
  });

  it('reads every entry of a name that a ZIP holds twice, and refuses to guess which one a manifest means', async () => {
    const [a, b, c] = validExamples().map((e) => Buffer.from(e.xml));
    const write = async (out: string, entries: [string, Buffer][]) => {
      const zip = new yazl.ZipFile();
      for (const [name, data] of entries) zip.addBuffer(data, name);
      zip.end();
      await new Promise<void>((resolve, reject) => {
        zip.outputStream
          .pipe(createWriteStream(out))
          .on('close', () => resolve())
          .on('error', reject);
      });
    };
    const plain = join(tmp, 'dup.zip');
    await write(plain, [
      ['dup.xml', a!],
      ['dup.xml', b!],
      ['other.xml', c!],
    ]);
    const read = await collect(plain);
    expect(read.total).toBe(3);
    // The last keeps the name: a store made when only the last of a name was read finds it again.
    expect(read.refs.map((r) => r.identity)).toEqual(['dup.xml#1', 'dup.xml', 'other.xml']);
    expect(read.bytes).toEqual([a, b, c]);

    const line = (file: string, hubId: string) =>
      JSON.stringify({
        file,
        moment: '2024-03-04T09:00:00Z',
        verzender: '0384',
        ontvanger: '12345678',
        hubId,
      });
    const listed = join(tmp, 'dup-manifest.zip');
    await write(listed, [
      ['manifest.ndjson', Buffer.from(`${line('dup.xml', 'D1')}\n${line('other.xml', 'D2')}\n`)],
      ['dup.xml', a!],
      ['dup.xml', b!],
      ['other.xml', c!],
    ]);
    const got = await collect(listed);
    expect(got.bytes[0]).toBe(
      'ingest.file_ambiguous: the ZIP dup-manifest.zip holds 2 entries named dup.xml; which one is meant cannot be told',
    );
    expect(got.bytes[1]).toEqual(c);
  });

  it("makes a ZIP entry named '../x.xml' or '/x.xml' an item of its own and reads the other entries", async () => {
    const [a, b, c] = validExamples().map((e) => Buffer.from(e.xml));
    const zip = new yazl.ZipFile();
    zip.addBuffer(a!, 'ok.xml');
    zip.addBuffer(b!, 'XX/evil.xml');
    zip.addBuffer(c!, 'YYYabs.xml');
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    // yazl refuses such names, so they are put in afterwards (same length, in both headers).
    const bytes = Buffer.from(
      Buffer.concat(chunks).toString('latin1').replaceAll('XX/', '../').replaceAll('YYY', '///'),
      'latin1',
    );
    const path = join(tmp, 'evil.zip');
    writeFileSync(path, bytes);
    const got = await collect(path);
    expect(got.refs.map((r) => [r.source, r.problem?.code ?? null])).toEqual([
      ['evil.zip!../evil.xml', 'ingest.entry_refused'],
      ['evil.zip!///abs.xml', 'ingest.entry_refused'],
      ['evil.zip!ok.xml', null],
    ]);
    expect(got.refs[0]!.problem!.reason).toBe(
      "evil.zip!../evil.xml: the ZIP names this entry by a path with '..', which leads outside the ZIP's folder: it is not read",
    );
    expect(got.bytes[2]).toEqual(a);
  });

  it('names why a ZIP entry cannot be read: corrupt data, encrypted, a size that does not match', async () => {
    const xml = Buffer.from(validExamples()[0]!.xml);
    const zip = new yazl.ZipFile();
    for (const name of ['a.xml', 'b.xml', 'c.xml', 'd.xml']) zip.addBuffer(xml, name);
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    // Central directory headers: flags at +8, uncompressed size at +24, name length at +28, name at +46.
    const central = Buffer.from([0x50, 0x4b, 1, 2]);
    for (let at = bytes.indexOf(central); at >= 0; at = bytes.indexOf(central, at + 4)) {
      const name = bytes.subarray(at + 46, at + 46 + bytes.readUInt16LE(at + 28)).toString();
      if (name === 'b.xml') bytes.writeUInt16LE(bytes.readUInt16LE(at + 8) | 1, at + 8); // encrypted
      if (name === 'c.xml') bytes.writeUInt32LE(10, at + 24); // says 10 bytes
    }
    // a.xml's deflated data (after its 30-byte local header and name), garbled.
    for (let i = 60; i < 100; i++) bytes[35 + i] = bytes[35 + i]! ^ 0xff;
    const path = join(tmp, 'broken.zip');
    writeFileSync(path, bytes);
    const got = await collect(path);
    expect(got.bytes[0]).toMatch(/^ingest\.unreadable: its (compressed data is corrupt|size does not match)/);
    expect(got.bytes[1]).toBe(
      'ingest.unreadable: the entry is encrypted (with a password): it cannot be read',
    );
    expect(got.bytes[2]).toMatch(
      /^ingest\.unreadable: its size does not match the ZIP directory \(too many bytes in the stream\. expected 10\./,
    );
    expect(got.bytes[3]).toEqual(xml);
  });

  it('reads a file too big for one exchange as an error, not into memory', async () => {
    const dir = join(tmp, 'big');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'big.xml'), Buffer.alloc(MAX_EXCHANGE_BYTES + 1, 0x20));
    const { bytes } = await collect(dir);
    expect(String(bytes[0])).toMatch(
      /^ingest\.too_large: .*big\.xml has 20,971,521 bytes, more than the 20,971,520 \(20 MB\) of one exchange$/,
    );
  });

  it('reads the time of a ZIP entry as Dutch time when it has only a DOS time, on a machine in any zone', async () => {
    const xml = readFileSync(join(traffic.dir, 'berichten', '001.xml'));
    // Summer and winter: 12:00 in Amsterdam is 10:00Z and 11:00Z.
    const expected = ['2024-07-01T10:00:00.000Z', '2024-01-15T11:00:00.000Z', '2024-07-01T10:00:06.000Z'];
    const zipPath = join(tmp, 'times.zip');
    const tz = process.env.TZ;
    try {
      // yazl writes a DOS time in the zone of the process: in Amsterdam, as a hub's extract would have it.
      process.env.TZ = 'Europe/Amsterdam';
      const zip = new yazl.ZipFile();
      zip.addBuffer(xml, 'dos-summer.xml', { mtime: new Date(expected[0]!), forceDosTimestamp: true });
      zip.addBuffer(xml, 'dos-winter.xml', { mtime: new Date(expected[1]!), forceDosTimestamp: true });
      // With the Info-ZIP time field the instant itself is in the entry.
      zip.addBuffer(xml, 'ut.xml', { mtime: new Date(expected[2]!) });
      zip.end();
      await new Promise<void>((resolve, reject) => {
        zip.outputStream.pipe(createWriteStream(zipPath)).on('close', resolve).on('error', reject);
      });
      for (const zone of ['America/New_York', 'Asia/Tokyo', 'UTC']) {
        process.env.TZ = zone;
        const { refs } = await collect(zipPath);
        expect(
          refs.map((r) => r.moment),
          zone,
        ).toEqual(expected);
      }
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('reads a plain folder of XML files without a manifest, with the file time as moment and no parties', async () => {
    const dir = join(tmp, 'plain');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const ex = validExamples().slice(0, 3);
    ex.forEach((e, i) => {
      const p = join(dir, i === 2 ? 'sub' : '', `m${i}.xml`);
      writeFileSync(p, e.xml);
      utimesSync(p, new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
    });
    writeFileSync(join(dir, 'notes.txt'), 'not an exchange');
    const { refs, total } = await collect(dir);
    expect(total).toBe(3);
    expect(refs.map((r) => r.source)).toEqual(['m0.xml', 'm1.xml', 'sub/m2.xml']);
    expect(refs[0]).toMatchObject({
      moment: '2024-01-02T03:04:05.000Z',
      verzender: null,
      ontvanger: null,
      hubId: null,
    });
  });

  it('reads a file whose name is not valid UTF-8 by its raw name, and shows the odd bytes as \\xNN', async () => {
    const dir = join(tmp, 'badname');
    mkdirSync(dir, { recursive: true });
    const xml = validExamples()[0]!.xml;
    writeFileSync(join(dir, 'a.xml'), xml);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/b`), Buffer.from([0xff]), Buffer.from('.xml')]), xml);
    const { refs, bytes } = await collect(dir);
    expect(refs.map((r) => r.source)).toEqual(['a.xml', 'b\\xff.xml']);
    expect(bytes.map((b) => Buffer.isBuffer(b) && b.equals(Buffer.from(xml)))).toEqual([true, true]);
  });

  it('names the folders a plain folder source read, for the run to settle their items', async () => {
    const dir = join(tmp, 'nested');
    mkdirSync(join(dir, 'jw', '2026'), { recursive: true });
    mkdirSync(join(dir, 'leeg'));
    writeFileSync(join(dir, 'jw', '2026', 'a.xml'), validExamples()[0]!.xml);
    symlinkSync(join(dir, 'jw'), join(dir, 'via-link'));
    const source = await openSource(dir);
    // The root too, and a folder reached by a link (read, under its real name).
    expect(source.foldersRead).toEqual(['./', 'jw/', 'jw/2026/', 'leeg/', 'via-link/']);
    await source.close();
  });

  it('makes a folder that cannot be read an item of its own and lists the rest of the folder', () => {
    const dir = join(tmp, 'locked');
    mkdirSync(join(dir, 'closed'), { recursive: true });
    writeFileSync(join(dir, 'a.xml'), validExamples()[0]!.xml);
    writeFileSync(join(dir, 'closed', 'b.xml'), validExamples()[0]!.xml);
    chmodSync(dir, 0o755);
    chmodSync(tmp, 0o755);
    chmodSync(join(dir, 'closed'), 0);
    // Permissions do not bind root: then the folder is listed by another account, in a child process.
    const root = process.getuid?.() === 0;
    let out: string;
    try {
      out = execFileSync(process.execPath, ['--import', 'tsx', LIST_CHILD, dir], {
        encoding: 'utf8',
        ...(root ? { uid: 65534, gid: 65534 } : {}),
      });
    } finally {
      chmodSync(join(dir, 'closed'), 0o755);
    }
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { source: 'a.xml', problem: null },
      { source: 'closed/', problem: 'ingest.unreadable' },
    ]);
  });

  it('follows links that stay inside the source folder and makes one that leads outside or nowhere an item', async () => {
    const xml = validExamples()[0]!.xml;
    const outside = join(tmp, 'elsewhere');
    mkdirSync(join(outside, 'folder'), { recursive: true });
    writeFileSync(join(outside, 'secret.xml'), xml);
    const dir = join(tmp, 'links');
    mkdirSync(join(dir, 'real'), { recursive: true });
    writeFileSync(join(dir, 'real', 'a.xml'), xml);
    writeFileSync(join(dir, 'real', 'a.data'), xml);
    symlinkSync(join(dir, 'real', 'a.data'), join(dir, 'inside.xml'));
    // A second way to a file listed already (by a link, or by the walk), and to a folder walked already:
    // nothing new to read.
    symlinkSync(join(dir, 'real', 'a.data'), join(dir, 'inside2.xml'));
    symlinkSync(join(dir, 'real', 'a.xml'), join(dir, 'again.xml'));
    symlinkSync(join(dir, 'real'), join(dir, 'aa'));
    symlinkSync(join(outside, 'secret.xml'), join(dir, 'out.xml'));
    symlinkSync(join(outside, 'folder'), join(dir, 'outdir'));
    symlinkSync(join(tmp, 'nothing.xml'), join(dir, 'broken.xml'));
    symlinkSync(dir, join(dir, 'real', 'loop'));
    const { refs, bytes } = await collect(dir);
    expect(refs.map((r) => [r.source, r.problem?.code ?? null])).toEqual([
      ['broken.xml', 'ingest.link_refused'],
      ['inside.xml', null],
      ['out.xml', 'ingest.link_refused'],
      ['outdir/', 'ingest.link_refused'],
      ['real/a.xml', null],
    ]);
    expect(refs[2]!.problem!.reason).toBe(
      `out.xml: is a link to ${join(outside, 'secret.xml')}, outside the source folder: only links that stay inside the source folder are followed`,
    );
    expect(bytes[1]).toEqual(Buffer.from(xml));

    // A manifest's folder likewise: the line naming a link that leads outside is refused, not read.
    writeFileSync(
      join(dir, 'manifest.ndjson'),
      ['out.xml', 'inside.xml', 'broken.xml']
        .map((file) =>
          JSON.stringify({ file, moment: '2024-03-04T09:00:00Z', verzender: '0384', ontvanger: '12345678' }),
        )
        .join('\n'),
    );
    const listed = await collect(dir);
    expect(listed.bytes[0]).toMatch(
      /^ingest\.link_refused: leads to .*secret\.xml, outside the source folder/,
    );
    expect(listed.bytes[1]).toEqual(Buffer.from(xml));
    expect(listed.bytes[2]).toMatch(
      /^ingest\.link_refused: is a link that leads nowhere \(it does not exist, ENOENT\)/,
    );
  });

  it('checks where each opened file really is: a folder swapped for a link while ingest runs leads nowhere else', async () => {
    const xml = validExamples()[0]!.xml;
    const outside = join(tmp, 'swap-outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'b.xml'), 'SECRET-OUTSIDE');
    const dir = join(tmp, 'swap');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'a.xml'), xml);
    writeFileSync(join(dir, 'sub', 'b.xml'), xml);
    writeFileSync(
      join(dir, 'manifest.ndjson'),
      ['sub/a.xml', 'sub/b.xml']
        .map((file) =>
          JSON.stringify({ file, moment: '2024-03-04T09:00:00Z', verzender: '0384', ontvanger: '12345678' }),
        )
        .join('\n'),
    );
    const source = await openSource(dir);
    const reads: (Buffer | string)[] = [];
    for await (const r of source.exchanges()) {
      reads.push(await r.read().catch((e: Error) => e.message));
      // After the first file: the folder becomes a link to another place.
      if (reads.length === 1) {
        rmSync(join(dir, 'sub'), { recursive: true });
        symlinkSync(outside, join(dir, 'sub'));
      }
    }
    await source.close();
    expect(reads[0]).toEqual(Buffer.from(xml));
    expect(reads[1]).toMatch(
      /^ingest\.link_refused: leads to .*swap-outside\/b\.xml, outside the source folder/,
    );
  });

  it('never opens a FIFO in a plain folder: it is an item of its own', async () => {
    const dir = join(tmp, 'fifo-folder');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.xml'), validExamples()[0]!.xml);
    execFileSync('mkfifo', [join(dir, 'pipe.xml')]);
    const { refs } = await collect(dir);
    expect(refs.map((r) => [r.source, r.problem?.code ?? null])).toEqual([
      ['a.xml', null],
      ['pipe.xml', 'ingest.not_a_file'],
    ]);
    expect(refs[1]!.problem!.reason).toContain('is a named pipe (FIFO), not a regular file');
  });

  it('checks every manifest field and refuses paths outside the manifest folder', () => {
    expect(
      parseManifestLine(
        '{"file":"a.xml","moment":"2024-03-04T10:12:33+01:00","verzender":"0363","ontvanger":"12345678"}',
        'm',
      ),
    ).toEqual({
      ok: true,
      file: 'a.xml',
      moment: '2024-03-04T09:12:33.000Z',
      verzender: '0363',
      ontvanger: '12345678',
      hubId: null,
    });
    const bad = (line: string) => parseManifestLine(line, 'm line 1');
    expect(bad('nope')).toEqual({ ok: false, reason: 'm line 1: not valid JSON' });
    expect(
      bad('{"file":"../x.xml","moment":"2024-03-04T09:00:00Z","verzender":"a","ontvanger":"b"}').ok,
    ).toBe(false);
    expect(bad('{"file":"x.xml","moment":"2024-03-04 09:00","verzender":"a","ontvanger":"b"}')).toMatchObject(
      { ok: false, reason: expect.stringContaining('moment') },
    );
    expect(bad('{"file":"x.xml","moment":"2024-03-04T09:00:00Z","ontvanger":"b"}')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('verzender'),
    });
    // Hub metadata lands in every delivery: only a CBS (4 digits) or AGB (8 digits) code is taken.
    expect(
      bad(
        '{"file":"x.xml","moment":"2024-03-04T09:00:00Z","verzender":"hello; =1+1","ontvanger":"12345678"}',
      ),
    ).toEqual({
      ok: false,
      reason:
        'm line 1: verzender "hello; =1+1" is not a municipality CBS code (4 digits) or a provider AGB code (8 digits)',
    });
    expect(
      bad('{"file":"x.xml","moment":"2024-03-04T09:00:00Z","verzender":"0363","ontvanger":"x"}'),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('ontvanger "x" is not') });
  });

  it('names a missing or unknown source clearly', async () => {
    await expect(openSource(join(tmp, 'nothing-here'))).rejects.toThrow(/ingest.source_missing/);
    writeFileSync(join(tmp, 'x.csv'), '');
    await expect(openSource(join(tmp, 'x.csv'))).rejects.toThrow(/ingest.source_unknown/);
  });
});

describe('a damaged ZIP', () => {
  const tmp2 = mkdtempSync(join(tmpdir(), 'ketendata-damaged-'));
  afterAll(() => rmSync(tmp2, { recursive: true, force: true }));

  const writeZip = async (out: string, entries: [string, Buffer, boolean][]) => {
    const zip = new yazl.ZipFile();
    for (const [name, data, compress] of entries) zip.addBuffer(data, name, { compress });
    zip.end();
    await new Promise<void>((resolve, reject) => {
      zip.outputStream
        .pipe(createWriteStream(out))
        .on('close', () => resolve())
        .on('error', reject);
    });
  };

  it('quarantines an entry whose data does not match its CRC-32 (one digit of a BSN changed)', async () => {
    const [a, b] = validExamples().map((e) => Buffer.from(e.xml));
    const path = join(tmp2, 'crc.zip');
    await writeZip(path, [
      ['a.xml', a!, false],
      ['b.xml', b!, false],
    ]);
    const bytes = readFileSync(path);
    const at = bytes.indexOf(Buffer.from('Bsn>')) + 4;
    bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
    writeFileSync(path, bytes);
    const read = await collect(path);
    expect(read.bytes[0]).toBe(
      'ingest.unreadable: its data does not match the CRC-32 in the ZIP directory: the ZIP is damaged',
    );
    expect(read.bytes[1]).toEqual(b);
  });

  it('names the ZIP, the entry and the reason when its manifest cannot be unpacked', async () => {
    const [a] = validExamples().map((e) => Buffer.from(e.xml));
    const line = JSON.stringify({
      file: 'a.xml',
      moment: '2024-03-04T09:00:00Z',
      verzender: '0384',
      ontvanger: '12345678',
    });
    const manifest = Buffer.from(`${line}\n`.repeat(2000));
    const path = join(tmp2, 'manifest.zip');
    await writeZip(path, [
      ['manifest.ndjson', manifest, true],
      ['a.xml', a!, false],
    ]);
    const bytes = readFileSync(path);
    // The compressed data begins after the local header (30 bytes) and the name; wreck some of it.
    const start = 30 + 'manifest.ndjson'.length;
    for (let i = start + 2; i < start + 40; i++) bytes[i] = 0xff;
    writeFileSync(path, bytes);
    await expect(collect(path)).rejects.toThrow(
      /^ingest\.source_unreadable: manifest\.zip!manifest\.ndjson: its compressed data is corrupt \(/,
    );
  });
});

describe('a source path', () => {
  it('that is a link loop is unreadable, not missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-loop-'));
    try {
      const loop = join(dir, 'loop.xml');
      symlinkSync(loop, loop);
      await expect(openSource(loop)).rejects.toThrow(
        /^ingest\.source_unreadable: .*loop\.xml cannot be read \(/,
      );
      await expect(openSource(join(dir, 'absent'))).rejects.toThrow(/^ingest\.source_missing: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
