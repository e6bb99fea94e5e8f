import type { ElementDecl, HashedElement, MessageSchema } from '../schema/model.js';
import { type SimpleChecker, simpleChecker } from './simple-type.js';

/**
 * Namespace URIs interned to one string object each, so that comparing a document's URI with a schema
 * element's namespace is a pointer comparison in the common case.
 */
const internedUris = new Map<string, string>();
export function intern(uri: string): string {
  const hit = internedUris.get(uri);
  if (hit !== undefined) return hit;
  internedUris.set(uri, uri);
  return uri;
}

/**
 * Where a leaf value goes: a column of the current row, or a new row of a list table. Plan objects are
 * classes with every field set, so the hot loop's property loads stay monomorphic.
 */
export class LeafTarget {
  constructor(
    readonly kind: 'column' | 'list',
    /** Column in the current row ('column'), or the list table's value column ('list'). */
    readonly col: number,
    readonly table: number,
    readonly width: number,
    readonly levelCol: number,
    readonly level: string,
    /** Positions in the list table of the owner table's ordinals, in order. */
    readonly ordinalCols: readonly number[],
    readonly volgnrCol: number,
  ) {}
}

export class TableTarget {
  constructor(
    readonly index: number,
    readonly width: number,
    readonly ordinalCount: number,
  ) {}
}

/** One element position of a message, compiled for the one-pass validator and flattener. */
export class PlanNode {
  /** Child position by local name (names are unique within one sequence). */
  readonly childIndex: ReadonlyMap<string, number>;
  /** requiredBefore[k]: how many of children[0..k-1] have minOccurs > 0. */
  readonly requiredBefore: Int32Array;
  /** `<Name>` and `</Name>` of the canonical content, encoded once instead of per element. */
  readonly openTag: Uint8Array;
  readonly closeTag: Uint8Array;
  /**
   * The qualified name this element has in the document under `qnameScope` (`jw301:Client`), or null
   * when no prefix there is bound to its namespace. Cached per scope by the parser: scopes are shared
   * between messages that declare the same namespaces, so this is computed once per prefix choice.
   */
  qnameScope: unknown = null;
  qname: string | null = null;

  constructor(
    readonly name: string,
    readonly namespace: string,
    readonly minOccurs: number,
    readonly maxOccurs: number,
    /** `/Bericht/Client/Bsn` */
    readonly path: string,
    readonly simple: SimpleChecker | null,
    readonly children: readonly PlanNode[],
    readonly hashed: HashedElement | null,
    /** For a repeating complex element: the table it starts a row in. */
    readonly table: TableTarget | null,
    readonly leaf: LeafTarget | null,
  ) {
    this.openTag = Buffer.from(`<${name}>`);
    this.closeTag = Buffer.from(`</${name}>`);
    const index = new Map<string, number>();
    const required = new Int32Array(children.length + 1);
    children.forEach((c, k) => {
      if (index.has(c.name)) throw new Error(`${path}: child ${c.name} occurs twice in one sequence`);
      index.set(c.name, k);
      required[k + 1] = (required[k] as number) + (c.minOccurs > 0 ? 1 : 0);
    });
    this.childIndex = index;
    this.requiredBefore = required;
  }

  /** The first required child in children[from..to-1], if any. */
  firstRequired(from: number, to: number): PlanNode | undefined {
    for (let k = from; k < to; k++) {
      const c = this.children[k] as PlanNode;
      if (c.minOccurs > 0) return c;
    }
    return undefined;
  }
}

export interface MessagePlan {
  readonly schema: MessageSchema;
  readonly root: PlanNode;
  readonly tableNames: readonly string[];
  readonly mainWidth: number;
  readonly gemeenteCol: number;
  readonly gemeenteValueCol: number;
  readonly keyCols: {
    readonly afzender: number;
    readonly ontvanger: number;
    readonly identificatie: number;
    readonly dagtekening: number;
    readonly identificatieRetour: number;
    readonly dagtekeningRetour: number;
  };
}

const plans = new WeakMap<MessageSchema, MessagePlan>();

export function planFor(schema: MessageSchema): MessagePlan {
  const hit = plans.get(schema);
  if (hit) return hit;
  const plan = compilePlan(schema);
  plans.set(schema, plan);
  return plan;
}

