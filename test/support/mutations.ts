import { SaxesParser } from 'saxes';
import type { ElementDecl, SimpleType } from '../../src/schema/model.js';

/** An element of a message text: offsets of its whole span and of its content. */
export interface Span {
  readonly qname: string;
  readonly start: number;
  readonly contentStart: number;
  contentEnd: number;
  end: number;
  readonly parent: number;
  readonly children: number[];
}

export function spansOf(text: string): Span[] {
  const parser = new SaxesParser({ position: true });
  const spans: Span[] = [];
  const stack: number[] = [];
  parser.on('opentag', (tag) => {
    const end = parser.position;
    const start = text.lastIndexOf('<', end - 1);
    const parent = stack.at(-1) ?? -1;
    const idx = spans.length;
    spans.push({ qname: tag.name, start, contentStart: end, contentEnd: end, end, parent, children: [] });
    if (parent >= 0) spans[parent]?.children.push(idx);
    if (!tag.isSelfClosing) stack.push(idx);
  });
  parser.on('closetag', (tag) => {
    if (tag.isSelfClosing) return;
    const idx = stack.pop() as number;
    const span = spans[idx] as Span;
    span.end = parser.position;
    span.contentEnd = text.lastIndexOf('<', parser.position - 1);
  });
  parser.write(text).close();
  for (const s of spans) {
    if (!text.startsWith(`<${s.qname}`, s.start)) throw new Error('span offsets are off (non-BMP text?)');
  }
  return spans;
}

/** A small deterministic PRNG (mulberry32), so the mutated corpus is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = [
  '',
  ' ',
  'x',
  '0',
  '00',
  '007',
  '+7',
  '-1',
  '1 2',
  ' 12 ',
  '\t12\n',
  '99999999999999999999',
  '2024-02-29',
  '2023-02-29',
  '1900-02-29',
  '2000-02-29',
  '2027-06-31',
  '2023-13-01',
  '0000-01-01',
  '2023-1-01',
  '2023-01-01Z',
  '2023-01-01+01:00',
  ' 2023-01-01 ',
  '12:00:00',
  '24:00:00',
  '23:59:60',
  '12:00',
  '12:00:00.123',
  '12:00:00Z',
  'éé',
  'ab&amp;c',
  '<![CDATA[12]]>',
  '1<!-- c -->2',
  'A.B',
  '   a   ',
  '\u00a0a',
  '٣٣',
  'Jan-Piet',
  '1234AB',
  '1234 AB',
  '1.0.0',
  '01.0.0',
  '01',
  'J',
  'N',
  '2',
  '3',
  '\n',
  '. .',
];

function mutateValue(value: string, rnd: () => number): string {
  switch (Math.floor(rnd() * 8)) {
    case 0:
      return ` ${value} `;
    case 1:
      return `${value}x`;
    case 2:
      return value.slice(0, -1);
    case 3:
      return value + value;
    case 4:
      return `0${value}`;
    case 5:
      return 'X'.repeat(
        [1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 25, 26, 35, 36, 40, 41, 200, 201, 256][Math.floor(rnd() * 19)] ??
          1,
      );
    default:
      return VALUES[Math.floor(rnd() * VALUES.length)] as string;
  }
}

/** Values near the edges of a simple type: most are valid, some just not. */
function boundaryValue(type: SimpleType, current: string, rnd: () => number): string {
  const f = type.facets;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  switch (type.base) {
    case 'date':
      return pick([
        '2024-02-29',
        '2023-02-29',
        '2100-02-29',
        '2000-02-29',
        '2023-04-31',
        '2023-12-31',
        ` ${current}\n`,
        `${current}Z`,
        `${current}+02:00`,
        '2023-00-10',
        '10000-01-01',
        '-2023-01-01',
      ]);
    case 'time':
      return pick([
        '24:00:00',
        '23:59:59',
        '00:00:00',
        '12:00:00.5',
        '12:00:00Z',
        ` ${current} `,
        '12:60:00',
        '7:00:00',
      ]);
    case 'integer': {
      const opts = [
        `000${current}`,
        `+${current}`,
        ` ${current} `,
        '-0',
        '0',
        `-${current}`,
        '1e3',
        `${current}.0`,
      ];
      if (f.minInclusive !== undefined) opts.push(String(f.minInclusive), String(f.minInclusive - 1n));
      if (f.maxInclusive !== undefined)
        opts.push(String(f.maxInclusive), String(f.maxInclusive + 1n), `00${f.maxInclusive}`);
      return pick(opts);
    }
    default: {
      const opts = [
        ` ${current}`,
        `${current} `,
        current.toLowerCase(),
        current.toUpperCase(),
        current.replace(/[0-9]/, 'A'),
        current.replace(/[A-Za-z]/, '7'),
      ];
      if (f.maxLength !== undefined)
        opts.push(
          'a'.repeat(f.maxLength),
          'a'.repeat(f.maxLength + 1),
          'é'.repeat(f.maxLength),
          '😀'.repeat(f.maxLength),
        );
      if (f.minLength !== undefined)
        opts.push('a'.repeat(f.minLength), 'a'.repeat(Math.max(0, f.minLength - 1)));
      if (f.length !== undefined) opts.push('1'.repeat(f.length), '1'.repeat(f.length + 1));
      if (f.enumeration) {
        const e = pick(f.enumeration).value;
        opts.push(e, e, e, ` ${e}`, `${e} `);
      }
      return pick(opts);
    }
  }
}

