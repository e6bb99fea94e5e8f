import { describe, expect, it } from 'vitest';
import { decodeXml } from './decode.js';

const doc = (encoding: string, body: number[]) =>
  Buffer.concat([
    Buffer.from(`<?xml version="1.0" encoding="${encoding}"?><a>`, 'latin1'),
    Buffer.from(body),
    Buffer.from('</a>', 'latin1'),
  ]);

const text = (d: ReturnType<typeof decodeXml>) => (d.ok ? d.text.slice(d.text.indexOf('<a>') + 3, -4) : d);

describe('decodeXml with a declared single-byte encoding', () => {
  it('refuses a byte above 0x7F in a file declared US-ASCII (UTF-8 é would be read as Ã©)', () => {
    for (const label of ['US-ASCII', 'ascii']) {
      expect(decodeXml(doc(label, [0x42, 0xc3, 0xa9]))).toEqual({
        ok: false,
        code: 'ingest.not_well_formed',
        reason: 'the file is not valid US-ASCII',
      });
      expect(text(decodeXml(doc(label, [0x42, 0x6f])))).toBe('Bo');
    }
  });

  it('reads ISO-8859-1 as ISO-8859-1: 0x80–0x9F are C1 code points, not windows-1252 (€)', () => {
    expect(text(decodeXml(doc('ISO-8859-1', [0x80, 0xe9])))).toBe('\u0080é');
    expect(text(decodeXml(doc('latin1', [0x9f])))).toBe('\u009f');
    expect(text(decodeXml(doc('windows-1252', [0x80, 0xe9])))).toBe('€é');
    expect(text(decodeXml(doc('ISO-8859-15', [0xa4])))).toBe('€');
  });

  it('refuses a byte the declared code page does not define', () => {
    expect(decodeXml(doc('windows-1252', [0x81]))).toEqual({
      ok: false,
      code: 'ingest.not_well_formed',
      reason: 'the file is not valid windows-1252',
    });
  });
});
