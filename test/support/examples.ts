import { readdirSync, readFileSync } from 'node:fs';
import type { MessageSchema } from '../../src/schema/model.js';
import { schemaSet } from '../../src/schema/releases.js';
import { type Span, spansOf } from './mutations.js';

const FIXTURES = new URL('../fixtures/istandaarden/', import.meta.url);

export interface Example {
  /** `ijw-voorbeelden/JW301.xml`, `derived/WMO302.xml` */
  readonly name: string;
  readonly text: string;
  readonly schema: MessageSchema;
  /** False for the two examples that are invalid as published (JW315, JW318). */
  readonly valid: boolean;
}

const PUBLISHED_INVALID = new Set(['ijw-voorbeelden/JW315.xml', 'ijw-voorbeelden/JW318.xml']);

function schemaOf(text: string, name: string): MessageSchema {
  const m =
    /xmlns(?::[\w-]+)?="(http:\/\/www\.istandaarden\.nl\/i(?:jw|wmo)\/3_2\/(?:jw|wmo)\d{3}\/schema)"/.exec(
      text,
    );
  const schema = m ? schemaSet().byNamespace(m[1] as string) : undefined;
  if (!schema) throw new Error(`${name}: no message namespace`);
  return schema;
}

/** The official examples (and corrected copies), plus one example per derived iWmo retour. */
export function examples(): Example[] {
  const official = ['ijw-voorbeelden', 'ijw-voorbeelden-gecorrigeerd', 'iwmo-voorbeelden'].flatMap((dir) =>
    readdirSync(new URL(dir, FIXTURES))
      .filter((f) => f.endsWith('.xml'))
      .map((f) => {
        const name = `${dir}/${f}`;
        const text = readFileSync(new URL(name, FIXTURES), 'utf8');
        return { name, text, schema: schemaOf(text, name), valid: !PUBLISHED_INVALID.has(name) };
      }),
  );
  const derived: Example[] = [];
  for (const m of schemaSet().messages.filter((x) => x.derivedFrom)) {
    const from = m.derivedFrom ? schemaSet().byCode(m.derivedFrom) : undefined;
    const base =
      official.find((e) => e.name === `ijw-voorbeelden-gecorrigeerd/${m.derivedFrom}.xml`) ??
      official.find((e) => e.name === `ijw-voorbeelden/${m.derivedFrom}.xml`);
    if (!base || !from) throw new Error(`${m.code}: no example to derive from`);
    // The iJw retour moved into the iWmo namespaces, with the iWmo BerichtCode.
    let text = base.text
      .replaceAll(from.namespace, m.namespace)
      .replaceAll(from.basisNamespace, m.basisNamespace)
      .replaceAll(`${from.code.toLowerCase()}:`, `${m.code.toLowerCase()}:`)
      .replaceAll(`xmlns:${from.code.toLowerCase()}=`, `xmlns:${m.code.toLowerCase()}=`)
      .replaceAll('ijw:', 'iwmo:')
      .replaceAll('xmlns:ijw=', 'xmlns:iwmo=')
      .replace(/(<[\w]+:BerichtCode>)\d{3}/, `$1${m.berichtCode}`);
    // Elements the iWmo message lacks (JW316 GezagsdragerBekend, JW320 Woonplaatsbeginsel/Gemeente …).
    for (const el of omittedElements(from.root, m.root)) {
      text = text.replace(new RegExp(`\\s*<(\\w+):${el}>[\\s\\S]*?</\\1:${el}>`, 'g'), '');
    }
    derived.push({ name: `derived/${m.code}.xml`, text: fitEnumerations(text, m), schema: m, valid: true });
  }
  return [...official, ...derived];
}

/** iJw code values (product categories …) that the iWmo code list lacks become its first value. */
function fitEnumerations(text: string, schema: MessageSchema): string {
  const spans = spansOf(text);
  const local = (q: string) => q.slice(q.indexOf(':') + 1);
  let out = text;
  for (const s of [...spans].reverse()) {
    if (s.children.length > 0) continue;
    const path: string[] = [];
    for (let j = spans.indexOf(s); j >= 0; j = (spans[j] as Span).parent)
      path.unshift(local((spans[j] as Span).qname));
    let el: MessageSchema['root'] | undefined = schema.root;
    for (const n of path.slice(1))
      el = el?.type.kind === 'complex' ? el.type.children.find((c) => c.name === n) : undefined;
    const values = el?.type.kind === 'simple' ? el.type.facets.enumeration?.map((e) => e.value) : undefined;
    const current = text.slice(s.contentStart, s.contentEnd).trim();
    if (values && values.length > 0 && !values.includes(current)) {
      out = out.slice(0, s.contentStart) + values[0] + out.slice(s.contentEnd);
    }
  }
  return out;
}

function omittedElements(from: MessageSchema['root'], to: MessageSchema['root']): string[] {
  const out: string[] = [];
  const walk = (a: MessageSchema['root'], b: MessageSchema['root']) => {
    if (a.type.kind !== 'complex' || b.type.kind !== 'complex') return;
    const bChildren = b.type.children;
    for (const c of a.type.children) {
      const match = bChildren.find((x) => x.name === c.name);
      if (match) walk(c, match);
      else out.push(c.name);
    }
  };
  walk(from, to);
  return out;
}
