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

/** Prefixed names and root tags, made once per prefix: writing a message allocates only its own text. */
const nameCache = new Map<string, Map<string, string>>();
const rootCache = new Map<string, { readonly root: string; readonly m: string; readonly b: string }>();
const indentCache = new Map<string, string[]>();

function prefixed(prefix: string): Map<string, string> {
  let names = nameCache.get(prefix);
  if (!names) {
    names = new Map();
    nameCache.set(prefix, names);
  }
  return names;
}

function fullName(names: Map<string, string>, prefix: string, name: string): string {
  let full = names.get(name);
  if (full === undefined) {
    full = prefix + name;
    names.set(name, full);
  }
  return full;
}

function rootOf(
  style: StyleName,
  messageNs: string,
  basisNs: string,
  messageLocal: string,
  basisLocal: string,
) {
  const key = `${style}|${messageNs}|${basisLocal}`;
  let r = rootCache.get(key);
  if (!r) {
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
    r = { root: `${decl}<${m}Bericht${attrs}>`, m, b };
    rootCache.set(key, r);
  }
  return r;
}

export class XmlWriter {
  #s = '';
  readonly #stack: string[] = [];
  readonly #m: string;
  readonly #b: string;
  readonly #mNames: Map<string, string>;
  readonly #bNames: Map<string, string>;
  readonly #pretty: string | undefined;
  readonly #indents: string[];

  /**
   * @param messageLocal the message's own prefix base (`jw301`), @param basisLocal the basisschema's (`ijw`).
   */
  constructor(
    readonly style: StyleName,
    messageNs: string,
    basisNs: string,
    messageLocal: string,
    basisLocal: string,
  ) {
    const r = rootOf(style, messageNs, basisNs, messageLocal, basisLocal);
    this.#m = r.m;
    this.#b = r.b;
    this.#mNames = prefixed(r.m);
    this.#bNames = prefixed(r.b);
    this.#pretty = style === 'tabs' ? '\t' : style === 'jaxb' ? '  ' : undefined;
    let indents = indentCache.get(this.#pretty ?? '');
    if (!indents) {
      indents = [];
      indentCache.set(this.#pretty ?? '', indents);
    }
    this.#indents = indents;
    this.#s = r.root;
    this.#stack.push(`${this.#m}Bericht`);
  }

  #indent(): string {
    if (this.#pretty === undefined) return '';
    const depth = this.#stack.length;
    let s = this.#indents[depth];
    if (s === undefined) {
      s = `\n${this.#pretty.repeat(depth)}`;
      this.#indents[depth] = s;
    }
    return s;
  }

  /** Open an element of the message's namespace. */
  open(name: string): this {
    const full = fullName(this.#mNames, this.#m, name);
    this.#s += `${this.#indent()}<${full}>`;
    this.#stack.push(full);
    return this;
  }

  /** Open an element of the basisschema's namespace. */
  openB(name: string): this {
    const full = fullName(this.#bNames, this.#b, name);
    this.#s += `${this.#indent()}<${full}>`;
    this.#stack.push(full);
    return this;
  }

  close(): this {
    const full = this.#stack.pop();
    if (full === undefined) throw new Error('simulate.xml: close without open');
    this.#s += `${this.#indent()}</${full}>`;
    return this;
  }

  leaf(name: string, value: string | number): this {
    const full = fullName(this.#mNames, this.#m, name);
    this.#s += `${this.#indent()}<${full}>${typeof value === 'number' ? value : escapeXml(value)}</${full}>`;
    return this;
  }

  leafB(name: string, value: string | number): this {
    const full = fullName(this.#bNames, this.#b, name);
    this.#s += `${this.#indent()}<${full}>${typeof value === 'number' ? value : escapeXml(value)}</${full}>`;
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
    return `${this.#s}\n`;
  }
}
