import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { CODELIST_DIR } from './releases.js';

/** The rows of a code list in `codelijsten/` (CSV with a header), by column name. */
function readCodeList(name: string): Record<string, string>[] {
  return parse(readFileSync(`${CODELIST_DIR}${name}.csv`, 'utf8'), { columns: true }) as Record<
    string,
    string
  >[];
}

const labels = new Map<string, ReadonlyMap<string, string>>();

/** `omschrijving (code)` from a two-column code list (code, text); the code alone when unknown. */
export function codeLabel(list: string, code: string): string {
  let map = labels.get(list);
  if (map === undefined) {
    map = new Map(readCodeList(list).map((r) => Object.values(r).slice(0, 2) as [string, string]));
    labels.set(list, map);
  }
  const text = map.get(code);
  return text ? `${text} (${code})` : code;
}

/** A municipality from the CBS code list (`codelijsten/gemeentecodes.csv`). */
export interface GemeenteRow {
  readonly code: string;
  readonly name: string;
  readonly provincie: string;
  readonly regio: string;
}

let gemeenten: readonly GemeenteRow[] | undefined;

/** Every municipality of the code list, in its order. */
export function readGemeenten(): readonly GemeenteRow[] {
  gemeenten ??= readCodeList('gemeentecodes').map((r) => ({
    code: r.gemeentecode ?? '',
    name: r.gemeentenaam ?? '',
    provincie: r.provincie ?? '',
    regio: r.jeugdzorgregio ?? '',
  }));
  return gemeenten;
}

/**
 * `De Bilt (0310)`; for 4 digits the list (the 2026 indeling) does not know, a municipality merged away
 * since, whose messages still carry its code: `0457 (voormalige gemeente)`; anything else: the code alone.
 */
export function gemeenteLabel(code: string): string {
  const label = codeLabel('gemeentecodes', code);
  return label === code && /^\d{4}$/.test(code) ? `${code} (voormalige gemeente)` : label;
}

/** A message type of the code list `berichtcode` (`codelijsten/berichtcode.csv`). */
export interface BerichtcodeRow {
  /** `iJw` or `iWmo`. */
  readonly standard: string;
  /** `JW301` */
  readonly bericht: string;
  /** `436` */
  readonly code: string;
  /** `Toewijzing` */
  readonly name: string;
}

/** Every message type of the code list, in its order: what the BerichtCode in a header means. */
export function readBerichtcodes(): readonly BerichtcodeRow[] {
  return readCodeList('berichtcode').map((r) => ({
    standard: r.standaard ?? '',
    bericht: r.bericht ?? '',
    code: r.berichtcode ?? '',
    name: r.naam ?? '',
  }));
}
