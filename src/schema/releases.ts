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

export interface LoadedRelease {
  readonly set: SchemaSet;
  /** Derived XSD files by file name, as they must be on disk for xmllint. */
  readonly derivedXsds: ReadonlyMap<string, string>;
}

export function loadRelease(def: ReleaseDef = RELEASE_3_2): LoadedRelease {
  const rows = readBerichtCodes(def);
  const official = new Map<string, { schema: MessageSchema; text: string }>();
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
    const text = deriveXsdText(
      def,
      { standard: counterpart.schema.standard, code: counterpart.schema.code, text: counterpart.text },
      { standard: row.standard, code: row.code, berichtCode: row.berichtCode },
      omit,
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
