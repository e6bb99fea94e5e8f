import { SaxesParser } from 'saxes';

/** A small DOM of an XSD document: enough to read the subset of XML Schema the iStandaarden use. */
export interface XsdNode {
  readonly local: string;
  readonly uri: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XsdNode[];
  text: string;
  /** Namespace bindings in scope, to resolve QName attribute values such as type="ijw:LDT_Datum". */
  readonly ns: Readonly<Record<string, string>>;
}

export const XS = 'http://www.w3.org/2001/XMLSchema';

export function readXsd(text: string, fileName: string): XsdNode {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XsdNode[] = [];
  let root: XsdNode | undefined;
  parser.on('opentag', (tag) => {
    const attrs: Record<string, string> = {};
    for (const [name, attr] of Object.entries(tag.attributes)) {
      if (typeof attr === 'object' && attr.uri !== 'http://www.w3.org/2000/xmlns/' && name !== 'xmlns') {
        attrs[attr.local] = attr.value;
      }
    }
    const parentNs = stack.at(-1)?.ns ?? {};
    const ns = { ...parentNs, ...(tag.ns ?? {}) };
    const node: XsdNode = {
      local: tag.local ?? tag.name,
      uri: tag.uri ?? '',
      attrs,
      children: [],
      text: '',
      ns,
    };
    stack.at(-1)?.children.push(node);
    stack.push(node);
    root ??= node;
  });
  parser.on('text', (t) => {
    const top = stack.at(-1);
    if (top) top.text += t;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('error', (err) => {
    throw new Error(`${fileName}: ${err.message}`);
  });
  parser.write(text).close();
  if (!root) throw new Error(`${fileName}: empty XSD`);
  return root;
}

export function xsChildren(node: XsdNode, local: string): XsdNode[] {
  return node.children.filter((c) => c.uri === XS && c.local === local);
}

export function xsChild(node: XsdNode, local: string): XsdNode | undefined {
  return node.children.find((c) => c.uri === XS && c.local === local);
}

/** The `xs:annotation/xs:documentation` text of a node, whitespace folded. */
export function documentationOf(node: XsdNode): string | undefined {
  const doc = xsChild(node, 'annotation')
    ?.children.filter((c) => c.uri === XS && c.local === 'documentation')
    .map((d) => d.text.replace(/\s+/g, ' ').trim())
    .filter((t) => t.length > 0)
    .join(' ');
  return doc || undefined;
}

/** Resolve a QName attribute value to {uri, local}. */
export function resolveQName(node: XsdNode, qname: string): { uri: string; local: string } {
  const i = qname.indexOf(':');
  const prefix = i < 0 ? '' : qname.slice(0, i);
  const local = i < 0 ? qname : qname.slice(i + 1);
  const uri = node.ns[prefix];
  if (uri === undefined) throw new Error(`unbound prefix '${prefix}' in '${qname}'`);
  return { uri, local };
}
