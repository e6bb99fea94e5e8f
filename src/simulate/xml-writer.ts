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

export class XmlWriter {
  #s = '';
  readonly #stack: string[] = [];
  readonly #m: string;
  readonly #b: string;
  readonly #pretty: string | undefined;
  readonly #indents: string[] = [];

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
    let rootAttrs: string;
    if (style === 'tabs') {
      this.#m = `${messageLocal}:`;
      this.#b = `${basisLocal}:`;
      this.#pretty = '\t';
      rootAttrs = ` xmlns:${basisLocal}="${basisNs}" xmlns:${messageLocal}="${messageNs}"`;
    } else if (style === 'compact') {
      this.#m = '';
      this.#b = `${basisLocal}:`;
      this.#pretty = undefined;
      rootAttrs = ` xmlns="${messageNs}" xmlns:${basisLocal}="${basisNs}"`;
    } else {
      this.#m = 'ns2:';
      this.#b = 'ns1:';
      this.#pretty = '  ';
      rootAttrs = ` xmlns:ns1="${basisNs}" xmlns:ns2="${messageNs}"`;
    }
    const decl =
      style === 'jaxb'
        ? '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        : '<?xml version="1.0" encoding="UTF-8"?>\n';
    this.#s = `${decl}<${this.#m}Bericht${rootAttrs}>`;
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
    const full = this.#m + name;
    this.#s += `${this.#indent()}<${full}>`;
    this.#stack.push(full);
    return this;
  }

  /** Open an element of the basisschema's namespace. */
  openB(name: string): this {
    const full = this.#b + name;
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
    const full = this.#m + name;
    this.#s += `${this.#indent()}<${full}>${typeof value === 'number' ? value : escapeXml(value)}</${full}>`;
    return this;
  }

  leafB(name: string, value: string | number): this {
    const full = this.#b + name;
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
