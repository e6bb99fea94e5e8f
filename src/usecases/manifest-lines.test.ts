import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LongLine, manifestLines } from './manifest-lines.js';

const lines = async (chunks: readonly string[], max?: number) => {
  const out: (string | LongLine)[] = [];
  for await (const l of manifestLines(Readable.from(chunks.map((c) => Buffer.from(c))), max)) out.push(l);
  return out;
};

describe('manifest lines', () => {
  it('splits on LF and CRLF across chunks, keeps empty lines and a last line without a newline', async () => {
    expect(await lines(['{"a":1}\r\n{"b"', ':2}\n\n{"c":', '"é"}'])).toEqual([
      '{"a":1}',
      '{"b":2}',
      '',
      '{"c":"é"}',
    ]);
    expect(await lines([])).toEqual([]);
    expect(await lines(['x\n'])).toEqual(['x']);
  });

  it('splits on a lone CR too (old Mac line ends), and takes a CRLF split over two chunks as one line end', async () => {
    expect(await lines(['{"a":1}\r{"b":2}\r', '{"c":3}\r'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(await lines(['{"a":1}\r', '\n{"b":2}\r\n', '\r\n'])).toEqual(['{"a":1}', '{"b":2}', '']);
    expect(await lines(['a\r', '', '\nb'])).toEqual(['a', 'b']);
    // A CR-only manifest over the limit of one line is still read line by line.
    const many = Array.from({ length: 5000 }, (_, i) => `{"n":${i}}`).join('\r');
    expect(await lines([many])).toHaveLength(5000);
  });

  it('gives a line over the limit as its head and its length, and goes on with the next line', async () => {
    const long = 'y'.repeat(25);
    const got = await lines([`ok\n${long.slice(0, 7)}`, long.slice(7), '\nnext\n'], 10);
    expect(got).toEqual(['ok', new LongLine('yyyyyyyyyy', 25), 'next']);
  });

  it('keeps no more than the limit of a line of 64 MB (readline would hold all of it)', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 1 << 20;
        this.push(produced > 64 << 20 ? null : Buffer.alloc(1 << 20, 0x41));
      },
    });
    const got: (string | LongLine)[] = [];
    for await (const l of manifestLines(endless)) got.push(l);
    expect(got).toHaveLength(1);
    expect(got[0]).toBeInstanceOf(LongLine);
    expect((got[0] as LongLine).bytes).toBe(64 << 20);
    expect((got[0] as LongLine).head).toHaveLength(64 * 1024);
  });
});
