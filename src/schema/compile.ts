import {
  type BaseType,
  type ColumnDef,
  type ComplexType,
  type ElementDecl,
  type EnumValue,
  type Facets,
  HASHED_ELEMENTS,
  type HashedElement,
  type HeaderParty,
  type ListLevel,
  type MessageSchema,
  type SimpleType,
  type Standard,
  type TableDef,
} from './model.js';
import {
  documentationOf,
  readXsd,
  resolveQName,
  XS,
  type XsdNode,
  xsChild,
  xsChildren,
} from './xsd-reader.js';

/** Hub metadata columns of every main table, in this order. */
export const EXCHANGE_COLUMNS = [
  {
    name: 'Uitwisseling_Moment',
    doc: 'Moment waarop het bericht (voor het eerst) via het GGk is uitgewisseld, in UTC: ISO-8601 met Z, bijvoorbeeld 2026-03-02T07:05:00.000Z. Nederlandse tijd is dat plus 1 uur in de wintertijd (+01:00) of plus 2 uur in de zomertijd (+02:00).',
  },
  {
    name: 'Uitwisseling_Verzender',
    doc: 'Organisatie die het bericht via het GGk verzond (gemeentecode of AGB-code).',
  },
  {
    name: 'Uitwisseling_Ontvanger',
    doc: 'Organisatie die het bericht via het GGk ontving (gemeentecode of AGB-code).',
  },
  { name: 'Uitwisseling_HubId', doc: 'Kenmerk van de uitwisseling bij het GGk, indien bekend.' },
  {
    name: 'Uitwisseling_Aantal',
    doc: 'Aantal keren dat hetzelfde bericht via het GGk is uitgewisseld (dubbele uitwisselingen), zoals bekend bij het maken van de levering: een latere uitwisseling van een al geleverd bericht verandert een eerdere wekelijkse levering niet; een historie geeft het aantal van het moment waarop zij gemaakt is.',
  },
  {
    name: 'Uitwisseling_Afwijkend',
    doc: 'J als van dit bericht (zelfde afzender, berichtcode, identificatie en dagtekening) ook een versie met andere inhoud is ontvangen, eerder of later. Een versie die al geleverd was toen de andere binnenkwam, staat in die eerdere levering met N; de andere versie, en een historie, hebben J. Net als Uitwisseling_Aantal de stand bij het maken van de levering: een eerdere wekelijkse levering verandert niet.',
  },
] as const;

export const MESSAGE_KEY = 'BerichtId';
export const GEMEENTE_COLUMN = 'Gemeente';
export const LEVEL_COLUMN = 'Niveau';

interface SchemaDoc {
  readonly targetNamespace: string;
  readonly root: XsdNode;
}

/** Resolves named types across one message XSD and its basisschema. */
class TypeResolver {
  readonly #docs = new Map<string, SchemaDoc>();
  readonly #simple = new Map<string, SimpleType>();
  readonly #complex = new Map<string, ComplexType>();

  add(doc: XsdNode): void {
    const targetNamespace = doc.attrs.targetNamespace ?? '';
    this.#docs.set(targetNamespace, { targetNamespace, root: doc });
  }

