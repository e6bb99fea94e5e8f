import type { SimpleType } from '../schema/model.js';
import { xsdPatternToRegExp } from './xsd-regex.js';

/** A simple type compiled once: whitespace processing, lexical check and facets, all precompiled. */
export interface SimpleChecker {
  readonly type: SimpleType;
  /** The whitespace-processed value (string: preserve; integer/date/time: collapse). */
  normalize(raw: string): string;
  /** Why a normalised value is invalid, or undefined when it is valid. */
  check(value: string): string | undefined;
  /** Canonical form for comparison: integers without sign or leading zeros. */
  canonical(value: string): string;
  /**
   * The value a pseudonym is computed from: the canonical form, and for a string also without leading or
   * trailing XML whitespace (domain.md: a reference sent as ` R1` must join `R1`).
   */
  hashKey(value: string): string;
}

const COLLAPSE_RE = /[ \t\n\r]+/g;
const EDGE_SPACE_RE = /^[ \t\n\r]+|[ \t\n\r]+$/g;

/** Without leading and trailing XML whitespace (String.trim would also strip no-break spaces). */
function trimXmlSpace(s: string): string {
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  const edge = (c: number) => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
  return edge(first) || edge(last) ? s.replace(EDGE_SPACE_RE, '') : s;
}

/** Values are short: a loop costs less than a call into the RegExp engine. */
function hasXmlSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) return true;
  }
  return false;
}

export function collapse(raw: string): string {
  if (!hasXmlSpace(raw)) return raw;
  return raw.replace(COLLAPSE_RE, ' ').replace(/^ | $/g, '');
}

