/**
 * Fast, direct XML building, as UTF-8 bytes, in the XSD's element order. Real traffic differs in how it
 * spells the same message (prefixes, default namespace, indentation); a `Style` picks one of those
 * spellings. Only namespace URIs and local names carry meaning, so all styles are the same message.
 */
export type StyleName = 'tabs' | 'compact' | 'jaxb';

export const STYLES: readonly StyleName[] = ['tabs', 'compact', 'jaxb'];

/** An element's tags as one spelling writes them, UTF-8 encoded. */
interface Tag {
  readonly open: Uint8Array;
  readonly close: Uint8Array;
  /** Per depth: the open tag on its own line (indented as the spelling does), made when first needed. */
  readonly openAt: Uint8Array[];
  /** Per depth: the close tag of an element with children, on its own line. */
  readonly closeAt: Uint8Array[];
}

const encoder = new TextEncoder();

/**
 * One spelling of one message type: its root, and the tags of both namespaces encoded once, so that
 * writing a message copies bytes and encodes only its own values.
 */
export interface Spelling {
  readonly root: Uint8Array;
  readonly rootClose: Uint8Array;
  readonly messageTags: Map<string, Tag>;
  readonly basisTags: Map<string, Tag>;
  readonly m: string;
  readonly b: string;
  /** One level of indentation; undefined for the compact style, which has no newlines either. */
  readonly unit: string | undefined;
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
    const unit = style === 'tabs' ? '\t' : style === 'jaxb' ? '  ' : undefined;
    sp = {
      root: encoder.encode(`${decl}<${m}Bericht${attrs}>`),
      rootClose: encoder.encode(`${unit === undefined ? '' : '\n'}</${m}Bericht>\n`),
      messageTags: new Map(),
      basisTags: new Map(),
      m,
      b,
      unit,
    };
    spellings.set(key, sp);
  }
  return sp;
}

function tagOf(tags: Map<string, Tag>, prefix: string, name: string): Tag {
  let t = tags.get(name);
  if (t === undefined) {
    t = {
      open: encoder.encode(`<${prefix}${name}>`),
      close: encoder.encode(`</${prefix}${name}>`),
      openAt: [],
      closeAt: [],
    };
    tags.set(name, t);
  }
  return t;
}

const AMP = encoder.encode('&amp;');
const LT = encoder.encode('&lt;');
const GT = encoder.encode('&gt;');
const QUOT = encoder.encode('&quot;');
const APOS = encoder.encode('&apos;');

/**
 * The bytes of the message being built. One buffer for all writers: the simulator builds one message at
 * a time, from its first element to `finish`, and writes it out (or `keep`s a copy) before it builds the
 * next.
 */
let scratch = new Uint8Array(1 << 16);

/**
 * Writes a message as UTF-8 bytes straight away: tags are copied from their encoded form and values are
 * escaped while they are encoded, so no strings are concatenated, flattened or encoded afterwards.
 */
export class XmlWriter {
  #n = 0;
  /** The open elements below the root. */
  readonly #stack: Tag[] = [];
  readonly #sp: Spelling;

  constructor(sp: Spelling) {
    this.#sp = sp;
    this.#bytes(sp.root);
  }

  #room(n: number): void {
    if (this.#n + n <= scratch.length) return;
    const grown = new Uint8Array(Math.max(2 * scratch.length, this.#n + n));
    grown.set(scratch.subarray(0, this.#n));
    scratch = grown;
  }

  #bytes(b: Uint8Array): void {
    this.#room(b.length);
    scratch.set(b, this.#n);
    this.#n += b.length;
  }

  /** A value, with `&<>"'` escaped, encoded as UTF-8 (a lone surrogate as U+FFFD, as Buffer does). */
  #value(s: string): void {
    this.#room(6 * s.length);
    const out = scratch;
    let n = this.#n;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        const entity =
          c === 38 ? AMP : c === 60 ? LT : c === 62 ? GT : c === 34 ? QUOT : c === 39 ? APOS : null;
        if (entity === null) out[n++] = c;
        else {
          out.set(entity, n);
          n += entity.length;
        }
      } else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const low = c <= 0xdbff ? s.charCodeAt(i + 1) : Number.NaN;
          if (low >= 0xdc00 && low <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
            i++;
            out[n++] = 0xf0 | (c >> 18);
            out[n++] = 0x80 | ((c >> 12) & 0x3f);
            out[n++] = 0x80 | ((c >> 6) & 0x3f);
            out[n++] = 0x80 | (c & 0x3f);
            continue;
          }
          c = 0xfffd;
        }
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      }
    }
    this.#n = n;
  }

  /**
   * `bytes` (a tag) on a new line at the current depth, from `cache`: one copy per tag instead of one for
   * the indentation and one for the tag.
   */
  #onLine(cache: Uint8Array[], bytes: Uint8Array): void {
    const depth = this.#stack.length + 1;
    let b = cache[depth];
    if (b === undefined) {
      const unit = this.#sp.unit;
      b = unit === undefined ? bytes : Buffer.concat([encoder.encode(`\n${unit.repeat(depth)}`), bytes]);
      cache[depth] = b;
    }
    this.#bytes(b);
  }

  #open(t: Tag): this {
    this.#onLine(t.openAt, t.open);
    this.#stack.push(t);
    return this;
  }

  #leaf(t: Tag, value: string | number): this {
    this.#onLine(t.openAt, t.open);
    this.#value(typeof value === 'number' ? String(value) : value);
    this.#bytes(t.close);
    return this;
  }

  /** Open an element of the message's namespace. */
  open(name: string): this {
    return this.#open(tagOf(this.#sp.messageTags, this.#sp.m, name));
  }

  /** Open an element of the basisschema's namespace. */
  openB(name: string): this {
    return this.#open(tagOf(this.#sp.basisTags, this.#sp.b, name));
  }

  close(): this {
    const t = this.#stack.pop();
    if (t === undefined) throw new Error('simulate.xml: close without open');
    this.#onLine(t.closeAt, t.close);
    return this;
  }

  leaf(name: string, value: string | number): this {
    return this.#leaf(tagOf(this.#sp.messageTags, this.#sp.m, name), value);
  }

  leafB(name: string, value: string | number): this {
    return this.#leaf(tagOf(this.#sp.basisTags, this.#sp.b, name), value);
  }

  /** Leaf only when the value is present. */
  opt(name: string, value: string | number | undefined): this {
    return value === undefined ? this : this.leaf(name, value);
  }

  optB(name: string, value: string | number | undefined): this {
    return value === undefined ? this : this.leafB(name, value);
  }

  /**
   * The message's bytes, not copied: a view of the shared buffer, valid until the next message is built
   * (`keep` copies them to hold on longer). The writer is done.
   */
  finish(): Uint8Array {
    while (this.#stack.length > 0) this.close();
    this.#bytes(this.#sp.rootClose);
    return scratch.subarray(0, this.#n);
  }
}

/** A message's own copy of bytes from `finish`, for when it is written after the next one is built. */
export function keep(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes);
}
