import { readdirSync, readFileSync } from 'node:fs';
import type { MessageSchema } from '../../src/schema/model.js';
import { schemaSet } from '../../src/schema/releases.js';

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
      .replaceAll('ijw:', 'iwmo:')
      .replace(/(<[\w]+:BerichtCode>)\d{3}/, `$1${m.berichtCode}`);
    // Elements the iWmo message lacks (JW316 GezagsdragerBekend, JW320 Woonplaatsbeginsel/Gemeente …).
    for (const el of omittedElements(from.root, m.root)) {
      text = text.replace(new RegExp(`\\s*<(\\w+):${el}>[\\s\\S]*?</\\1:${el}>`, 'g'), '');
    }
    derived.push({ name: `derived/${m.code}.xml`, text, schema: m, valid: true });
  }
  return [...official, ...derived];
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
