import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { compileMessage } from './compile.js';
import type { ElementDecl, MessageSchema, SchemaSet, Standard } from './model.js';

/** Vendored XSDs and code lists; resolves the same from `src/schema` (tsx, vitest) and `dist/schema`. */
export const SCHEMA_DATA_DIR = fileURLToPath(new URL('../../src/schema/', import.meta.url));
export const XSD_DIR = `${SCHEMA_DATA_DIR}xsd/`;
export const CODELIST_DIR = `${SCHEMA_DATA_DIR}codelijsten/`;

/**
 * The only per-release mapping. A new release means adding its XSD folders and a row here.
 * Message types and codes come from the code list `berichtcode.csv`; a type without an official XSD
 * (`xsd_beschikbaar` = no) is derived from the other standard's counterpart with the same number.
 */
export interface ReleaseDef {
  readonly release: string;
  readonly standards: Readonly<
    Record<
      Standard,
      { readonly dir: string; readonly label: string; readonly nsSegment: string; readonly prefix: string }
    >
  >;
  /** Folder for derived XSD files (written by `writeDerivedXsds`, read by xmllint). */
  readonly derivedDir: string;
}

export const RELEASE_3_2: ReleaseDef = {
  release: '3.2',
  standards: {
    ijw: { dir: 'ijw-3.2', label: 'iJw', nsSegment: 'ijw/3_2', prefix: 'JW' },
    iwmo: { dir: 'iwmo-3.2', label: 'iWmo', nsSegment: 'iwmo/3_2', prefix: 'WMO' },
  },
  derivedDir: 'iwmo-3.2-afgeleid',
};

interface BerichtCodeRow {
  readonly standard: Standard;
  readonly code: string;
  readonly berichtCode: string;
  readonly xsdAvailable: boolean;
}

function readBerichtCodes(def: ReleaseDef): BerichtCodeRow[] {
  const rows = parse(readFileSync(`${CODELIST_DIR}berichtcode.csv`, 'utf8'), { columns: true }) as Record<
    string,
    string
  >[];
  const byLabel = new Map(Object.entries(def.standards).map(([std, s]) => [s.label, std as Standard]));
  return rows.map((r) => {
    const standard = byLabel.get(r.standaard ?? '');
    if (!standard) throw new Error(`berichtcode.csv: unknown standard ${r.standaard}`);
    return {
      standard,
      code: r.bericht ?? '',
      berichtCode: r.berichtcode ?? '',
      xsdAvailable: r.xsd_beschikbaar === 'yes',
    };
  });
}

const number = (code: string) => code.replace(/^[A-Z]+/, '');

function ns(def: ReleaseDef, standard: Standard, message: string): string {
  return `http://www.istandaarden.nl/${def.standards[standard].nsSegment}/${message}/schema`;
}

function elementPaths(el: ElementDecl, prefix: string, out: Set<string>): Set<string> {
  const path = prefix ? `${prefix}/${el.name}` : el.name;
  out.add(path);
  if (el.type.kind === 'complex') for (const c of el.type.children) elementPaths(c, path, out);
  return out;
}

/**
 * The XSD text of a message that has no official XSD: the counterpart's XSD moved into this standard's
 * namespaces, with this standard's BerichtCode, and without the elements the counterpart standard has
 * and this one lacks (read from the heen message pair, e.g. JW315 GezagsdragerBekend).
 */