function compilePlan(schema: MessageSchema): MessagePlan {
  const leafCols = new Map<string, { table: number; col: number }>();
  const elementTables = new Map<string, number>();
  const lists = new Map<string, LeafTarget>();
  schema.tables.forEach((t, ti) => {
    if (t.kind === 'element') elementTables.set(t.path.join('/'), ti);
    if (t.kind === 'list') {
      const levelCol = t.columns.findIndex((c) => c.role === 'level');
      const valueCol = t.columns.findIndex((c) => c.role === 'value');
      const volgnrCol = t.columns.findIndex((c) => c.name === `${t.path[0]}Volgnr`);
      for (const level of t.levels ?? []) {
        const owner = schema.tables.find((o) => o.name === level.ownerTable);
        if (!owner) throw new Error(`${t.name}: unknown owner table ${level.ownerTable}`);
        const ownerOrdinals = owner.columns.filter((c) => c.role === 'ordinal').map((c) => c.name);
        lists.set(
          level.path.join('/'),
          new LeafTarget(
            'list',
            valueCol,
            ti,
            t.columns.length,
            levelCol,
            level.level,
            ownerOrdinals.map((n) => t.columns.findIndex((c) => c.name === n)),
            volgnrCol,
          ),
        );
      }
    } else {
      t.columns.forEach((c, ci) => {
        if (c.role === 'value' && c.path) leafCols.set(c.path.join('/'), { table: ti, col: ci });
      });
    }
  });
  const main = schema.tables[0];
  if (!main) throw new Error(`${schema.code}: no tables`);
  const mainCol = (name: string) => main.columns.findIndex((c) => c.name === name);

  const build = (el: ElementDecl, parentPath: string[], tableIndex: number): PlanNode => {
    const pathArr = [...parentPath, el.name];
    const key = pathArr.join('/');
    const path = `/${key}`;
    if (el.type.kind === 'simple') {
      const list = lists.get(key);
      const col = leafCols.get(key);
      let leaf: LeafTarget;
      if (list) leaf = list;
      else if (col) {
        if (col.table !== tableIndex)
          throw new Error(`${schema.code}: ${key} is in table ${col.table}, expected ${tableIndex}`);
        leaf = new LeafTarget('column', col.col, tableIndex, 0, -1, '', [], -1);
      } else throw new Error(`${schema.code}: no column for ${key}`);
      const hashed = schema.tables[leaf.table]?.columns[leaf.col]?.hashed ?? null;
      const checker = simpleChecker(el.type);
      return new PlanNode(
        el.name,
        intern(el.namespace),
        el.minOccurs,
        el.maxOccurs,
        path,
        checker,
        [],
        hashed,
        null,
        leaf,
      );
    }
    const ti = elementTables.get(key);
    const own = ti ?? tableIndex;
    const children = el.type.children.map((c) => build(c, pathArr, own));
    const t = ti === undefined ? undefined : schema.tables[ti];
    const table =
      ti === undefined || !t
        ? null
        : new TableTarget(ti, t.columns.length, t.columns.filter((c) => c.role === 'ordinal').length);
    return new PlanNode(
      el.name,
      intern(el.namespace),
      el.minOccurs,
      el.maxOccurs,
      path,
      null,
      children,
      null,
      table,
      null,
    );
  };
  const root = build(schema.root, [], 0);
  const gemeenteValueCol = mainCol(`Header_${schema.gemeenteField}`);
  return {
    schema,
    root,
    tableNames: schema.tables.map((t) => t.name),
    mainWidth: main.columns.length,
    gemeenteCol: mainCol('Gemeente'),
    gemeenteValueCol,
    keyCols: {
      afzender: mainCol('Header_Afzender'),
      ontvanger: mainCol('Header_Ontvanger'),
      identificatie: mainCol('Header_BerichtIdentificatie_Identificatie'),
      dagtekening: mainCol('Header_BerichtIdentificatie_Dagtekening'),
      identificatieRetour: mainCol('Header_IdentificatieRetour'),
      dagtekeningRetour: mainCol('Header_DagtekeningRetour'),
    },
  };
}
