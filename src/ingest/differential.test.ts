import { describe, expect, it } from 'vitest';
import { type Example, examples } from '../../test/support/examples.js';
import { mutants, spansOf } from '../../test/support/mutations.js';
import { xmllintVerdicts } from '../../test/support/xmllint.js';
import { parseMessage } from './index.js';

describe('validation agrees with xmllint --schema', () => {
  const corpus = examples();

  it('on every official example and the derived iWmo retours', () => {
    const bySchema = new Map<string, Example[]>();
    for (const e of corpus) {
      const s = e.schema;
      bySchema.set(s.xsdFile, [...(bySchema.get(s.xsdFile) ?? []), e]);
    }
    for (const [xsd, docs] of bySchema) {
      const ref = xmllintVerdicts(
        xsd,
        docs.map((d) => d.text),
      );
      docs.forEach((d, i) => {
        expect(ref[i], `xmllint on ${d.name}`).toBe(d.valid);
        expect(parseMessage(d.text, { file: d.name }).ok, d.name).toBe(ref[i]);
      });
    }
  });

  it('on a few thousand mutated messages (values, order, cardinality, namespaces, text, attributes)', () => {
    const bySchema = new Map<string, { name: string; text: string }[]>();
    let seed = 1;
    // Mutate only valid bases: the published JW315/JW318 are invalid already.
    for (const e of corpus.filter((x) => x.valid)) {
      const s = e.schema;
      const list = bySchema.get(s.xsdFile) ?? [];
      mutants(e.text, seed++, 2, s.root).forEach((text, i) => {
        list.push({ name: `${e.name}#${i}`, text });
      });
      bySchema.set(s.xsdFile, list);
    }
    const disagreements: string[] = [];
    let total = 0;
    let invalid = 0;
    for (const [xsd, docs] of bySchema) {
      const ref = xmllintVerdicts(
        xsd,
        docs.map((d) => d.text),
      );
      docs.forEach((d, i) => {
        total++;
        const outcome = parseMessage(d.text, { file: d.name });
        if (!ref[i]) invalid++;
        if (outcome.ok !== ref[i]) {
          disagreements.push(
            `${d.name}: xmllint ${ref[i] ? 'valid' : 'invalid'}, ours ${outcome.ok ? 'valid' : outcome.error.message}`,
          );
        }
      });
    }
    expect(disagreements.slice(0, 20)).toEqual([]);
    expect(total).toBeGreaterThan(2000);
    // The corpus must exercise both verdicts substantially.
    expect(invalid).toBeGreaterThan(total / 4);
    expect(total - invalid).toBeGreaterThan(total / 10);
  });

  it('on XML 1.1 declarations: read as XML 1.0, so no control character gets into a value', () => {
    const jw301 = corpus.find((e) => e.name.endsWith('JW301.xml') && e.valid) as Example;
    const v11 = jw301.text.replace('version="1.0"', 'version="1.1"');
    const docs = [v11, v11.replace('>40A12341234<', '>40A&#x1F;12341234<')];
    expect(docs[1]).toContain('&#x1F;');
    expect(xmllintVerdicts(jw301.schema.xsdFile, docs)).toEqual([true, false]);
    expect(docs.map((d) => parseMessage(d, { file: 'v11.xml' }).ok)).toEqual([true, false]);
    const outcome = parseMessage(docs[1] as string, { file: 'v11.xml' });
    expect(outcome.ok ? '' : outcome.error.code).toBe('ingest.not_well_formed');
  });

  it('on edge values of every simple type of JW301 and JW323 (dates, times, integers, lengths, patterns)', () => {
    const disagreements: string[] = [];
    for (const e of corpus.filter((x) => /voorbeelden\/JW3(01|23)\.xml$/.test(x.name))) {
      const spans = spansOf(e.text);
      const seenTypes = new Set<string>();
      const docs: { name: string; text: string }[] = [];
      for (const s of spans) {
        if (s.children.length > 0) continue;
        const local = s.qname.slice(s.qname.indexOf(':') + 1);
        if (seenTypes.has(local)) continue;
        seenTypes.add(local);
        for (const v of EDGE_VALUES) {
          const escaped = v.replace(/&/g, '&amp;').replace(/</g, '&lt;');
          docs.push({
            name: `${e.name}:${local}=${JSON.stringify(v)}`,
            text: e.text.slice(0, s.contentStart) + escaped + e.text.slice(s.contentEnd),
          });
        }
      }
      const ref = xmllintVerdicts(
        e.schema.xsdFile,
        docs.map((d) => d.text),
      );
      docs.forEach((d, i) => {
        const outcome = parseMessage(d.text, { file: d.name });
        if (outcome.ok !== ref[i])
          disagreements.push(
            `${d.name}: xmllint ${ref[i] ? 'valid' : 'invalid'}, ours ${outcome.ok ? 'valid' : outcome.error.message}`,
          );
      });
    }
    expect(disagreements.slice(0, 30)).toEqual([]);
  });
});

const EDGE_VALUES = [
  ...[
    '2024-02-29',
    '2023-02-29',
    '1900-02-29',
    '2000-02-29',
    '2100-02-29',
    '0000-01-01',
    '0001-01-01',
    '-0001-01-01',
  ],
  ...[
    '10000-01-01',
    '01000-01-01',
    '2023-01-01Z',
    '2023-01-01-01:00',
    '2023-01-01+14:00',
    '2023-01-01-14:01',
  ],
  ...['2023-1-1', '2023-01-32', '2023-04-31', '2023-12-31', ' 2023-12-31\n', '2023-12-31T00:00:00'],
  ...[
    '24:00:00',
    '24:00:00.0',
    '24:00:00.5',
    '23:59:59',
    '23:59:60',
    '12:00:00-01:00',
    '12:00:00+01:00',
    '12:00:00Z',
  ],
  ...['12:00', '7:00:00', ' 12:00:00 ', '12:00:00.123456789'],
  ...[
    '0',
    '-0',
    '+0',
    '007',
    '999999999',
    '1000000000',
    '-1',
    '1 000',
    ' 5 ',
    '\u0663',
    '1.0',
    '99999999999999999999999',
  ],
  ...[
    '',
    ' ',
    'a',
    '\u00e9',
    '\u{1F600}',
    'a b',
    ' a',
    '\ta',
    'a\n',
    '.',
    '-',
    'Z',
    '1234AB',
    '1234 AB',
    '1234ab',
  ],
  ...['J', 'N', '01', '1', '2', '\u1ef3', '\u00ff', '\u0100', '[', '1.0.0', '1.0', '00.1.0'],
  ...[2, 3, 4, 8, 9, 10, 12, 13, 20, 24, 25, 26, 35, 36, 37, 200, 201].map((n) => 'A'.repeat(n)),
  ...[9, 10, 36, 37].map((n) => '\u{1F600}'.repeat(n)),
];