  #find(uri: string, local: string, kind: 'simpleType' | 'complexType'): XsdNode | undefined {
    const doc = this.#docs.get(uri);
    return doc ? xsChildren(doc.root, kind).find((n) => n.attrs.name === local) : undefined;
  }

  simpleByName(uri: string, local: string): SimpleType | undefined {
    const key = `${uri}#${local}`;
    const cached = this.#simple.get(key);
    if (cached) return cached;
    if (uri === XS) {
      const base = builtin(local);
      const t: SimpleType = { kind: 'simple', name: `xs:${local}`, base, facets: { patterns: [] } };
      this.#simple.set(key, t);
      return t;
    }
    const node = this.#find(uri, local, 'simpleType');
    if (!node) return undefined;
    const t = this.simpleFromNode(node, local);
    this.#simple.set(key, t);
    return t;
  }

  simpleFromNode(node: XsdNode, name?: string): SimpleType {
    const restriction = xsChild(node, 'restriction');
    if (!restriction?.attrs.base)
      throw new Error(`simpleType ${name ?? '(anonymous)'}: only xs:restriction is supported`);
    const baseRef = resolveQName(restriction, restriction.attrs.base);
    const parent = this.simpleByName(baseRef.uri, baseRef.local);
    if (!parent) throw new Error(`unknown simple type ${restriction.attrs.base}`);
    const facets = mergeFacets(parent.facets, restriction);
    const documentation = documentationOf(node) ?? parent.documentation;
    return {
      kind: 'simple',
      name: name ?? parent.name,
      base: parent.base,
      facets,
      ...(documentation ? { documentation } : {}),
    };
  }

  complexByName(uri: string, local: string): ComplexType | undefined {
    const key = `${uri}#${local}`;
    const cached = this.#complex.get(key);
    if (cached) return cached;
    const node = this.#find(uri, local, 'complexType');
    if (!node) return undefined;
    const t = this.complexFromNode(node, local, uri);
    this.#complex.set(key, t);
    return t;
  }

  /** `targetNamespace`: of the XSD the type is declared in; its local elements are qualified with it. */
  complexFromNode(node: XsdNode, name: string, targetNamespace: string): ComplexType {
    const unsupported = node.children.find(
      (c) => c.uri === XS && c.local !== 'sequence' && c.local !== 'annotation',
    );
    if (unsupported) throw new Error(`complexType ${name}: xs:${unsupported.local} is not supported`);
    const sequence = xsChild(node, 'sequence');
    const children = sequence
      ? xsChildren(sequence, 'element').map((e) => this.element(e, targetNamespace))
      : [];
    const documentation = documentationOf(node);
    return { kind: 'complex', name, children, ...(documentation ? { documentation } : {}) };
  }

  element(node: XsdNode, targetNamespace: string): ElementDecl {
    const name = node.attrs.name;
    if (!name) throw new Error('xs:element without a name (element references are not supported)');
    let type: SimpleType | ComplexType | undefined;
    if (node.attrs.type) {
      const ref = resolveQName(node, node.attrs.type);
      type = this.simpleByName(ref.uri, ref.local) ?? this.complexByName(ref.uri, ref.local);
      if (!type) throw new Error(`element ${name}: unknown type ${node.attrs.type}`);
    } else {
      const st = xsChild(node, 'simpleType');
      const ct = xsChild(node, 'complexType');
      if (st) type = this.simpleFromNode(st);
      else if (ct) type = this.complexFromNode(ct, name, targetNamespace);
      else throw new Error(`element ${name}: no type`);
    }
    const maxAttr = node.attrs.maxOccurs ?? '1';
    // A simple-typed element without a text of its own keeps none: its type's text says what kind of value it is,
    // not what this element is (LDT_Versie for the heen- and the retourbericht's XSD version alike).
    const documentation = documentationOf(node) ?? (type.kind === 'complex' ? type.documentation : undefined);
    return {
      name,
      namespace: targetNamespace,
      minOccurs: Number(node.attrs.minOccurs ?? '1'),
      maxOccurs: maxAttr === 'unbounded' ? Number.POSITIVE_INFINITY : Number(maxAttr),
      type,
      ...(documentation ? { documentation } : {}),
    };
  }
}

function builtin(local: string): BaseType {
  switch (local) {
    case 'string':
    case 'integer':
    case 'date':
    case 'time':
      return local;
    default:
      throw new Error(`XSD built-in xs:${local} is not supported`);
  }
}

function mergeFacets(parent: Facets, restriction: XsdNode): Facets {
  const values = (local: string) => xsChildren(restriction, local).map((n) => n.attrs.value ?? '');
  const one = (local: string) => values(local)[0];
  const patterns = values('pattern');
  const enumNodes = xsChildren(restriction, 'enumeration');
  const enumeration: EnumValue[] | undefined = enumNodes.length
    ? enumNodes.map((n) => {
        const documentation = documentationOf(n);
        return { value: n.attrs.value ?? '', ...(documentation ? { documentation } : {}) };
      })
    : undefined;
  const num = (local: string, inherited: number | undefined) => {
    const v = one(local);
    return v === undefined ? inherited : Number(v);
  };
  const big = (local: string, inherited: bigint | undefined) => {
    const v = one(local);
    return v === undefined ? inherited : BigInt(v);
  };
  const facets: {
    -readonly [K in keyof Facets]: Facets[K];
  } = {
    patterns: patterns.length ? [...parent.patterns, patterns] : parent.patterns,
  };
  const e = enumeration ?? parent.enumeration;
  if (e) facets.enumeration = e;
  const length = num('length', parent.length);
  if (length !== undefined) facets.length = length;
  const minLength = num('minLength', parent.minLength);
  if (minLength !== undefined) facets.minLength = minLength;
  const maxLength = num('maxLength', parent.maxLength);
  if (maxLength !== undefined) facets.maxLength = maxLength;
  const minInclusive = big('minInclusive', parent.minInclusive);
  if (minInclusive !== undefined) facets.minInclusive = minInclusive;
  const maxInclusive = big('maxInclusive', parent.maxInclusive);
  if (maxInclusive !== undefined) facets.maxInclusive = maxInclusive;
  return facets;
}

