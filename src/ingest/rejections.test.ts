import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage } from './index.js';

const INVALID = new URL('../../test/fixtures/invalid/', import.meta.url);
const BASE = readFileSync(
  new URL('../../test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml', import.meta.url),
  'utf8',
);

const cases: [string, string][] = [
  ['empty.xml', 'ingest.empty'],
  ['blank.xml', 'ingest.empty'],
  ['bom-only.xml', 'ingest.empty'],
  ['malformed.xml', 'ingest.not_well_formed'],
  ['truncated.xml', 'ingest.not_well_formed'],
  ['binary.xml', 'ingest.not_well_formed'],
  ['not-utf8.xml', 'ingest.not_well_formed'],
  ['undefined-entity.xml', 'ingest.not_well_formed'],
  ['two-roots.xml', 'ingest.not_well_formed'],
  ['unbound-prefix.xml', 'ingest.not_well_formed'],
  ['doctype-xxe.xml', 'ingest.doctype_forbidden'],
  ['billion-laughs.xml', 'ingest.doctype_forbidden'],
  ['wrong-namespace.xml', 'ingest.unknown_type'],
  ['unknown-root.xml', 'ingest.unknown_type'],
  ['no-namespace.xml', 'ingest.unknown_type'],
  ['xsd-invalid.xml', 'ingest.xsd_invalid'],
];

