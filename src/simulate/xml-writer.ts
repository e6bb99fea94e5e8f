/**
 * Fast, direct XML string building in the XSD's element order. Real traffic differs in how it spells the
 * same message (prefixes, default namespace, indentation); a `Style` picks one of those spellings. Only
 * namespace URIs and local names carry meaning, so all styles are the same message.
 */
export type StyleName = 'tabs' | 'compact' | 'jaxb';

export const STYLES: readonly StyleName[] = ['tabs', 'compact', 'jaxb'];

const ESCAPE = /[<>&"']/;

export function escapeXml(value: string): string {
  if (!ESCAPE.test(value)) return value;
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** An element's tags as one spelling writes them. */
interface Tag {
  readonly open: string;
  readonly close: string;
}

/**
 * One spelling of one message type: its root, and the tags of both namespaces made once, so that writing
 * a message allocates only its own text (no per-element prefix concatenation or cache keys).
 */
export interface Spelling {
  readonly root: string;
  readonly rootClose: string;
  readonly messageTags: Map<string, Tag>;
  readonly basisTags: Map<string, Tag>;
  readonly m: string;
  readonly b: string;
  /** `\n` plus the indentation per depth; undefined for the compact style. */
  readonly indents: string[] | undefined;
  readonly unit: string;
}

const spellings = new Map<string, Spelling>();

export function spelling(
  style: StyleName,
  messageNs: string,
  basisNs: string,
  messageLocal: string,
  basisLocal: string,
): Spelling {
  const key = `${style}|${messageNs}|${basisNs}|${messageLocal}|${basisLocal}`;
  let sp = spellings.get(key);
  if (!sp) {
    let m: string;
    let b: string;
    let attrs: string;
    if (style === 'tabs') {
      m = `${messageLocal}:`;
      b = `${basisLocal}:`;
      attrs = ` xmlns:${basisLocal}="${basisNs}" xmlns:${messageLocal}="${messageNs}"`;
    } else if (style === 'compact') {
      m = '';
      b = `${basisLocal}:`;
      attrs = ` xmlns="${messageNs}" xmlns:${basisLocal}="${basisNs}"`;
    } else {
      m = 'ns2:';
      b = 'ns1:';
      attrs = ` xmlns:ns1="${basisNs}" xmlns:ns2="${messageNs}"`;
    }
    const decl =
      style === 'jaxb'
        ? '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        : '<?xml version="1.0" encoding="UTF-8"?>\n';
    const unit = style === 'tabs' ? '\t' : style === 'jaxb' ? '  ' : '';
    sp = {
      root: `${decl}<${m}Bericht${attrs}>`,
      rootClose: `</${m}Bericht>`,
      messageTags: new Map(),
      basisTags: new Map(),
      m,
      b,
      indents: style === 'compact' ? undefined : [],
      unit,
    };
    spellings.set(key, sp);
  }
  return sp;
}

function tagOf(tags: Map<string, Tag>, prefix: string, name: string): Tag {
  let t = tags.get(name);
  if (t === undefined) {
    t = { open: `<${prefix}${name}>`, close: `</${prefix}${name}>` };
    tags.set(name, t);
  }
  return t;
}

export class XmlWriter {
  #s: string;
  /** Close tags of the open elements below the root. */
  readonly #stack: string[] = [];
  readonly #sp: Spelling;

  constructor(sp: Spelling) {
    this.#sp = sp;
    this.#s = sp.root;
  }

  /** Newline and indentation for an element at the current depth ('' when compact). */
  #indent(): string {
    const indents = this.#sp.indents;
    if (indents === undefined) return '';
    const depth = this.#stack.length + 1;
    let s = indents[depth];
    if (s === undefined) {
      s = `\n${this.#sp.unit.repeat(depth)}`;
      indents[depth] = s;
    }
    return s;
  }

  /** Open an element of the message's namespace. */
  open(name: string): this {
    const t = tagOf(this.#sp.messageTags, this.#sp.m, name);
    this.#s += this.#indent() + t.open;
    this.#stack.push(t.close);
    return this;
  }

  /** Open an element of the basisschema's namespace. */
  openB(name: string): this {
    const t = tagOf(this.#sp.basisTags, this.#sp.b, name);
    this.#s += this.#indent() + t.open;
    this.#stack.push(t.close);
    return this;
  }

  close(): this {
    const close = this.#stack.pop();
    if (close === undefined) throw new Error('simulate.xml: close without open');
    this.#s += this.#indent() + close;
    return this;
  }

  leaf(name: string, value: string | number): this {
    const t = tagOf(this.#sp.messageTags, this.#sp.m, name);
    this.#s += `${this.#indent()}${t.open}${typeof value === 'number' ? value : escapeXml(value)}${t.close}`;
    return this;
  }

  leafB(name: string, value: string | number): this {
    const t = tagOf(this.#sp.basisTags, this.#sp.b, name);
    this.#s += `${this.#indent()}${t.open}${typeof value === 'number' ? value : escapeXml(value)}${t.close}`;
    return this;
  }

  /** Leaf only when the value is present. */
  opt(name: string, value: string | number | undefined): this {
    return value === undefined ? this : this.leaf(name, value);
  }

  optB(name: string, value: string | number | undefined): this {
    return value === undefined ? this : this.leafB(name, value);
  }

  finish(): string {
    while (this.#stack.length > 0) this.close();
    const root = this.#sp.indents === undefined ? '' : '\n';
    return `${this.#s}${root}${this.#sp.rootClose}\n`;
  }
}
