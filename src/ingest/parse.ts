import { SaxesParser, type SaxesTagNS } from 'saxes';
import { schemaSet } from '../schema/releases.js';
import { decodeXml } from './decode.js';
import { type MessagePlan, type PlanNode, planFor } from './plan.js';
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

interface Frame {
  readonly node: PlanNode;
  /** Index into node.children of the particle being matched, and how often it matched so far. */
  childPos: number;
  childCount: number;
  readonly row: Row;
  readonly ordinals: readonly string[];
  text: string;
}

const AMP_LT_GT = /[&<>]/;
function escapeText(v: string): string {
  return AMP_LT_GT.test(v) ? v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : v;
}

function isXmlSpace(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function expected(node: PlanNode, from: number): string {
  const names: string[] = [];
  for (let i = from; i < node.children.length; i++) {
    const c = node.children[i] as PlanNode;
    names.push(c.name);
    if (c.minOccurs > 0) break;
  }
  return names.length ? names.join(' or ') : 'no more elements';
}

/**
 * One pass over a message: well-formedness (saxes), validation against the compiled XSD model
 * (per complex type a state machine over its sequence, precompiled facets) and flattening into rows.
 */
export function parseMessage(xml: Buffer | string, source: { file: string }): ParseOutcome {
  const file = source.file;
  const decoded = decodeXml(xml);
  if (!decoded.ok) return fail(file, decoded.code, decoded.reason);

  let plan: MessagePlan | undefined;
  let tables: Tables | undefined;
  let tableRows: Row[][] = [];
  let mainRow: Row | undefined;
  const stack: Frame[] = [];
  let canonical = '';
  let done = false;

  const parser = new SaxesParser({ xmlns: true, position: true });
  parser.on('doctype', () => {
    throw new Stop('ingest.doctype_forbidden', 'a DOCTYPE is not allowed in a message');
  });
  parser.on('error', (err) => {
    throw new Stop('ingest.not_well_formed', err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, ''));
  });
  // Attributes are rare (namespace declarations aside); collecting them here avoids a for-in per element.
  const pendingAttributes: string[] = [];
  parser.on('attribute', (a) => {
    if (a.name !== 'xmlns' && a.prefix !== 'xmlns') pendingAttributes.push(a.name);
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const uri = tag.uri;
    const local = tag.local;
    const parent = stack[stack.length - 1];
    let node: PlanNode;
    let row: Row;
    let ordinals: readonly string[];
    if (parent === undefined) {
      if (done) throw new Stop('ingest.not_well_formed', 'content after the root element');
      const schema = local === 'Bericht' ? schemaSet().byNamespace(uri) : undefined;
      if (!schema) {
        throw new Stop(
          'ingest.unknown_type',
          `root element {${uri}}${local} is not an iJw/iWmo ${schemaSet().release} message`,
        );
      }
      plan = planFor(schema);
      tables = new Map();
      tableRows = plan.tableNames.map((name) => {
        const rows: Row[] = [];
        tables?.set(name, rows);
        return rows;
      });
      mainRow = new Array<string | null>(plan.mainWidth).fill(null);
      (tableRows[0] as Row[]).push(mainRow);
      node = plan.root;
      row = mainRow;
      ordinals = [];
      canonical = `<Bericht xmlns="${uri}">`;
    } else {
      const pn = parent.node;
      if (pn.simple !== null) {
        throw new Stop('ingest.xsd_invalid', `element ${local} is not allowed in simple content`, pn.path);
      }
      const children = pn.children;
      let i = parent.childPos;
      let count = parent.childCount;
      for (;;) {
        const c = children[i];
        if (c === undefined) {
          throw new Stop(
            'ingest.xsd_invalid',
            `element {${uri}}${local} is not expected here; expected ${expected(pn, parent.childPos + (parent.childCount >= (children[parent.childPos]?.maxOccurs ?? 0) ? 1 : 0))}`,
            pn.path,
          );
        }
        if (c.name === local && c.namespace === uri && count < c.maxOccurs) break;
        if (count < c.minOccurs) {
          throw new Stop(
            'ingest.xsd_invalid',
            `element {${uri}}${local} is not expected here; expected ${c.name}`,
            pn.path,
          );
        }
        i++;
        count = 0;
      }
      count++;
      parent.childPos = i;
      parent.childCount = count;
      node = children[i] as PlanNode;
      const t = node.table;
      if (t !== null) {
        row = new Array<string | null>(t.width).fill(null);
        ordinals = [...parent.ordinals, String(count)];
        for (let k = 0; k < ordinals.length; k++) row[1 + k] = ordinals[k] as string;
        (tableRows[t.index] as Row[]).push(row);
      } else {
        row = parent.row;
        ordinals = parent.ordinals;
      }
      canonical += `<${local}>`;
    }
    if (pendingAttributes.length > 0) {
      for (const name of pendingAttributes) {
        const a = tag.attributes[name];
        if (a?.uri === XSI && (a.local === 'schemaLocation' || a.local === 'noNamespaceSchemaLocation'))
          continue;
        throw new Stop('ingest.xsd_invalid', `attribute ${name} is not allowed`, node.path);
      }
      pendingAttributes.length = 0;
    }
    stack.push({ node, childPos: 0, childCount: 0, row, ordinals, text: '' });
  });
  const onText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top === undefined) return;
    if (top.node.simple !== null) top.text += t;
    else if (!isXmlSpace(t)) {
      throw new Stop('ingest.xsd_invalid', 'text is not allowed in element-only content', top.node.path);
    }
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const top = stack.pop();
    if (top === undefined) return;
    const node = top.node;
    const simple = node.simple;
    if (simple !== null) {
      const value = simple.normalize(top.text);
      const problem = simple.check(value);
      if (problem !== undefined) throw new Stop('ingest.xsd_invalid', problem, node.path);
      const canon = simple.canonical(value);
      const leaf = node.leaf;
      if (leaf !== null) {
        const cell = node.hashed !== null ? canon : value;
        if (leaf.kind === 'column') top.row[leaf.col] = cell;
        else {
          const parent = stack[stack.length - 1] as Frame;
          const r = new Array<string | null>(leaf.width).fill(null);
          r[leaf.levelCol] = leaf.level;
          for (let k = 0; k < leaf.ordinalCols.length; k++)
            r[leaf.ordinalCols[k] as number] = top.ordinals[k] ?? null;
          r[leaf.volgnrCol] = String(parent.childCount);
          r[leaf.col] = cell;
          (tableRows[leaf.table] as Row[]).push(r);
        }
      }
      canonical += `${escapeText(canon)}</${node.name}>`;
    } else {
      const children = node.children;
      let i = top.childPos;
      let count = top.childCount;
      while (i < children.length) {
        const c = children[i] as PlanNode;
        if (count < c.minOccurs) {
          throw new Stop(
            'ingest.xsd_invalid',
            `element ${c.name} is missing (minOccurs ${c.minOccurs})`,
            node.path,
          );
        }
        i++;
        count = 0;
      }
      canonical += `</${node.name}>`;
    }
    if (stack.length === 0) done = true;
  });

  try {
    parser.write(decoded.text).close();
  } catch (err) {
    if (err instanceof Stop) {
      return fail(file, err.code, err.reason, plan?.schema.code, err.path, parser.line);
    }
    return fail(
      file,
      'ingest.not_well_formed',
      err instanceof Error ? err.message : String(err),
      plan?.schema.code,
    );
  }
  if (!plan || !tables || !mainRow || !done) {
    return fail(file, 'ingest.not_well_formed', 'no complete root element', plan?.schema.code);
  }
  const k = plan.keyCols;
  const cell = (i: number) => (i < 0 ? undefined : (mainRow?.[i] ?? undefined));
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
    message: `${file}: ${where ? `${where}: ` : ''}${reason} (${code})`,
    file,
    ...(messageCode ? { messageCode } : {}),
    ...(path ? { path } : {}),
    ...(line !== undefined ? { line } : {}),
  };
  return { ok: false, error };
}
