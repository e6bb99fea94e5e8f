import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { schemaSet } from '../schema/releases.js';
import { CanonicalWriter } from './canonical.js';
import { decodeXml } from './decode.js';
import { intern, type MessagePlan, type PlanNode, planFor } from './plan.js';
import type {
  FlatMessage,
  IngestError,
  IngestErrorCode,
  MessageKey,
  ParseOutcome,
  Row,
  Tables,
} from './types.js';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** Prefix → URI bindings in scope; a new scope only where an element declares namespaces (rare). */
type Scope = ReadonlyMap<string, string>;
const ROOT_SCOPE: Scope = new Map([['xml', XML_NS]]);

/**
 * Scopes shared between messages: parent scope → declarations → scope. Messages of one sender declare
 * the same namespaces, so the qualified names cached on plan nodes per scope stay valid across messages.
 */
const sharedScopes = new WeakMap<Scope, Map<string, Scope>>();
const SHARED_SCOPES_LIMIT = 256;

/**
 * Caches on `node` its qualified name under `scope`: a prefix bound to its namespace (the default
 * namespace first), or null. A prefix with a colon in it is never used: such a qname resolves by its
 * first colon.
 */
function qualify(node: PlanNode, scope: Scope): void {
  const uri = node.namespace;
  let qname: string | null = null;
  if ((scope.get('') ?? '') === uri) qname = node.name;
  else {
    for (const [prefix, bound] of scope) {
      if (bound === uri && prefix !== '' && !prefix.includes(':')) {
        qname = `${prefix}:${node.name}`;
        break;
      }
    }
  }
  node.qnameScope = scope;
  node.qname = qname;
}

/** Thrown inside SAX handlers to stop at the first problem; never escapes parseMessage. */
class Stop extends Error {
  constructor(
    readonly code: IngestErrorCode,
    readonly reason: string,
    readonly path?: string,
  ) {
    super(reason);
  }
}

/** One open element. Frames are reused per depth: an element costs no allocation of its own. */
class Frame {
  /** Index into node.children of the particle being matched, and how often it matched so far. */
  childPos = 0;
  childCount = 0;
  text = '';

  constructor(
    public node: PlanNode,
    public scope: Scope,
    public row: Row,
    public ordinals: readonly string[],
  ) {}

  reuse(node: PlanNode, scope: Scope, row: Row, ordinals: readonly string[]): void {
    this.node = node;
    this.scope = scope;
    this.row = row;
    this.ordinals = ordinals;
    this.childPos = 0;
    this.childCount = 0;
    this.text = '';
  }
}

