import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mutants } from '../../test/support/mutations.js';
import { xmllintVerdicts } from '../../test/support/xmllint.js';
import { schemaSet } from '../schema/releases.js';
import { parseMessage } from './index.js';

const FIXTURES = new URL('../../test/fixtures/istandaarden/', import.meta.url);
const DIRS = ['ijw-voorbeelden', 'ijw-voorbeelden-gecorrigeerd', 'iwmo-voorbeelden'];
const examples = DIRS.flatMap((dir) =>
  readdirSync(new URL(dir, FIXTURES))
    .filter((f) => f.endsWith('.xml'))
    .map((f) => ({ name: `${dir}/${f}`, text: readFileSync(new URL(`${dir}/${f}`, FIXTURES), 'utf8') })),
);

/** Derived iWmo retours have no official example: the iJw retour moved into the iWmo namespaces. */
function derivedExamples(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const m of schemaSet().messages.filter((x) => x.derivedFrom)) {
    const src = examples.find(
      (e) => e.name.endsWith(`/${m.derivedFrom}.xml`) && !e.name.includes('gecorrigeerd'),
    );
    const fixed = examples.find((e) => e.name.endsWith(`gecorrigeerd/${m.derivedFrom}.xml`));
    const base = fixed ?? src;
    const from = m.derivedFrom ? schemaSet().byCode(m.derivedFrom) : undefined;
    if (!base || !from) continue;
    const fromPrefix = from.code.toLowerCase();
    const toPrefix = m.code.toLowerCase();
    const text = base.text
      .replaceAll(from.namespace, m.namespace)
      .replaceAll(from.basisNamespace, m.basisNamespace)
      .replaceAll(`${fromPrefix}:`, `${toPrefix}:`)
      .replaceAll('ijw:', 'iwmo:')
      .replace(/(<[\w]+:BerichtCode>)\d{3}/, `$1${m.berichtCode}`);
    out.push({ name: `derived/${m.code}.xml`, text });
  }
  return out;
}

function schemaOf(text: string) {
  const m =
    /<(?:[\w-]+:)?Bericht[^>]*?xmlns(?::[\w-]+)?="(http:\/\/www\.istandaarden\.nl\/i(?:jw|wmo)\/3_2\/(?:jw|wmo)\d{3}\/schema)"/.exec(
      text,
    );
  return m ? schemaSet().byNamespace(m[1] as string) : undefined;
}

describe('validation agrees with xmllint --schema', () => {
  const corpus = [...examples, ...derivedExamples()];

  it('on every official example and the derived iWmo retours', () => {
    const bySchema = new Map<string, { name: string; text: string }[]>();
    for (const e of corpus) {
      const s = schemaOf(e.text);
      if (!s) throw new Error(`${e.name}: no schema`);
      bySchema.set(s.xsdFile, [...(bySchema.get(s.xsdFile) ?? []), e]);
    }
    for (const [xsd, docs] of bySchema) {
      const ref = xmllintVerdicts(
        xsd,
        docs.map((d) => d.text),
      );
      docs.forEach((d, i) => {
        expect(parseMessage(d.text, { file: d.name }).ok, d.name).toBe(ref[i]);
      });
    }
  });

  it('on a few thousand mutated messages (values, order, cardinality, namespaces, text, attributes)', () => {
    const bySchema = new Map<string, { name: string; text: string }[]>();
    let seed = 1;
    // Mutate only valid bases: the published JW315/JW318 are invalid already.
    for (const e of corpus.filter((x) => !/ijw-voorbeelden\/JW31[58]/.test(x.name))) {
      const s = schemaOf(e.text);
      if (!s) continue;
      const list = bySchema.get(s.xsdFile) ?? [];
      mutants(e.text, seed++, 3, s.root).forEach((text, i) => {
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
});