export function deriveXsdText(
  def: ReleaseDef,
  source: { standard: Standard; code: string; text: string },
  target: { standard: Standard; code: string; berichtCode: string },
  omitElements: readonly string[],
): string {
  const from = def.standards[source.standard];
  const to = def.standards[target.standard];
  const srcMsg = source.code.toLowerCase();
  const dstMsg = target.code.toLowerCase();
  let text = source.text
    .replaceAll(`${from.nsSegment}/${srcMsg}/schema`, `${to.nsSegment}/${dstMsg}/schema`)
    .replaceAll(`${from.nsSegment}/basisschema/schema`, `${to.nsSegment}/basisschema/schema`)
    .replaceAll(`xmlns:${srcMsg}=`, `xmlns:${dstMsg}=`)
    .replaceAll(`"${srcMsg}:`, `"${dstMsg}:`)
    .replaceAll(`xmlns:${source.standard}=`, `xmlns:${target.standard}=`)
    .replaceAll(`"${source.standard}:`, `"${target.standard}:`)
    .replaceAll(`<${source.standard}:`, `<${target.standard}:`)
    .replaceAll(`</${source.standard}:`, `</${target.standard}:`)
    .replace(
      /(<xs:element name="BerichtCode">[\s\S]*?<xs:pattern value=")\d{3}(")/,
      `$1${target.berichtCode}$2`,
    )
    .replace('schemaLocation="basisschema.xsd"', `schemaLocation="../${to.dir}/basisschema.xsd"`);
  for (const name of omitElements) {
    text = text.replace(new RegExp(`\\s*<xs:element name="${name}"[^>]*?(/>|>[\\s\\S]*?</xs:element>)`), '');
  }
  const note = `<!-- Afgeleid door ketendata: ${target.code} heeft geen officiële XSD; dit is ${source.code} in de ${to.label}-namespace. Niet officieel. -->\n`;
  return text.replace(/^(<\?xml[^>]*\?>\n)/, `$1${note}`);
}

type Official = ReadonlyMap<string, { schema: MessageSchema; text: string }>;