function isXmlSpace(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** Names that may come next after `children[pos]` matched `count` times, for error messages. */
function expected(node: PlanNode, pos: number, count: number): string {
  const names: string[] = [];
  const current = node.children[pos];
  let from = pos;
  if (current && count > 0) {
    if (count < current.maxOccurs) names.push(current.name);
    if (count < current.minOccurs) return names.join(' or ');
    from = pos + 1;
  }
  for (let i = from; i < node.children.length; i++) {
    const c = node.children[i] as PlanNode;
    names.push(c.name);
    if (c.minOccurs > 0) break;
  }
  return names.length ? names.join(' or ') : 'no more elements';
}

/**
 * The state of one pass. A reader (with its saxes parser and bound handlers) is reused for the next
 * message when a pass ends cleanly; after a Stop the parser is in an unknown state and is dropped.
 */
class MessageReader {
  /**
   * saxes without its own namespace processing, which costs about half its speed; bindings are resolved
   * here instead, with a small prefix cache (documents use two or three prefixes).
   */
  // XML 1.0 whatever the declaration says (as xmllint reads it): 1.1 would admit control characters such as
  // U+001F, which the link table's info fields are joined with.
  readonly parser = new SaxesParser({ position: true, defaultXMLVersion: '1.0', forceXMLVersion: true });
  plan: MessagePlan | null = null;
  tables: Tables | null = null;
  tableRows: Row[][] = [];
  mainRow: Row | null = null;
  /** frames[0..depth-1] are the open elements. */
  readonly frames: Frame[] = [];
  depth = 0;
  readonly canonical = new CanonicalWriter();
  done = false;
  /** Attributes are rare (namespace declarations aside); collecting them avoids a for-in per element. */
  readonly pendingAttributes: { name: string; value: string }[] = [];
  readonly pendingBindings: { prefix: string; uri: string }[] = [];
  /** Prefix cache for the scope `cacheScope`: `jw301:` → URI. */
  cacheScope: Scope | null = null;
  cachePrefixes: string[] = [];
  cacheUris: string[] = [];

  constructor() {
    const p = this.parser;
    p.on('doctype', () => {
      throw new Stop('ingest.doctype_forbidden', 'a DOCTYPE is not allowed in a message');
    });
    p.on('error', (err) => {
      throw new Stop('ingest.not_well_formed', err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, ''));
    });
    p.on('attribute', (a) => {
      const name = a.name;
      if (name === 'xmlns') this.pendingBindings.push({ prefix: '', uri: a.value });
      else if (name.startsWith('xmlns:')) this.pendingBindings.push({ prefix: name.slice(6), uri: a.value });
      else this.pendingAttributes.push({ name, value: a.value });
    });
    p.on('opentag', (tag) => this.open(tag as SaxesTagPlain));
    p.on('text', (t) => this.text(t));
    p.on('cdata', (t) => this.text(t));
    p.on('closetag', () => this.close());
  }

  reset(): void {
    this.plan = null;
    this.tables = null;
    this.tableRows = [];
    this.mainRow = null;
    this.depth = 0;
    this.canonical.reset();
    this.done = false;
    this.pendingAttributes.length = 0;
    this.pendingBindings.length = 0;
  }

  #scopeFor(parent: Scope): Scope {
    if (this.pendingBindings.length === 0) return parent;
    let key = '';
    for (const { prefix, uri } of this.pendingBindings) {
      if (prefix === 'xmlns' || uri === XMLNS_NS || (prefix === 'xml') !== (uri === XML_NS)) {
        throw new Stop(
          'ingest.not_well_formed',
          `reserved namespace prefix or URI misused: ${prefix || '(default)'}`,
        );
      }
      if (prefix !== '' && uri === '') {
        throw new Stop('ingest.not_well_formed', `invalid attempt to undefine prefix ${prefix} in XML 1.0`);
      }
      key += `${prefix}\u0000${uri}\u0000`;
    }
    let known = sharedScopes.get(parent);
    if (known === undefined) {
      known = new Map();
      sharedScopes.set(parent, known);
    }
    let scope = known.get(key);
    if (scope === undefined) {
      const fresh = new Map(parent);
      for (const { prefix, uri } of this.pendingBindings) fresh.set(prefix, intern(uri));
      if (known.size >= SHARED_SCOPES_LIMIT) known.clear();
      known.set(key, fresh);
      scope = fresh;
    }
    this.pendingBindings.length = 0;
    return scope;
  }

  /** URI of the last resolved qname (set by #resolve, which returns the length of its `prefix:`). */
  resolvedUri = '';

  #resolve(qname: string, scope: Scope): number {
    if (this.cacheScope !== scope) {
      this.cacheScope = scope;
      this.cachePrefixes = [];
      this.cacheUris = [];
    }
    const prefixes = this.cachePrefixes;
    for (let k = 0; k < prefixes.length; k++) {
      const p = prefixes[k] as string;
      if (qname.startsWith(p) && (p.length > 0 || qname.indexOf(':') < 0)) {
        this.resolvedUri = this.cacheUris[k] as string;
        return p.length;
      }
    }
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    if (prefix === 'xmlns')
      throw new Stop('ingest.not_well_formed', 'an element may not have the prefix xmlns');
    const uri = scope.get(prefix) ?? (prefix === '' ? '' : undefined);
    if (uri === undefined) throw new Stop('ingest.not_well_formed', `unbound namespace prefix: ${prefix}`);
    prefixes.push(colon < 0 ? '' : `${prefix}:`);
    this.cacheUris.push(uri);
    this.resolvedUri = uri;
    return colon + 1;
  }

  /**
   * The expected child `qname` is under the parent's sequence state, when it is written with the prefix
   * `qualify` chose: no prefix to resolve, no local name to cut out. -1 otherwise (then `open` decides the
   * slow way, which finds the same child or the error).
   */
  #quickMatch(parent: Frame, qname: string, scope: Scope): number {
    const children = parent.node.children;
    const i = parent.childPos;
    const count = parent.childCount;
    for (let k = i; k < children.length; k++) {
      const c = children[k] as PlanNode;
      if (c.qnameScope !== scope) qualify(c, scope);
      if (c.qname === qname) return k === i && count >= c.maxOccurs ? -1 : k;
      if (k === i ? count < c.minOccurs : c.minOccurs > 0) break;
    }
    return -1;
  }

  open(tag: SaxesTagPlain): void {
    const qname = tag.name;
    const depth = this.depth;
    const parent = depth === 0 ? undefined : (this.frames[depth - 1] as Frame);
    const scope = this.#scopeFor(parent === undefined ? ROOT_SCOPE : parent.scope);
    const quick = parent === undefined ? -1 : this.#quickMatch(parent, qname, scope);
    let node: PlanNode;
    let row: Row;
    let ordinals: readonly string[];
    if (quick >= 0) {
      node = this.#enter(parent as Frame, quick);
      row = this.enteredRow;
      ordinals = this.enteredOrdinals;
    } else if (parent === undefined) {
      const prefixLength = this.#resolve(qname, scope);
      const uri = this.resolvedUri;
      const local = qname.slice(prefixLength);
      if (this.done) throw new Stop('ingest.not_well_formed', 'content after the root element');
      const schema = local === 'Bericht' && uri ? schemaSet().byNamespace(uri) : undefined;
      if (!schema) {
        throw new Stop(
          'ingest.unknown_type',
          `root element {${uri}}${local} is not an iJw/iWmo ${schemaSet().release} message`,
        );
      }
      const plan = planFor(schema);
      const tables: Tables = new Map();
      this.plan = plan;
      this.tables = tables;
      this.tableRows = plan.tableNames.map((name) => {
        const rows: Row[] = [];
        tables.set(name, rows);
        return rows;
      });
      const mainRow = new Array<string | null>(plan.mainWidth).fill(null);
      this.mainRow = mainRow;
      (this.tableRows[0] as Row[]).push(mainRow);
      node = plan.root;
      row = mainRow;
      ordinals = [];
      this.canonical.markup(`<Bericht xmlns="${uri}">`);
    } else {
      const prefixLength = this.#resolve(qname, scope);
      const uri = this.resolvedUri;
      const pn = parent.node;
      if (pn.simple !== null) {
        throw new Stop(
          'ingest.xsd_invalid',
          `element ${qname.slice(prefixLength)} is not allowed in simple content`,
          pn.path,
        );
      }
      // The sequence as a state machine: (position, count) only moves forward. The local name is
      // compared with the current particle and the optional ones after it (=== rejects on length first).
      const children = pn.children;
      const local = prefixLength === 0 ? qname : qname.slice(prefixLength);
      const i = parent.childPos;
      const count = parent.childCount;
      let j = -1;
      for (let k = i; k < children.length; k++) {
        const c = children[k] as PlanNode;
        if (c.name === local) {
          j = k;
          break;
        }
        if (k === i ? count < c.minOccurs : c.minOccurs > 0) break;
      }
      const c = j < 0 ? undefined : children[j];
      if (c === undefined || c.namespace !== uri || (j === i && count >= c.maxOccurs)) {
        throw new Stop(
          'ingest.xsd_invalid',
          c !== undefined && c.namespace !== uri
            ? `element {${uri}}${local} is not expected here; expected ${local} in namespace ${c.namespace}`
            : `element {${uri}}${local} is not expected here; expected ${expected(pn, i, count)}`,
          pn.path,
        );
      }
      node = this.#enter(parent, j);
      row = this.enteredRow;
      ordinals = this.enteredOrdinals;
    }
    if (this.pendingAttributes.length > 0) {
      for (const { name } of this.pendingAttributes) {
        const colon = name.indexOf(':');
        const attrUri = colon < 0 ? '' : scope.get(name.slice(0, colon));
        if (attrUri === undefined)
          throw new Stop('ingest.not_well_formed', `unbound namespace prefix in attribute ${name}`);
        const attrLocal = name.slice(colon + 1);
        if (attrUri === XSI && (attrLocal === 'schemaLocation' || attrLocal === 'noNamespaceSchemaLocation'))
          continue;
        throw new Stop('ingest.xsd_invalid', `attribute ${name} is not allowed`, node.path);
      }
      this.pendingAttributes.length = 0;
    }
    const frame = this.frames[depth];
    if (frame === undefined) this.frames.push(new Frame(node, scope, row, ordinals));
    else frame.reuse(node, scope, row, ordinals);
    this.depth = depth + 1;
  }

  /** Row and ordinals of the element #enter entered (fields, not a returned object: no allocation). */
  enteredRow: Row = [];
  enteredOrdinals: readonly string[] = [];

  /** Moves the parent's sequence state to child `j` and starts that child's row if it has a table. */
  #enter(parent: Frame, j: number): PlanNode {
    if (j === parent.childPos) {
      parent.childCount++;
    } else {
      parent.childPos = j;
      parent.childCount = 1;
    }
    const node = parent.node.children[j] as PlanNode;
    const t = node.table;
    if (t !== null) {
      const row = new Array<string | null>(t.width).fill(null);
      const o = parent.ordinals.slice();
      o.push(String(parent.childCount));
      for (let k = 0; k < o.length; k++) row[1 + k] = o[k] as string;
      (this.tableRows[t.index] as Row[]).push(row);
      this.enteredRow = row;
      this.enteredOrdinals = o;
    } else {
      this.enteredRow = parent.row;
      this.enteredOrdinals = parent.ordinals;
    }
    this.canonical.bytes(node.openTag);
    return node;
  }

  text(t: string): void {
    if (this.depth === 0) return;
    const top = this.frames[this.depth - 1] as Frame;
    if (top.node.simple !== null) top.text += t;
    else if (!isXmlSpace(t)) {
      throw new Stop('ingest.xsd_invalid', 'text is not allowed in element-only content', top.node.path);
    }
  }

  close(): void {
    if (this.depth === 0) return;
    const depth = --this.depth;
    const top = this.frames[depth] as Frame;
    const node = top.node;
    const simple = node.simple;
    if (simple !== null) {
      const value = simple.normalize(top.text);
      const problem = simple.check(value);
      if (problem !== undefined) throw new Stop('ingest.xsd_invalid', problem, node.path);
      const canon = simple.canonical(value);
      const leaf = node.leaf;
      if (leaf !== null) {
        // An integer as a number reads (+2, 002: 2): a message sent both ways is one message (the same BerichtId),
        // and its row must not depend on which copy came first.
        const cell = node.hashed !== null ? simple.hashKey(value) : canon;
        if (leaf.kind === 'column') top.row[leaf.col] = cell;
        else {
          const parent = this.frames[depth - 1] as Frame;
          const r = new Array<string | null>(leaf.width).fill(null);
          r[leaf.levelCol] = leaf.level;
          for (let k = 0; k < leaf.ordinalCols.length; k++)
            r[leaf.ordinalCols[k] as number] = top.ordinals[k] ?? null;
          r[leaf.volgnrCol] = String(parent.childCount);
          r[leaf.col] = cell;
          (this.tableRows[leaf.table] as Row[]).push(r);
        }
      }
      this.canonical.text(canon);
      this.canonical.bytes(node.closeTag);
    } else {
      const i = top.childPos;
      const n = node.children.length;
      const current = node.children[i];
      const missing =
        current !== undefined && top.childCount < current.minOccurs
          ? current
          : (node.requiredBefore[n] as number) - (node.requiredBefore[Math.min(i + 1, n)] as number) > 0
            ? node.firstRequired(i + 1, n)
            : undefined;
      if (missing) {
        throw new Stop(
          'ingest.xsd_invalid',
          `element ${missing.name} is missing (minOccurs ${missing.minOccurs})`,
          node.path,
        );
      }
      this.canonical.bytes(node.closeTag);
    }
    if (depth === 0) this.done = true;
  }
}