function typeAt(root: ElementDecl | undefined, path: readonly string[]): SimpleType | undefined {
  let el = root;
  if (!el || el.name !== path[0]) return undefined;
  for (const name of path.slice(1)) {
    el = el.type.kind === 'complex' ? el.type.children.find((c) => c.name === name) : undefined;
    if (!el) return undefined;
  }
  return el.type.kind === 'simple' ? el.type : undefined;
}

/**
 * Mutants of a valid message: wrong values (types, patterns, enumerations, lengths, dates), missing,
 * repeated, swapped, unknown and wrongly namespaced elements, stray text and attributes.
 */
export function mutants(text: string, seed: number, perElement = 3, schemaRoot?: ElementDecl): string[] {
  const rnd = prng(seed);
  const spans = spansOf(text);
  const root = spans[0] as Span;
  const prefixes = [...text.slice(root.start, root.contentStart).matchAll(/xmlns:([\w-]+)=/g)].map(
    (m) => m[1] as string,
  );
  const out: string[] = [];
  const replace = (from: number, to: number, by: string) => text.slice(0, from) + by + text.slice(to);
  const localOf = (q: string) => q.slice(q.indexOf(':') + 1);
  const pathOf = (i: number): string[] => {
    const p: string[] = [];
    for (let j = i; j >= 0; j = (spans[j] as Span).parent) p.unshift(localOf((spans[j] as Span).qname));
    return p;
  };
  spans.forEach((s, i) => {
    if (i === 0) return;
    const leaf = s.children.length === 0;
    const prefix = s.qname.includes(':') ? s.qname.slice(0, s.qname.indexOf(':')) : '';
    const local = s.qname.slice(prefix ? prefix.length + 1 : 0);
    for (let k = 0; k < perElement; k++) {
      const kind = Math.floor(rnd() * (leaf ? 14 : 8));
      switch (kind) {
        case 0:
          out.push(replace(s.start, s.end, ''));
          break;
        case 1:
          out.push(replace(s.end, s.end, text.slice(s.start, s.end)));
          break;
        case 2: {
          const siblings = (spans[s.parent] as Span).children;
          const next = spans[siblings[siblings.indexOf(i) + 1] ?? -1];
          if (next) {
            out.push(
              text.slice(0, s.start) +
                text.slice(next.start, next.end) +
                text.slice(s.end, next.start) +
                text.slice(s.start, s.end) +
                text.slice(next.end),
            );
          }
          break;
        }
        case 3:
          out.push(
            replace(
              s.end,
              s.end,
              `<${prefix ? `${prefix}:` : ''}Onbekend>1</${prefix ? `${prefix}:` : ''}Onbekend>`,
            ),
          );
          break;
        case 4:
          out.push(replace(s.contentStart, s.contentStart, leaf ? '<x>1</x>' : 'tekst'));
          break;
        case 5:
          out.push(replace(s.contentStart - 1, s.contentStart - 1, ' code="1"'));
          break;
        case 6: {
          const other = prefixes.find((p) => p !== prefix);
          if (other && s.contentEnd >= s.contentStart) {
            out.push(
              text.slice(0, s.start) +
                `<${other}:${local}` +
                text.slice(s.start + 1 + s.qname.length, s.contentEnd) +
                `</${other}:${local}>` +
                text.slice(s.end),
            );
          }
          break;
        }
        case 7:
          out.push(replace(s.contentStart, s.contentStart, '<!-- opmerking -->\n'));
          break;
        case 8:
        case 9:
        case 10: {
          const type = typeAt(schemaRoot, pathOf(i));
          const current = text.slice(s.contentStart, s.contentEnd);
          const value = type ? boundaryValue(type, current, rnd) : mutateValue(current, rnd);
          out.push(replace(s.contentStart, s.contentEnd, value.replace(/&/g, '&amp;').replace(/</g, '&lt;')));
          break;
        }
        default:
          out.push(
            replace(s.contentStart, s.contentEnd, mutateValue(text.slice(s.contentStart, s.contentEnd), rnd)),
          );
      }
    }
  });
  return out;
}