export interface CompileInput {
  readonly standard: Standard;
  readonly code: string;
  readonly release: string;
  readonly messageXsd: string;
  readonly basisXsd: string;
  /** Path of the XSD on disk (for xmllint and error messages). */
  readonly xsdFile: string;
  readonly derivedFrom?: string;
}

/** Compile one message XSD (plus its basisschema) into the schema model with its delivery tables. */
export function compileMessage(input: CompileInput): MessageSchema {
  const msgDoc = readXsd(input.messageXsd, input.xsdFile);
  const basisDoc = readXsd(input.basisXsd, 'basisschema.xsd');
  const resolver = new TypeResolver();
  resolver.add(msgDoc);
  resolver.add(basisDoc);
  const rootNode = xsChildren(msgDoc, 'element').find((e) => e.attrs.name === 'Bericht');
  if (!rootNode) throw new Error(`${input.xsdFile}: no global element Bericht`);
  for (const doc of [msgDoc, basisDoc]) {
    if (doc.attrs.elementFormDefault !== 'qualified')
      throw new Error(`${input.xsdFile}: elementFormDefault must be qualified`);
  }
  const root = resolver.element(rootNode, msgDoc.attrs.targetNamespace ?? '');
  if (root.type.kind !== 'complex') throw new Error(`${input.xsdFile}: Bericht is not complex`);
  const header = root.type.children.find((c) => c.name === 'Header');
  if (header?.type.kind !== 'complex') throw new Error(`${input.xsdFile}: no Header`);
  const berichtCodeEl = header.type.children.find((c) => c.name === 'BerichtCode');
  const berichtCode =
    berichtCodeEl?.type.kind === 'simple' ? berichtCodeEl.type.facets.patterns.at(-1)?.[0] : undefined;
  if (!berichtCode || !/^\d{3}$/.test(berichtCode))
    throw new Error(`${input.xsdFile}: BerichtCode is not fixed`);
  const gemeenteField = (['Afzender', 'Ontvanger'] as const).find((f) => {
    const el = header.type.kind === 'complex' ? header.type.children.find((c) => c.name === f) : undefined;
    return el?.type.name === 'LDT_Gemeente';
  });
  if (!gemeenteField) throw new Error(`${input.xsdFile}: no header field of type LDT_Gemeente`);
  const basisNamespace = basisDoc.attrs.targetNamespace ?? '';
  const documentation = root.documentation;
  return {
    standard: input.standard,
    code: input.code,
    berichtCode,
    release: input.release,
    namespace: msgDoc.attrs.targetNamespace ?? '',
    basisNamespace,
    ...(documentation ? { documentation } : {}),
    ...(input.derivedFrom ? { derivedFrom: input.derivedFrom } : {}),
    root,
    gemeenteField: gemeenteField satisfies HeaderParty,
    tables: deriveTables(input.code, root),
    xsdFile: input.xsdFile,
  };
}

/** A complex element that only wraps a list (`ToegewezenProducten` around `ToegewezenProduct` 1..*). */
export function isListContainer(el: ElementDecl): boolean {
  if (el.type.kind !== 'complex' || el.maxOccurs > 1) return false;
  const only = el.type.children.length === 1 ? el.type.children[0] : undefined;
  return only !== undefined && only.maxOccurs > 1;
}

function hashedOf(name: string): HashedElement | undefined {
  return (HASHED_ELEMENTS as readonly string[]).includes(name) ? (name as HashedElement) : undefined;
}

function countNames(el: ElementDecl, counts: Map<string, number>): void {
  counts.set(el.name, (counts.get(el.name) ?? 0) + 1);
  if (el.type.kind === 'complex') for (const c of el.type.children) countNames(c, counts);
}

interface TableBuild {
  name: string;
  suffix: string;
  kind: TableDef['kind'];
  path: string[];
  parent?: string;
  documentation?: string;
  ordinals: string[];
  values: ColumnDef[];
  levels: ListLevel[];
}

/**
 * Delivery tables as the product contract names them: `<CODE>` one row per message, `<CODE>_<Element>`
 * per repeating complex element (prefixed by its nearest named ancestor where the name recurs in the
 * message), `<CODE>_<Leaf>` per repeating simple element. List containers are left out of names.
 */
