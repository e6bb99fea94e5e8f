/**
 * Fast, direct XML building, as UTF-8 bytes, in the XSD's element order. Real traffic differs in how it
 * spells the same message (prefixes, default namespace, indentation); a `Style` picks one of those
 * spellings. Only namespace URIs and local names carry meaning, so all styles are the same message.
 */
export type StyleName = 'tabs' | 'compact' | 'jaxb';

export const STYLES: readonly StyleName[] = ['tabs', 'compact', 'jaxb'];

/** An element's tags as one spelling writes them, UTF-8 encoded. */
interface Tag {
  readonly name: string;
  /** In the basisschema's namespace. */
  readonly basis: boolean;
  readonly open: Uint8Array;
  readonly close: Uint8Array;
  /** Per depth: the open tag on its own line (indented as the spelling does), made when first needed. */
  readonly openAt: Uint8Array[];
  /** Per depth: the close tag of an element with children, on its own line. */
  readonly closeAt: Uint8Array[];
  /** Per depth of its parent: the run that starts with the close tag after the element's value. */
  readonly afterValueAt: Run[];
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
  /** The constant bytes after the root's open tag: where every message's runs start (see `Run`). */
  readonly start: Run;
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
      start: new Run(new Uint8Array(0), undefined, 0),
    };
    spellings.set(key, sp);
  }
  return sp;
}

function tagOf(sp: Spelling, basis: boolean, name: string): Tag {
  const tags = basis ? sp.basisTags : sp.messageTags;
  const prefix = basis ? sp.b : sp.m;
  let t = tags.get(name);
  if (t === undefined) {
    t = {
      name,
      basis,
      open: encoder.encode(`<${prefix}${name}>`),
      close: encoder.encode(`</${prefix}${name}>`),
      openAt: [],
      closeAt: [],
      afterValueAt: [],
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

/** What a writer does next, as far as the constant bytes that follow are concerned. */
enum Step {
  Open,
  OpenB,
  Leaf,
  LeafB,
  Close,
  CloseB,
  End,
}

/**
 * The constant bytes written since the last value (tags, newlines, indentation), held back until the next
 * value or the end and then copied at once: a tree per spelling and depth, grown as messages go, so the
 * `</Bsn>`, newline, indentation and `<Geboortedatum>` between two values are one copy, and the tags come
 * from a comparison with the step taken last time from here (nearly always the same) instead of a lookup.
 */
class Run {
  readonly #next: Map<string, Run>[] = [];
  #lastStep: Step | undefined;
  #lastName = '';
  #lastRun: Run | undefined;
  /** After a Leaf step: the run that starts after its value (its close tag). */
  afterValue: Run | undefined;

  constructor(
    readonly bytes: Uint8Array,
    /** The element an Open/Leaf step opened (a Close step pops it). */
    readonly tag: Tag | undefined,
    readonly depth: number,
  ) {}

  next(step: Step, name: string, sp: Spelling): Run {
    if (this.#lastStep === step && this.#lastName === name) return this.#lastRun as Run;
    let byName = this.#next[step];
    if (byName === undefined) {
      byName = new Map();
      this.#next[step] = byName;
    }
    let run = byName.get(name);
    if (run === undefined) {
      run = this.#grow(step, name, sp);
      byName.set(name, run);
    }
    this.#lastStep = step;
    this.#lastName = name;
    this.#lastRun = run;
    return run;
  }

  #grow(step: Step, name: string, sp: Spelling): Run {
    const depth = this.depth;
    if (step === Step.End) return new Run(concat(this.bytes, sp.rootClose), undefined, 0);
    if (step === Step.Close || step === Step.CloseB) {
      const t = tagOf(sp, step === Step.CloseB, name);
      return new Run(concat(this.bytes, onLine(sp, t.closeAt, t.close, depth)), undefined, depth - 1);
    }
    const t = tagOf(sp, step === Step.OpenB || step === Step.LeafB, name);
    const run = new Run(concat(this.bytes, onLine(sp, t.openAt, t.open, depth + 1)), t, depth + 1);
    if (step === Step.Leaf || step === Step.LeafB) {
      // Shared by every run that ends in this leaf: what follows a value depends only on where it is.
      let after = t.afterValueAt[depth];
      if (after === undefined) {
        after = new Run(t.close, undefined, depth);
        t.afterValueAt[depth] = after;
      }
      run.afterValue = after;
    }
    return run;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `bytes` (a tag) on a new line at `depth`, from `cache` (one copy per tag and depth). */
function onLine(sp: Spelling, cache: Uint8Array[], bytes: Uint8Array, depth: number): Uint8Array {
  let b = cache[depth];
  if (b === undefined) {
    const unit = sp.unit;
    b = unit === undefined ? bytes : concat(encoder.encode(`\n${unit.repeat(depth)}`), bytes);
    cache[depth] = b;
  }
  return b;
}

/**
 * The bytes of the message being built. One buffer for all writers: the simulator builds one message at
 * a time, from its first element to `finish`, and writes it out (or `keep`s a copy) before it builds the
 * next.
 */
let scratch = new Uint8Array(1 << 16);

/** The open elements of the message being built (one message at a time, as `scratch`). */
const stack: Tag[] = [];

/**
 * Writes a message as UTF-8 bytes straight away: constant runs are copied from their encoded form and
 * values are escaped while they are encoded, so no strings are concatenated, flattened or encoded afterwards.
 */
export class XmlWriter {
  #n = 0;
  readonly #sp: Spelling;
  /** The constant bytes since the last value, not yet copied. */
  #run: Run;

  constructor(sp: Spelling) {
    this.#sp = sp;
    stack.length = 0;
    this.#bytes(sp.root);
    this.#run = sp.start;
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

  #open(step: Step, name: string): this {
    const run = this.#run.next(step, name, this.#sp);
    stack.push(run.tag as Tag);
    this.#run = run;
    return this;
  }

  #leaf(step: Step, name: string, value: string | number): this {
    const run = this.#run.next(step, name, this.#sp);
    this.#bytes(run.bytes);
    this.#value(typeof value === 'number' ? String(value) : value);
    this.#run = run.afterValue as Run;
    return this;
  }

  /** Open an element of the message's namespace. */
  open(name: string): this {
    return this.#open(Step.Open, name);
  }

  /** Open an element of the basisschema's namespace. */
  openB(name: string): this {
    return this.#open(Step.OpenB, name);
  }

  close(): this {
    const t = stack.pop();
    if (t === undefined) throw new Error('simulate.xml: close without open');
    this.#run = this.#run.next(t.basis ? Step.CloseB : Step.Close, t.name, this.#sp);
    return this;
  }

  leaf(name: string, value: string | number): this {
    return this.#leaf(Step.Leaf, name, value);
  }

  leafB(name: string, value: string | number): this {
    return this.#leaf(Step.LeafB, name, value);
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
    while (stack.length > 0) this.close();
    this.#bytes(this.#run.next(Step.End, '', this.#sp).bytes);
    return scratch.subarray(0, this.#n);
  }
}

/** A message's own copy of bytes from `finish`, for when it is written after the next one is built. */
export function keep(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes);
}