describe('rejected files', () => {
  it.each(cases)('rejects %s with %s and a message naming the file', (file, code) => {
    const outcome = parseMessage(readFileSync(new URL(file, INVALID)), { file: `in/${file}` });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe(code);
    expect(outcome.error.file).toBe(`in/${file}`);
    expect(outcome.error.message.startsWith(`in/${file}: `)).toBe(true);
    expect(outcome.error.message).not.toContain('\n');
  });

  it('never reads the external entity of a DOCTYPE', () => {
    const outcome = parseMessage(readFileSync(new URL('doctype-xxe.xml', INVALID)), { file: 'x.xml' });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.message).not.toContain('root:');
  });

  it('names the element path and the rule for an XSD error', () => {
    const outcome = parseMessage(readFileSync(new URL('xsd-invalid.xml', INVALID)), { file: 'x.xml' });
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.error.messageCode).toBe('JW301');
    expect(outcome.error.path).toBe('/Bericht/Header');
    expect(outcome.error.message).toContain('BerichtVersie is not expected here; expected BerichtCode');
    expect(outcome.error.line).toBeGreaterThan(1);
  });

  it('names the namespace it expected for an element of the right name in another namespace', () => {
    const other = 'http://www.istandaarden.nl/ijw/3_1/basisschema/schema';
    const outcome = parseMessage(
      Buffer.from(
        BASE.replace(
          /<ijw:Identificatie>([^<]*)<\/ijw:Identificatie>/,
          `<x:Identificatie xmlns:x="${other}">$1</x:Identificatie>`,
        ),
      ),
      { file: 'x.xml' },
    );
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.error.message).toContain(
      `element {${other}}Identificatie is not expected here; expected Identificatie in namespace http://www.istandaarden.nl/ijw/3_2/basisschema/schema`,
    );
  });

  it('quotes at most 100 characters of a name in a reason, however long the name', () => {
    const long = `X${'y'.repeat(200_000)}`;
    const outcome = parseMessage(
      Buffer.from(BASE.replace('<jw301:Client>', `<jw301:${long}/><jw301:Client>`)),
      {
        file: 'x.xml',
      },
    );
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.error.code).toBe('ingest.xsd_invalid');
    expect(outcome.error.message).toMatch(/element \{[^}]+\}Xy+… is not expected here/);
    expect(outcome.error.message.length).toBeLessThan(400);
    const unclosed = parseMessage(Buffer.from(`<${long}>`), { file: 'y.xml' });
    if (unclosed.ok) throw new Error('accepted');
    expect(unclosed.error.message.length).toBeLessThan(400);
    expect(unclosed.error.message).toContain('…');
  });

  it('never puts a BSN, name or date into an error', () => {
    const bsn = BASE.replace('<jw301:Bsn>999900006</jw301:Bsn>', '<jw301:Bsn>99990000X</jw301:Bsn>');
    // A birth date identifies a client too: a malformed one is described, not repeated.
    const birth = BASE.replace('<ijw:Datum>2010-02-14</ijw:Datum>', '<ijw:Datum>14-02-2010</ijw:Datum>');
    const name = BASE.replace(
      '<ijw:Achternaam>Wit</ijw:Achternaam>',
      `<ijw:Achternaam>${'Wit'.repeat(100)}</ijw:Achternaam>`,
    );
    expect(birth).not.toBe(BASE);
    for (const text of [bsn, birth, name]) {
      const outcome = parseMessage(text, { file: 'x.xml' });
      if (outcome.ok) throw new Error('accepted');
      expect(outcome.error.code).toBe('ingest.xsd_invalid');
      expect(outcome.error.message).not.toMatch(/99990000X|WitWit|14-02-2010/);
    }
  });

  it('checks a pattern like ([.\\s]*\\S+[.\\s]*)+ on a long value without catastrophic backtracking', async () => {
    const { xsdPatternToRegExp } = await import('./xsd-regex.js');
    const re = xsdPatternToRegExp('([.\\s]*\\S+[.\\s]*)+');
    const started = performance.now();
    expect(re.test(`${' '.repeat(50_000)}`)).toBe(false);
    expect(re.test(`${'. '.repeat(50_000)}!`)).toBe(true);
    expect(re.test(`${' \t'.repeat(20_000)}\u00a0`)).toBe(true);
    // A generous bound: backtracking would take minutes, not milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

/**
 * A reason names the element and the rule, never the value: for these four elements the value is a client's
 * BSN or a number that leads to one, and quarantine reasons are shown in the portal, the API and the CLI.
 */
describe('rejected values of the pseudonymised elements', () => {
  const JW315 = readFileSync(
    new URL('../../test/fixtures/istandaarden/ijw-voorbeelden-gecorrigeerd/JW315.xml', import.meta.url),
    'utf8',
  );
  // Value → the elements whose type accepts it (it is then hashed like any other).
  const values: [string, string[]][] = [
    ['11122X333', ['ReferentieAanbieder']],
    ['1112223334', ['ReferentieAanbieder']],
    ['11122233', ['ToewijzingNummer', 'ReferentieAanbieder', 'BeschikkingNummer']],
    ['-11122233', ['ReferentieAanbieder']],
    ['LEAK 1112223 &lt;&amp;&gt;', ['ReferentieAanbieder']],
    [`9${'8'.repeat(40)}`, []],
  ];
  const cases: [string, string, string, boolean][] = [];
  for (const [value, accepted] of values) {
    for (const [code, element] of [
      ['JW301', 'Bsn'],
      ['JW301', 'ToewijzingNummer'],
      ['JW301', 'ReferentieAanbieder'],
      ['JW315', 'BeschikkingNummer'],
    ] as const)
      cases.push([code, element, value, accepted.includes(element)]);
  }
  it.each(cases)('%s %s %s: rejected without the value in the reason', (code, element, value, accepted) => {
    const base = code === 'JW301' ? BASE : JW315;
    const xml = base.replace(new RegExp(`(<(\\w+:)?${element}>)[^<]*`), `$1${value}`);
    expect(xml).not.toBe(base);
    const outcome = parseMessage(Buffer.from(xml), { file: 'in/m.xml' });
    expect(outcome.ok).toBe(accepted);
    if (outcome.ok) return;
    expect(outcome.error.path).toMatch(new RegExp(`/${element}$`));
    const shown = value.replace('&lt;', '<').replace('&amp;', '&').replace('&gt;', '>');
    expect(outcome.error.message).not.toContain(shown);
    for (const digits of shown.match(/\d{4,}/g) ?? []) expect(outcome.error.message).not.toContain(digits);
  });
});