export function deriveTables(code: string, root: ElementDecl): TableDef[] {
  const counts = new Map<string, number>();
  countNames(root, counts);
  const tables: TableBuild[] = [];
  const lists = new Map<string, TableBuild>();
  const main: TableBuild = {
    name: code,
    suffix: '',
    kind: 'message',
    path: [root.name],
    ordinals: [],
    values: [],
    levels: [],
    ...(root.documentation ? { documentation: root.documentation } : {}),
  };
  tables.push(main);

  const walk = (
    el: ElementDecl,
    path: string[],
    table: TableBuild,
    rel: string[],
    optional: boolean,
    namedAncestor: string,
  ): void => {
    if (el.type.kind !== 'complex') return;
    for (const child of el.type.children) {
      const childPath = [...path, child.name];
      const childOptional = optional || child.minOccurs === 0;
      if (child.type.kind === 'simple') {
        if (child.maxOccurs > 1) {
          const listName = `${code}_${child.name}`;
          let list = lists.get(listName);
          if (!list) {
            list = {
              name: listName,
              suffix: child.name,
              kind: 'list',
              path: [child.name],
              ordinals: [],
              values: [],
              levels: [],
              ...(child.documentation ? { documentation: child.documentation } : {}),
            };
            lists.set(listName, list);
          }
          // The owner is the element holding the list container: its table suffix plus its path below.
          const level = [table.suffix, ...rel].filter((s) => s.length > 0).join('_') || table.name;
          list.levels.push({ level, path: childPath, ownerTable: table.name });
          for (const o of table.ordinals) if (!list.ordinals.includes(o)) list.ordinals.push(o);
          if (list.values.length === 0) {
            const hashed = hashedOf(child.name);
            list.values.push({
              name: child.name,
              role: 'value',
              path: childPath,
              type: child.type,
              cardinality: '1..1',
              ...(child.documentation ? { documentation: child.documentation } : {}),
              ...(hashed ? { hashed } : {}),
            });
          }
        } else {
          const hashed = hashedOf(child.name);
          table.values.push({
            name: [...rel, child.name].join('_'),
            role: 'value',
            path: childPath,
            type: child.type,
            cardinality: childOptional ? '0..1' : '1..1',
            ...(child.documentation ? { documentation: child.documentation } : {}),
            ...(hashed ? { hashed } : {}),
          });
        }
      } else if (child.maxOccurs > 1) {
        const suffix = (counts.get(child.name) ?? 0) > 1 ? `${namedAncestor}${child.name}` : child.name;
        const sub: TableBuild = {
          name: `${code}_${suffix}`,
          suffix,
          kind: 'element',
          path: childPath,
          parent: table.name,
          ordinals: [...table.ordinals, `${suffix}Volgnr`],
          values: [],
          levels: [],
          ...(child.documentation ? { documentation: child.documentation } : {}),
        };
        tables.push(sub);
        walk(child, childPath, sub, [], false, child.name);
      } else if (isListContainer(child)) {
        walk(child, childPath, table, rel, childOptional, namedAncestor);
      } else {
        walk(child, childPath, table, [...rel, child.name], childOptional, child.name);
      }
    }
  };
  walk(root, [root.name], main, [], false, root.name);

  const result: TableDef[] = [];
  for (const t of [...tables, ...lists.values()]) {
    const columns: ColumnDef[] = [{ name: MESSAGE_KEY, role: 'messageKey' }];
    if (t.kind === 'message') {
      columns.push({ name: GEMEENTE_COLUMN, role: 'gemeente' });
      for (const c of EXCHANGE_COLUMNS)
        columns.push({ name: c.name, role: 'exchange', documentation: c.doc });
    }
    if (t.kind === 'list') columns.push({ name: LEVEL_COLUMN, role: 'level' });
    for (const o of t.ordinals) columns.push({ name: o, role: 'ordinal' });
    if (t.kind === 'list') columns.push({ name: `${t.suffix}Volgnr`, role: 'ordinal' });
    columns.push(...t.values);
    const keyColumns = [MESSAGE_KEY, ...(t.kind === 'list' ? [LEVEL_COLUMN] : []), ...t.ordinals];
    if (t.kind === 'list') keyColumns.push(`${t.suffix}Volgnr`);
    const names = new Set<string>();
    for (const c of columns) {
      if (names.has(c.name)) throw new Error(`${t.name}: duplicate column ${c.name}`);
      names.add(c.name);
    }
    result.push({
      name: t.name,
      kind: t.kind,
      path: t.path,
      ...(t.parent ? { parent: t.parent } : {}),
      ...(t.documentation ? { documentation: t.documentation } : {}),
      columns,
      keyColumns,
      ...(t.kind === 'list' ? { levels: t.levels } : {}),
    });
  }
  return result;
}