/** The official messages of both standards with the highest number below `below`, when both exist. */
function closestPair(
  official: Official,
  other: Standard,
  own: Standard,
  below: number,
): { other: ElementDecl; own: ElementDecl } | undefined {
  for (let n = below - 1; n > 0; n--) {
    const find = (standard: Standard) =>
      [...official.values()].find(
        (o) => o.schema.standard === standard && Number(number(o.schema.code)) === n,
      );
    const o = find(other);
    const w = find(own);
    if (o && w) return { other: o.schema.root, own: w.schema.root };
  }
  return undefined;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A derived XSD with this standard's documentation: every text the family's other-standard message gives an
 * element replaced by the text this standard's message gives the same element (same path), and then the other
 * standard's term (the words in which the two root texts differ: "Jeugdhulp" / "Wmo-ondersteuning") replaced
 * in the texts left. Only `xs:documentation` changes; the structure is the counterpart's.
 */
export function withOwnDocumentation(
  text: string,
  family: { other: ElementDecl; own: ElementDecl } | undefined,
): string {
  if (!family) return text;
  const texts = new Map<string, string>();
  const pair = (o: ElementDecl, w: ElementDecl) => {
    if (
      o.documentation &&
      w.documentation &&
      o.documentation !== w.documentation &&
      !texts.has(o.documentation)
    )
      texts.set(o.documentation, w.documentation);
    if (o.type.kind !== 'complex' || w.type.kind !== 'complex') return;
    for (const c of o.type.children) {
      const d = w.type.children.find((x) => x.name === c.name);
      if (d) pair(c, d);
    }
  };
  pair(family.other, family.own);
  const term = differingWords(family.other.documentation ?? '', family.own.documentation ?? '');
  // As they stand in the XSD text: escaped.
  const escaped = new Map([...texts].map(([from, to]) => [escapeXml(from), escapeXml(to)]));
  return text.replace(/<xs:documentation>([^<]*)<\/xs:documentation>/g, (whole, doc: string) => {
    const mapped = escaped.get(doc);
    if (mapped !== undefined) return `<xs:documentation>${mapped}</xs:documentation>`;
    if (term && doc.includes(escapeXml(term.from)))
      return `<xs:documentation>${doc.replaceAll(escapeXml(term.from), escapeXml(term.to))}</xs:documentation>`;
    return whole;
  });
}

/** The run of words in which two texts differ, when they differ in one such run only. */
function differingWords(a: string, b: string): { from: string; to: string } | undefined {
  const x = a.split(' ');
  const y = b.split(' ');
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (
    tail < x.length - head &&
    tail < y.length - head &&
    x[x.length - 1 - tail] === y[y.length - 1 - tail]
  )
    tail++;
  const from = x.slice(head, x.length - tail).join(' ');
  const to = y.slice(head, y.length - tail).join(' ');
  // Words only: a sentence's end ("Jeugdhulp." against "Wmo-hulp.") is compared without its full stop.
  const word = (s: string) => s.replace(/[.,;:]$/, '');
  return from && to ? { from: word(from), to: word(to) } : undefined;
}

export interface LoadedRelease {
  readonly set: SchemaSet;
  /** Derived XSD files by file name, as they must be on disk for xmllint. */
  readonly derivedXsds: ReadonlyMap<string, string>;
}

export function loadRelease(def: ReleaseDef = RELEASE_3_2): LoadedRelease {
  const rows = readBerichtCodes(def);
  const official = new Map<string, { schema: MessageSchema; text: string }>() satisfies Official;
  const basis = (standard: Standard) =>
    readFileSync(`${XSD_DIR}${def.standards[standard].dir}/basisschema.xsd`, 'utf8');
  for (const row of rows.filter((r) => r.xsdAvailable)) {
    const xsdFile = `${XSD_DIR}${def.standards[row.standard].dir}/${row.code.toLowerCase()}.xsd`;
    const text = readFileSync(xsdFile, 'utf8');
    const schema = compileMessage({
      standard: row.standard,
      code: row.code,
      release: def.release,
      messageXsd: text,
      basisXsd: basis(row.standard),
      xsdFile,
    });
    if (schema.berichtCode !== row.berichtCode) {
      throw new Error(
        `${xsdFile}: BerichtCode ${schema.berichtCode} differs from berichtcode.csv (${row.berichtCode})`,
      );
    }
    official.set(row.code, { schema, text });
  }
  const derivedXsds = new Map<string, string>();
  const messages: MessageSchema[] = [];
  for (const row of rows) {
    const own = official.get(row.code);
    if (own) {
      messages.push(own.schema);
      continue;
    }
    const counterpart = [...official.values()].find(
      (o) => o.schema.standard !== row.standard && number(o.schema.code) === number(row.code),
    );
    if (!counterpart) throw new Error(`${row.code}: no XSD and no counterpart to derive it from`);
    // Elements the counterpart standard has and this one lacks, read from the heen pair (315 for 316).
    const heenNumber = String(Number(number(row.code)) - 1);
    const heenOther = [...official.values()].find(
      (o) => o.schema.standard === counterpart.schema.standard && number(o.schema.code) === heenNumber,
    );
    const heenOwn = [...official.values()].find(
      (o) => o.schema.standard === row.standard && number(o.schema.code) === heenNumber,
    );
    const omit: string[] = [];
    if (heenOther && heenOwn) {
      const ownPaths = elementPaths(heenOwn.schema.root, '', new Set());
      for (const p of elementPaths(heenOther.schema.root, '', new Set())) {
        const parent = p.slice(0, p.lastIndexOf('/'));
        if (!ownPaths.has(p) && ownPaths.has(parent)) omit.push(p.slice(p.lastIndexOf('/') + 1));
      }
    }
    // The texts: the counterpart speaks of its own law ("Jeugdhulp"); an element this standard documents in a
    // message of the same family (the closest official pair below it: 301 for 302, 323 for 325) takes that
    // text, and what is left takes this standard's term.
    const family = closestPair(official, counterpart.schema.standard, row.standard, Number(number(row.code)));
    const text = withOwnDocumentation(
      deriveXsdText(
        def,
        { standard: counterpart.schema.standard, code: counterpart.schema.code, text: counterpart.text },
        { standard: row.standard, code: row.code, berichtCode: row.berichtCode },
        omit,
      ),
      family,
    );
    const fileName = `${row.code.toLowerCase()}.xsd`;
    derivedXsds.set(fileName, text);
    messages.push(
      compileMessage({
        standard: row.standard,
        code: row.code,
        release: def.release,
        messageXsd: text,
        basisXsd: basis(row.standard),
        xsdFile: `${XSD_DIR}${def.derivedDir}/${fileName}`,
        derivedFrom: counterpart.schema.code,
      }),
    );
  }
  const byCode = new Map(messages.map((m) => [m.code, m]));
  const byNs = new Map(messages.map((m) => [m.namespace, m]));
  for (const m of messages) {
    if (m.namespace !== ns(def, m.standard, m.code.toLowerCase())) {
      throw new Error(`${m.code}: unexpected target namespace ${m.namespace}`);
    }
  }
  return {
    set: {
      release: def.release,
      messages,
      byCode: (code) => byCode.get(code),
      byNamespace: (uri) => byNs.get(uri),
    },
    derivedXsds,
  };
}

let cached: SchemaSet | undefined;

/** The schema set of the current release, compiled once per process. */
export function schemaSet(): SchemaSet {
  cached ??= loadRelease().set;
  return cached;
}
