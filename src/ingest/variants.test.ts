import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { xmllintVerdicts } from '../../test/support/xmllint.js';
import { parseMessage } from './index.js';

const VARIANTS = new URL('../../test/fixtures/variants/', import.meta.url);
const BASE = new URL('../../test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml', import.meta.url);
const files = readdirSync(VARIANTS).filter((f) => f.endsWith('.xml'));

function flat(bytes: Buffer, file: string) {
  const outcome = parseMessage(bytes, { file });
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.message;
}

describe('notational variants of one message', () => {
  const base = flat(readFileSync(BASE), 'JW301.xml');

  it('has variants for prefixes, default namespaces, whitespace, CDATA, comments, BOM and encodings', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  it.each(files)('%s flattens to the same tables and canonical content as the original', (file) => {
    const msg = flat(readFileSync(new URL(file, VARIANTS)), file);
    expect(msg.canonical).toEqual(base.canonical);
    expect([...msg.tables]).toEqual([...base.tables]);
    expect(msg.key).toEqual(base.key);
  });

  it('are all valid for xmllint too', () => {
    const verdicts = xmllintVerdicts(
      base.schema.xsdFile,
      files.map((f) => readFileSync(new URL(f, VARIANTS))),
    );
    expect(verdicts.every(Boolean)).toBe(true);
  });

  it('keeps a meaningful difference: whitespace inside a string value changes the content', () => {
    const text = readFileSync(BASE, 'utf8').replace('>Zweeds<', '> Zweeds<');
    const msg = flat(Buffer.from(text), 'changed.xml');
    expect(msg.canonical).not.toEqual(base.canonical);
  });

  it('collapses whitespace around an integer and canonicalises a hashed integer without leading zeros', () => {
    const original = base.tables.get('JW301_ToegewezenProduct')?.[0]?.slice();
    const text = readFileSync(BASE, 'utf8').replace(
      /<jw301:ToewijzingNummer>(\d+)</,
      '<jw301:ToewijzingNummer>\n +000$1 <',
    );
    const msg = flat(Buffer.from(text), 'spaced.xml');
    expect(msg.tables.get('JW301_ToegewezenProduct')?.[0]).toEqual(original);
    expect(msg.canonical).toEqual(base.canonical);
  });

  it('hashes a string reference without the whitespace around it, and keeps that whitespace in the content', () => {
    const original = base.tables.get('JW301_ToegewezenProduct')?.map((r) => r.slice());
    const text = readFileSync(BASE, 'utf8').replace('>40A12341234<', '>\t 40A12341234  <');
    const msg = flat(Buffer.from(text), 'padded.xml');
    // The cells that will be hashed hold the trimmed reference: ` R1` joins `R1` in the link table.
    expect(msg.tables.get('JW301_ToegewezenProduct')).toEqual(original);
    // A string keeps its whitespace as the XSD says (preserve): the content, and so the BerichtId, differ.
    expect(msg.canonical).not.toEqual(base.canonical);
  });
});