/** The lexical space of xs:integer, /^[+-]?[0-9]+$/, as a loop (see hasXmlSpace). */
function isIntegerLexical(s: string): boolean {
  const n = s.length;
  let i = n > 0 && (s.charCodeAt(0) === 0x2b || s.charCodeAt(0) === 0x2d) ? 1 : 0;
  if (i === n) return false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

const DATE_RE = /^(-?)([0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?$/;
const TIME_RE = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

export function canonicalInteger(value: string): string {
  let i = 0;
  let negative = false;
  if (value[0] === '+' || value[0] === '-') {
    negative = value[0] === '-';
    i = 1;
  }
  while (i < value.length - 1 && value[i] === '0') i++;
  const digits = value.slice(i);
  return negative && digits !== '0' ? `-${digits}` : digits;
}

function validTimezone(tz: string | undefined): boolean {
  if (tz === undefined || tz === 'Z') return true;
  const h = Number(tz.slice(1, 3));
  const m = Number(tz.slice(4, 6));
  return m <= 59 && (h < 14 || (h === 14 && m === 0));
}

/**
 * Whether a year is a leap year, from its last four digits: 10000 is a multiple of 400, so they decide
 * it for any number of digits (xs:date years are unbounded). Year -Y is year 1 - Y astronomically.
 */
function isLeap(negative: boolean, yearText: string): boolean {
  const last = Number(yearText.slice(-4));
  const y = negative ? (last + 9999) % 10000 : last;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const ALL_ZEROS_RE = /^0+$/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const PLAIN_DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];
const digit = (s: string, i: number) => s.charCodeAt(i) - 0x30;

/**
 * Whether `value` is a valid date written YYYY-MM-DD (no sign, no timezone): nearly every date is. Anything
 * else goes the regular way, which also words the error.
 */
function isPlainValidDate(value: string): boolean {
  if (value.length !== 10 || value.charCodeAt(4) !== 0x2d || value.charCodeAt(7) !== 0x2d) return false;
  for (const i of PLAIN_DATE_DIGITS) {
    const d = digit(value, i);
    if (d < 0 || d > 9) return false;
  }
  const year = digit(value, 0) * 1000 + digit(value, 1) * 100 + digit(value, 2) * 10 + digit(value, 3);
  const month = digit(value, 5) * 10 + digit(value, 6);
  const day = digit(value, 8) * 10 + digit(value, 9);
  if (year === 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 && leap ? 29 : (DAYS[month - 1] as number));
}

function checkDate(value: string): string | undefined {
  if (isPlainValidDate(value)) return undefined;
  const m = DATE_RE.exec(value);
  if (!m) return 'the value is not an xs:date (YYYY-MM-DD)';
  const yearText = m[2] as string;
  if (yearText.length > 4 && yearText.startsWith('0'))
    return 'the value is not an xs:date (its year has a leading zero)';
  if (ALL_ZEROS_RE.test(yearText)) return 'the value is not an xs:date (year 0000 does not exist)';
  const month = Number(m[3]);
  const day = Number(m[4]);
  if (month < 1 || month > 12) return `the value is not an xs:date (month ${m[3]} does not exist)`;
  const max = month === 2 && isLeap(m[1] === '-', yearText) ? 29 : (DAYS[month - 1] as number);
  if (day < 1 || day > max)
    return `the value is not an xs:date (day ${m[4]} does not exist in month ${m[3]} of that year)`;
  if (!validTimezone(m[5])) return 'the value is not an xs:date (invalid timezone)';
  return undefined;
}

function checkTime(value: string): string | undefined {
  const m = TIME_RE.exec(value);
  if (!m) return 'the value is not an xs:time (hh:mm:ss)';
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  // 24:00:00 is midnight at the end of the day (XSD 1.0 errata, as libxml2 accepts it).
  const endOfDay = h === 24 && min === 0 && s === 0 && !/[1-9]/.test(m[4] ?? '');
  if ((h > 23 && !endOfDay) || min > 59 || s > 59)
    return 'the value is not an xs:time (that time does not exist)';
  if (!validTimezone(m[5])) return 'the value is not an xs:time (invalid timezone)';
  return undefined;
}

/** Length in code points, as XSD counts it. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

const cache = new WeakMap<SimpleType, SimpleChecker>();

/**
 * Compile a simple type. Messages in errors quote only code-list (enumeration) values: never free text
 * (names, addresses), nor dates and times (a birth date identifies a client as well as a name does).
 */
export function simpleChecker(type: SimpleType): SimpleChecker {
  const hit = cache.get(type);
  if (hit) return hit;
  const f = type.facets;
  const steps = f.patterns.map((step) => ({ sources: step, res: step.map(xsdPatternToRegExp) }));
  const base = type.base;
  const isInteger = base === 'integer';
  const enumSet = f.enumeration
    ? new Set(f.enumeration.map((e) => (isInteger ? canonicalInteger(collapse(e.value)) : e.value)))
    : undefined;
  const quotable = enumSet !== undefined;
  const show = (v: string) =>
    quotable
      ? `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`
      : `a value of ${codePointLength(v)} ${codePointLength(v) === 1 ? 'character' : 'characters'}`;
  // Facets copied into locals: facet objects differ in shape, their property loads would be megamorphic.
  const len = f.length;
  const minLen = f.minLength;
  const maxLen = f.maxLength;
  const hasLength = len !== undefined || minLen !== undefined || maxLen !== undefined;
  const min = f.minInclusive;
  const max = f.maxInclusive;
  const minN = min !== undefined && min >= -(2n ** 53n) ? Number(min) : Number.NEGATIVE_INFINITY;
  const maxN = max !== undefined && max <= 2n ** 53n ? Number(max) : Number.POSITIVE_INFINITY;
  const single = steps.length === 1 && steps[0]?.res.length === 1 ? (steps[0].res[0] as RegExp) : undefined;

  const checkFacets = (value: string): string | undefined => {
    if (base === 'integer') {
      if (!isIntegerLexical(value)) return `${enumSet ? show(value) : 'the value'} is not an xs:integer`;
    } else if (base === 'date') {
      const e = checkDate(value);
      if (e) return e;
    } else if (base === 'time') {
      const e = checkTime(value);
      if (e) return e;
    } else if (hasLength) {
      const n = codePointLength(value);
      if (len !== undefined && n !== len) return `length ${n} is not ${len} (facet length)`;
      if (minLen !== undefined && n < minLen) return `length ${n} is below minLength ${minLen}`;
      if (maxLen !== undefined && n > maxLen) return `length ${n} exceeds maxLength ${maxLen}`;
    }
    if (enumSet !== undefined && !enumSet.has(isInteger ? canonicalInteger(value) : value)) {
      return `${show(value)} is not in the enumeration of ${type.name}`;
    }
    if (single !== undefined) {
      if (!single.test(value))
        return `${show(value)} does not match the pattern ${steps[0]?.sources[0]} of ${type.name}`;
    } else {
      for (let s = 0; s < steps.length; s++) {
        const step = steps[s] as (typeof steps)[number];
        let ok = false;
        for (let r = 0; r < step.res.length; r++) {
          if ((step.res[r] as RegExp).test(value)) {
            ok = true;
            break;
          }
        }
        if (!ok)
          return `${show(value)} does not match the pattern ${step.sources.join(' | ')} of ${type.name}`;
      }
    }
    if (isInteger && (min !== undefined || max !== undefined)) {
      // Numbers while they are exact (up to 15 digits), BigInt beyond.
      const digits = value.length - (value.charCodeAt(0) === 43 || value.charCodeAt(0) === 45 ? 1 : 0);
      if (digits <= 15) {
        const n = Number(value);
        if (n < minN) return `the value is below minInclusive ${min}`;
        if (n > maxN) return `the value exceeds maxInclusive ${max}`;
      } else {
        const n = BigInt(value);
        if (min !== undefined && n < min) return `the value is below minInclusive ${min}`;
        if (max !== undefined && n > max) return `the value exceeds maxInclusive ${max}`;
      }
    }
    return undefined;
  };
  // A string code list: the enumeration values that pass every other facet, checked once here, so a
  // value is valid exactly when it is one of them.
  const validCodes =
    base === 'string' && enumSet !== undefined
      ? new Set([...enumSet].filter((v) => checkFacets(v) === undefined))
      : undefined;
  const checker: SimpleChecker = {
    type,
    normalize: base === 'string' ? (raw) => raw : collapse,
    canonical: isInteger ? canonicalInteger : (v) => v,
    hashKey: isInteger ? canonicalInteger : base === 'string' ? trimXmlSpace : (v) => v,
    check:
      validCodes !== undefined
        ? (value) => (validCodes.has(value) ? undefined : checkFacets(value))
        : checkFacets,
  };
  cache.set(type, checker);
  return checker;
}