let idle: MessageReader | null = null;

/**
 * One pass over a message: well-formedness (saxes), validation against the compiled XSD model
 * (per complex type a state machine over its sequence, precompiled facets) and flattening into rows.
 */
export function parseMessage(xml: Buffer | string, source: { file: string }): ParseOutcome {
  const file = source.file;
  const decoded = decodeXml(xml);
  if (!decoded.ok) return fail(file, decoded.code, decoded.reason);
  const reader = idle ?? new MessageReader();
  idle = null;
  reader.reset();
  try {
    reader.parser.write(decoded.text).close();
  } catch (err) {
    const code = reader.plan?.schema.code;
    if (err instanceof Stop) return fail(file, err.code, err.reason, code, err.path, reader.parser.line);
    return fail(file, 'ingest.not_well_formed', err instanceof Error ? err.message : String(err), code);
  }
  const { plan, tables, mainRow, done } = reader;
  const canonical = reader.canonical.take();
  reader.reset();
  idle = reader;
  if (!plan || !tables || !mainRow || !done) {
    return fail(file, 'ingest.not_well_formed', 'no complete root element', plan?.schema.code);
  }
  const k = plan.keyCols;
  const cell = (i: number) => (i < 0 ? undefined : (mainRow[i] ?? undefined));
  const identificatieRetour = cell(k.identificatieRetour);
  const dagtekeningRetour = cell(k.dagtekeningRetour);
  const key: MessageKey = {
    standard: plan.schema.standard,
    code: plan.schema.code,
    afzender: cell(k.afzender) ?? '',
    ontvanger: cell(k.ontvanger) ?? '',
    identificatie: cell(k.identificatie) ?? '',
    dagtekening: cell(k.dagtekening) ?? '',
    ...(identificatieRetour !== undefined ? { identificatieRetour } : {}),
    ...(dagtekeningRetour !== undefined ? { dagtekeningRetour } : {}),
  };
  const gemeente = cell(plan.gemeenteValueCol) ?? '';
  mainRow[plan.gemeenteCol] = gemeente;
  const message: FlatMessage = { schema: plan.schema, key, gemeente, canonical, tables };
  return { ok: true, message };
}

/** Longest name (element, attribute, prefix, URI) a reason repeats: a hostile one can be megabytes. */
export const MAX_QUOTED = 100;

/** Every run of more than MAX_QUOTED non-blank characters in `text` cut to MAX_QUOTED and '…'. */
export function capNames(text: string, max = MAX_QUOTED): string {
  return text.replace(new RegExp(`\\S{${max + 1},}`, 'g'), (w) => `${w.slice(0, max)}…`);
}

function fail(
  file: string,
  code: IngestErrorCode,
  reason: string,
  messageCode?: string,
  path?: string,
  line?: number,
): ParseOutcome {
  const where = [messageCode, path, line !== undefined ? `line ${line}` : undefined]
    .filter(Boolean)
    .join(' ');
  const error: IngestError = {
    code,
    message: `${file}: ${where ? `${where}: ` : ''}${capNames(reason)} (${code})`,
    file,
    ...(messageCode ? { messageCode } : {}),
    ...(path ? { path } : {}),
    ...(line !== undefined ? { line } : {}),
  };
  return { ok: false, error };
}
