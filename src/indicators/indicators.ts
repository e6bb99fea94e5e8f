/**
 * Management indicators (domain brief §g) from stored, pseudonymised rows and the koppeltabel. Pure: the
 * use case streams links and then messages into an `IndicatorAccumulator` and asks it for the values per
 * scope (all member municipalities together, or one). State is kept per relation or per request in small
 * maps keyed by pseudonyms and BerichtIds, never whole messages. Definitions: docs/indicatoren.md.
 */
import { type Day, dayFromIso, isoDay, makeDay, workingDaysBetween, ymd } from '../domain/calendar.js';
import { DELIVERY_TIME_ZONE } from '../domain/delivery-week.js';
import { toLocal } from '../domain/zoned-time.js';
import { RECOMPUTED } from '../links/match.js';
import type { TableDef } from '../schema/model.js';
import { schemaSet } from '../schema/releases.js';

/** Norm for request → toewijzing (OP274, OP346). */
export const LEAD_TIME_NORM_WORKING_DAYS = 5;
/** Codes in a retour that mean "accepted" / "not checked" (IV028); anything else rejects the heen message. */
const OK_CODES = new Set(['0200', '0233']);
const HEEN = new Set([301, 305, 307, 315, 317, 319]);
const RETOUR = new Set([302, 306, 308, 316, 318, 320]);
/** TR056: the identification was used before, so the retour refuses a later version of its message. */
const DUPLICATE = '9056';
/** RedenWijziging "Verwijderd" (COD reden_wijziging_toewijzing): the toewijzing counts as never sent (OP087). */
const DELETED = '13';
/** RedenWijziging "Administratieve correctie (vervallen)": with Einddatum = Ingangsdatum it withdraws the toewijzing. */
const WITHDRAWN = '01';

export interface Bucket {
  readonly label: string;
  readonly count: number;
}

/** The first and the last day (YYYY-MM-DD) of what a figure counted; null when it counted nothing. */
export type Period = { readonly from: string; readonly to: string } | null;

export interface IndicatorValues {
  readonly leadTime: {
    /** Requested products (315) that got a toewijzing. */
    readonly count: number;
    /** Median working days 315 Dagtekening → first 301 Toewijzingsdatum. */
    readonly median: number | null;
    readonly withinNorm: number;
    readonly buckets: readonly Bucket[];
    /** Dagtekening of the earliest and the latest request counted (the period the figures cover). */
    readonly period: Period;
  };
  readonly requestOutcome: {
    readonly requests: number;
    readonly honoured: number;
    readonly rejected: number;
    readonly underInvestigation: number;
    readonly unanswered: number;
    /** RedenAfwijzingVerzoek of the rejected requests. */
    readonly rejectionReasons: readonly Bucket[];
  };
  /**
   * The same two for requests for a change (317) → the toewijzing that granted it (301) or the answer (319).
   * Absent from snapshots made before it existed.
   */
  readonly changeRequests?: {
    readonly leadTime: IndicatorValues['leadTime'];
    readonly requestOutcome: IndicatorValues['requestOutcome'];
  };
  readonly startDelay: {
    /** Toewijzingen with a start. */
    readonly count: number;
    /** Median calendar days 301 Ingangsdatum → first 305 Begindatum. */
    readonly median: number | null;
    readonly buckets: readonly Bucket[];
    /** Begindatum of the earliest and the latest start counted (the period the figures cover). */
    readonly period: Period;
  };
  readonly clientsInCare: {
    readonly months: readonly { month: string; ijw: number; iwmo: number; total: number }[];
  };
  readonly declarations: {
    readonly months: readonly {
      month: string;
      /** Σ IngediendBedrag, debet − credit, in eurocent. */
      submittedCents: number;
      /** `submittedCents` minus what the 325s rejected (their prestaties, or the whole 323), debet − credit. */
      approvedCents: number;
      /** Debet prestaties minus credit prestaties: a correction (credit + new debet) is one service. */
      prestaties: number;
      /** Prestaties rejected in a 325 (or with their whole 323), debet minus credit as well. */
      rejected: number;
    }[];
  };
  readonly retourErrors: {
    readonly types: readonly { code: string; heen: number; rejected: number }[];
  };
}

export interface IndicatorLink {
  readonly type: string;
  readonly mutatie: 'toegevoegd' | 'vervallen';
  readonly from_table: string;
  readonly from_bericht_id: string;
  readonly from_row: string;
  readonly to_table: string;
  readonly to_bericht_id: string;
  readonly to_row: string;
}

export interface IndicatorMessage {
  readonly code: string;
  readonly gemeente: string;
  readonly bericht_id: string;
  /** JSON `{ [table]: Row[] }`, rows aligned with the table's columns. */
  readonly rows: string;
  /** 1 when another version with the same identification but other content was received (`message.conflict`). */
  readonly conflict?: number | string;
}

type Row = readonly (string | null)[];

interface Cols {
  readonly idx: ReadonlyMap<string, number>;
  readonly ord: readonly number[];
}

const colsCache = new Map<string, Cols>();
function cols(def: TableDef): Cols {
  let c = colsCache.get(def.name);
  if (!c) {
    c = {
      idx: new Map(def.columns.map((col, i) => [col.name, i])),
      ord: def.columns.flatMap((col, i) => (col.role === 'ordinal' ? [i] : [])),
    };
    colsCache.set(def.name, c);
  }
  return c;
}

interface Table {
  readonly rows: readonly Row[];
  get(row: Row, column: string): string | null;
  /** The row's part of its id as the koppeltabel writes it (`<BerichtId>#<ordinals joined by '.'>`). */
  ordinals(row: Row): string;
}

function tableOf(m: IndicatorMessage, all: Record<string, Row[]>, suffix: string): Table | undefined {
  const name = suffix ? `${m.code}_${suffix}` : m.code;
  const def = schemaSet()
    .byCode(m.code)
    ?.tables.find((t) => t.name === name);
  const rows = all[name];
  if (!def || !rows) return undefined;
  const c = cols(def);
  return {
    rows,
    get: (row, column) => {
      const i = c.idx.get(column);
      return i === undefined ? null : (row[i] ?? null);
    },
    ordinals: (row) => c.ord.map((i) => row[i] ?? '').join('.'),
  };
}

/**
 * Row ids are numbers: a BerichtId's number times ROW_SPACE plus its ordinals' number. Exact below 2^53, so
 * for up to 2^32 messages (far beyond what fits in memory) and ROW_SPACE distinct ordinals (checked).
 */
const ROW_SPACE = 2 ** 21;

/**
 * A dense number per distinct string. Over a whole history the accumulator keeps hundreds of thousands of
 * BerichtIds, pseudonyms and row ids; a number in a map, a set or a record takes no string of its own, and
 * each string is then kept once however many links and rows name it.
 */
function intern(ids: Map<string, number>, s: string): number {
  let i = ids.get(s);
  if (i === undefined) {
    i = ids.size;
    ids.set(s, i);
  }
  return i;
}

/** One canonical instance of an equal string (a gemeente, a month), so records share it. */
function canonical(strings: Map<string, string>, s: string): string {
  const c = strings.get(s);
  if (c !== undefined) return c;
  strings.set(s, s);
  return s;
}

/** Values of a multimap of numbers: mostly one, kept as itself; an array only when there are more. */
type Many = number | number[];

/** Adds `v` under `k` unless it is there already: a pair linked again adds nothing. */
function addOnce<K>(map: Map<K, Many>, k: K, v: number): void {
  const had = map.get(k);
  if (had === undefined) map.set(k, v);
  else if (typeof had === 'number') {
    if (had !== v) map.set(k, [had, v]);
  } else if (!had.includes(v)) had.push(v);
}

function many(m: Many | undefined): readonly number[] {
  return m === undefined ? [] : typeof m === 'number' ? [m] : m;
}
const number = (code: string) => Number(code.replace(/^\D+/, ''));
const law = (code: string): 'ijw' | 'iwmo' => (code.startsWith('JW') ? 'ijw' : 'iwmo');

function day(v: string | null): Day | undefined {
  if (!v || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  return dayFromIso(v);
}

function entry<K, V>(map: Map<K, V>, k: K, make: () => V): V {
  let v = map.get(k);
  if (v === undefined) {
    v = make();
    map.set(k, v);
  }
  return v;
}

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const list = map.get(k);
  if (list) list.push(v);
  else map.set(k, [v]);
}

/** Relations whose links can lapse (a later 'vervallen' event of the same pair). */
const LAPSING: ReadonlySet<string> = new Set(Object.values(RECOMPUTED).flat());

/** The median of integers; the mean of the middle two for an even count. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function period(days: readonly Day[]): Period {
  if (days.length === 0) return null;
  let from = days[0] as Day;
  let to = from;
  for (const d of days) {
    if (d < from) from = d;
    if (d > to) to = d;
  }
  return { from: isoDay(from), to: isoDay(to) };
}

function buckets(values: readonly number[], bounds: readonly [string, number][]): Bucket[] {
  return bounds.map(([label, upTo], i) => {
    const lower = i === 0 ? Number.NEGATIVE_INFINITY : (bounds[i - 1] as [string, number])[1];
    return { label, count: values.filter((v) => v > lower && v <= upTo).length };
  });
}

const LEAD_BUCKETS: [string, number][] = [
  ['0–5 werkdagen', 5],
  ['6–10 werkdagen', 10],
  ['11–20 werkdagen', 20],
  ['meer dan 20 werkdagen', Number.POSITIVE_INFINITY],
];
const START_BUCKETS: [string, number][] = [
  ['0–7 dagen', 7],
  ['8–14 dagen', 14],
  ['15–30 dagen', 30],
  ['meer dan 30 dagen', Number.POSITIVE_INFINITY],
];

/** `YYYY-MM` of the 12 whole calendar months before the month of `now` . */
export function lastTwelveMonths(now: Date): string[] {
  // The month as the municipality sees it: 1 March 00:30 in Amsterdam is still 28 February in UTC.
  const { year: y, month: m } = toLocal(now, DELIVERY_TIME_ZONE);
  return Array.from({ length: 12 }, (_, i) => isoDay(makeDay(y, m - 12 + i, 1)).slice(0, 7));
}

// In the records, `msg` is the number of a BerichtId, `row` and map keys of rows are row ids (ROW_SPACE).
interface Request {
  readonly g: string;
  readonly msg: number;
  readonly dag: Day;
}
interface Assigned {
  readonly msg: number;
  /** Toewijzingsdatum + Toewijzingstijd: orders the versions (OP087). */
  readonly stamp: string;
  readonly toewijzingsdatum: Day;
  readonly ingangsdatum: Day;
  /** The number of the toewijzing (gemeente, code, ToewijzingNummer). */
  readonly nummer: number;
}
interface Start {
  readonly g: string;
  readonly law: 'ijw' | 'iwmo';
  readonly msg: number;
  /** The number of the client's pseudonym. */
  readonly bsn: number;
  readonly begin: Day;
  /** The number of the start's logical key. */
  readonly key: number;
}
/** Versions of a toewijzing, flat: message number, stamp, message number, stamp, … */
type Versions = (number | string)[];
/**
 * A 325 that rejects its 323 as a whole: a header-level error leaves out the DeclaratieAntwoord, an error
 * at declaratie level (9333) has a code other than 0200/8001 there (IV087, OP304).
 */
function rejectsWhole(m: IndicatorMessage, all: Record<string, Row[]>, main?: Table, head?: Row): boolean {
  if (!main || !head || !main.get(head, 'DeclaratieAntwoord_DeclaratieNummer')) return true;
  const codes = tableOf(m, all, 'RetourCode');
  return (codes?.rows ?? []).some((r) => {
    const level = codes!.get(r, 'Niveau');
    const code = codes!.get(r, 'RetourCode');
    return (level === 'Header' || level === 'DeclaratieAntwoord') && code !== '0200' && code !== '8001';
  });
}

/** Whether a 325 refuses its 323 for an identification used before (TR056: 9056 in its header). */
function refusesDuplicate(m: IndicatorMessage, all: Record<string, Row[]>): boolean {
  const codes = tableOf(m, all, 'RetourCode');
  return (codes?.rows ?? []).some(
    (r) => codes!.get(r, 'Niveau') === 'Header' && codes!.get(r, 'RetourCode') === DUPLICATE,
  );
}

type Declared = [cents: number, prestaties: number, rejected: number, rejectedCents: number];

interface Stop {
  readonly msg: number;
  /** Temporary (20) or definitive: either ends the period of its start. */
  readonly end: Day;
  /** Its row id, which a correctie can cancel. */
  readonly row: number;
}

/**
 * Feed every link (in seq order) first, then every message; then `values(scope)`. Both sides are limited to
 * the watermarks the caller read, so one snapshot is one consistent cut.
 */
export class IndicatorAccumulator {
  #linksDone = false;
  /** The Amsterdam day of the snapshot: a Dagtekening after it (a sender's wrong clock) is not the latest. */
  readonly #today: Day;

  constructor(asOf: Date = new Date()) {
    const l = toLocal(asOf, DELIVERY_TIME_ZONE);
    this.#today = makeDay(l.year, l.month, l.day);
  }
  // Numbers for strings (`intern`), and canonical strings.
  readonly #messageIds = new Map<string, number>();
  readonly #ordinalIds = new Map<string, number>();
  readonly #clientIds = new Map<string, number>();
  readonly #toewijzingIds = new Map<string, number>();
  readonly #startKeyIds = new Map<string, number>();
  readonly #strings = new Map<string, string>();
  /**
   * The correctie links (the only relation read here that can lapse: a later 'vervallen' event of the same
   * pair, RECOMPUTED), from row → to row → whether the last event of the pair added it.
   */
  readonly #corrections = new Map<number, Map<number, boolean>>();
  // Relations from the link pass.
  /** Retour → its heen messages: several when one message came in versions (the same copied header). */
  readonly #retourOf = new Map<string, Many>();
  readonly #granted = new Map<number, Many>();
  readonly #answered = new Map<number, Many>();
  readonly #startOf = new Map<number, Many>();
  /** 323 → the 325s that answer it: several when the 323 came in versions (the same copied header). */
  readonly #answersOf323 = new Map<string, string | string[]>();
  /** 325 → how many 323s (versions of one) it answers. */
  readonly #answered323 = new Map<string, number>();
  readonly #targets301 = new Set<number>();
  readonly #targets319 = new Set<number>();
  // Facts from the message pass.
  readonly #requests = new Map<number, Request>();
  readonly #changeRequests = new Map<number, Request>();
  readonly #assigned = new Map<number, Assigned>();
  /**
   * Per toewijzing (`Assigned.nummer`): its versions that do not delete it, and its deleting versions
   * (RedenWijziging 13, or 01 with Einddatum = Ingangsdatum), which are rare. Each with its message, as a
   * version in a rejected 301 does not count either way.
   */
  readonly #liveVersions = new Map<number, Versions>();
  readonly #deletions = new Map<number, Versions>();
  readonly #answers = new Map<number, { antwoord: string | null; reden: string | null }>();
  /** Starts (status 1) by their row. */
  readonly #starts = new Map<number, Start>();
  /** Stops by the key of their start. */
  readonly #stops = new Map<number, Stop[]>();
  /**
   * Start and stop rows a later status-3 row cancels: the targets of the `correctie` links in force. Linking
   * decides it as IV008 says (the latest earlier row with the same key; a message its retour rejected
   * counts as not sent), whatever the order in which the messages came.
   */
  readonly #cancelledRows = new Set<number>();
  /** `duplicate`: it carries 9056, so it refuses a later version of its heen message. */
  readonly #errorRetours = new Map<string, { g: string; heenCode: string; duplicate: boolean }>();
  /** gemeente → code → heen messages. */
  readonly #heen = new Map<string, Map<string, number>>();
  /** gemeente → month → [cents, prestaties, rejected prestaties, rejected cents], each debet − credit. */
  readonly #declared = new Map<string, Map<string, Declared>>();
  /**
   * Per answered 323, in case its 325 rejects it whole: its gemeente, then month, prestaties, cents per
   * month (flat, as most have one or two months).
   */
  readonly #prestaties323 = new Map<string, (string | number)[]>();
  /** 325s that reject their 323 as a whole. */
  readonly #rejectingWhole = new Set<string>();
  /** Of those, the ones refusing a 323 whose identification was used before (9056 in the header). */
  readonly #refusingDuplicate = new Set<string>();
  #latest: Day | undefined;
  /** Identifications of conflicting messages of which a version was counted. */
  readonly #versionCounted = new Set<string>();
  /** Versions of a conflicting message after the one stored first (not counted). */
  readonly #laterVersions = new Set<number>();

  /** The number of a BerichtId. */
  #msg(berichtId: string): number {
    return intern(this.#messageIds, berichtId);
  }

  /** The id of a row, as the koppeltabel names it: `<BerichtId>#<ordinals>`. */
  #row(berichtId: string, ordinals: string): number {
    const o = intern(this.#ordinalIds, ordinals);
    if (o >= ROW_SPACE) throw new Error('indicators.rows: too many distinct row ordinals');
    return this.#msg(berichtId) * ROW_SPACE + o;
  }

  addLink(l: IndicatorLink): void {
    if (this.#linksDone) throw new Error('indicators.order: links must come before messages');
    const relevant =
      l.type === 'retour' ||
      l.type === 'start-toewijzing' ||
      l.type === 'declaratie-antwoord' ||
      l.type === 'correctie' ||
      ((l.type === 'verzoek-toewijzing' || l.type === 'verzoek-antwoord') &&
        (l.from_table.endsWith('315_AangevraagdProduct') || l.from_table.endsWith('317')));
    if (!relevant) return;
    // A relation that can lapse (a later event of its pair, RECOMPUTED) waits for the last event of its pair.
    // The others are added once and hold, so they go into the maps at once, not into a log of every link.
    if (LAPSING.has(l.type)) {
      // Of the relations that can lapse only correctie is read (the others are not `relevant`).
      if (l.type !== 'correctie') return;
      const from = this.#row(l.from_bericht_id, l.from_row);
      const to = this.#row(l.to_bericht_id, l.to_row);
      entry(this.#corrections, from, () => new Map<number, boolean>()).set(to, l.mutatie === 'toegevoegd');
      return;
    }
    if (l.mutatie !== 'toegevoegd') return;
    if (l.type === 'retour') addOnce(this.#retourOf, l.from_bericht_id, this.#msg(l.to_bericht_id));
    else if (l.type === 'verzoek-toewijzing') {
      const to = this.#row(l.to_bericht_id, l.to_row);
      addOnce(this.#granted, this.#row(l.from_bericht_id, l.from_row), to);
      this.#targets301.add(to);
    } else if (l.type === 'verzoek-antwoord') {
      const to = this.#msg(l.to_bericht_id);
      addOnce(this.#answered, this.#row(l.from_bericht_id, l.from_row), to);
      this.#targets319.add(to);
    } else if (l.type === 'start-toewijzing') {
      const to = this.#row(l.to_bericht_id, l.to_row);
      addOnce(this.#startOf, this.#row(l.from_bericht_id, l.from_row), to);
      this.#targets301.add(to);
    } else if (l.type === 'declaratie-antwoord') {
      // One string for the one answer nearly every 323 has; a pair linked again adds nothing.
      const had = this.#answersOf323.get(l.to_bericht_id);
      if (had === l.from_bericht_id || (Array.isArray(had) && had.includes(l.from_bericht_id))) return;
      this.#answersOf323.set(
        l.to_bericht_id,
        had === undefined ? l.from_bericht_id : [...(Array.isArray(had) ? had : [had]), l.from_bericht_id],
      );
      this.#answered323.set(l.from_bericht_id, (this.#answered323.get(l.from_bericht_id) ?? 0) + 1);
    }
  }

  #resolveLinks(): void {
    if (this.#linksDone) return;
    this.#linksDone = true;
    for (const tos of this.#corrections.values())
      for (const [to, added] of tos) if (added) this.#cancelledRows.add(to);
    this.#corrections.clear();
  }

  addMessage(m: IndicatorMessage): void {
    this.#resolveLinks();
    const n = number(m.code);
    const g = canonical(this.#strings, m.gemeente);
    const all = JSON.parse(m.rows) as Record<string, Row[]>;
    const main = tableOf(m, all, '');
    const head = main?.rows[0];
    const dag = head ? day(main.get(head, 'Header_BerichtIdentificatie_Dagtekening')) : undefined;
    // Two versions of one message (same identification, other content): the chain refuses the second
    // (TR056), so only the version stored first counts; messages come in seq order.
    if (Number(m.conflict) === 1 && head) {
      const id = [
        m.code,
        main.get(head, 'Header_Afzender'),
        main.get(head, 'Header_BerichtIdentificatie_Identificatie'),
        main.get(head, 'Header_BerichtIdentificatie_Dagtekening'),
      ].join('|');
      if (this.#versionCounted.has(id)) {
        this.#laterVersions.add(this.#msg(m.bericht_id));
        return;
      }
      this.#versionCounted.add(id);
    }
    if (dag !== undefined && dag <= this.#today && (this.#latest === undefined || dag > this.#latest))
      this.#latest = dag;

    if (HEEN.has(n)) {
      const byCode = entry(this.#heen, g, () => new Map<string, number>());
      byCode.set(m.code, (byCode.get(m.code) ?? 0) + 1);
    }
    if (RETOUR.has(n)) {
      const codes = tableOf(m, all, 'RetourCode');
      const found = (codes?.rows ?? []).map((r) => codes!.get(r, 'RetourCode') ?? '');
      if (found.some((c) => !OK_CODES.has(c))) {
        this.#errorRetours.set(m.bericht_id, {
          g,
          heenCode: m.code.replace(/\d+$/, String(n - 1)),
          duplicate: found.includes(DUPLICATE),
        });
      }
      return;
    }
    switch (n) {
      case 315: {
        const t = tableOf(m, all, 'AangevraagdProduct');
        if (t && dag !== undefined)
          for (const r of t.rows)
            this.#requests.set(this.#row(m.bericht_id, t.ordinals(r)), {
              g,
              msg: this.#msg(m.bericht_id),
              dag,
            });
        break;
      }
      case 317: {
        // The request is the message itself: its links leave from the main table's row.
        if (main && head && dag !== undefined)
          this.#changeRequests.set(this.#row(m.bericht_id, main.ordinals(head)), {
            g,
            msg: this.#msg(m.bericht_id),
            dag,
          });
        break;
      }
      case 301: {
        const t = tableOf(m, all, 'ToegewezenProduct');
        const msg = this.#msg(m.bericht_id);
        for (const r of t?.rows ?? []) {
          const nummer = intern(this.#toewijzingIds, `${g}|${m.code}|${t!.get(r, 'ToewijzingNummer') ?? ''}`);
          // The current version has the latest Toewijzingsdatum+tijd (OP087); a resend keeps them (IV013).
          // Joined, not a template: a flat string, which keeps no parts of the parsed row alive.
          const stamp = [t!.get(r, 'Toewijzingsdatum') ?? '', 'T', t!.get(r, 'Toewijzingstijd') ?? ''].join(
            '',
          );
          const reden = t!.get(r, 'RedenWijziging');
          const deletes =
            reden === DELETED ||
            (reden === WITHDRAWN &&
              t!.get(r, 'Einddatum') !== undefined &&
              t!.get(r, 'Einddatum') === t!.get(r, 'Ingangsdatum'));
          const byNummer = deletes ? this.#deletions : this.#liveVersions;
          const versions = byNummer.get(nummer);
          // A literal has room for exactly its two; a push to an empty array reserves many more.
          if (versions) versions.push(msg, stamp);
          else byNummer.set(nummer, [msg, stamp]);
          const k = this.#row(m.bericht_id, t!.ordinals(r));
          if (!this.#targets301.has(k)) continue;
          const toewijzingsdatum = day(t!.get(r, 'Toewijzingsdatum'));
          const ingangsdatum = day(t!.get(r, 'Ingangsdatum'));
          if (toewijzingsdatum === undefined || ingangsdatum === undefined) continue;
          this.#assigned.set(k, { msg, stamp, toewijzingsdatum, ingangsdatum, nummer });
        }
        break;
      }
      case 305:
      case 307: {
        const pseudonym = head ? main.get(head, 'Client_Bsn') : null;
        const aanbieder = head ? main.get(head, 'Header_Afzender') : null;
        const t = tableOf(m, all, n === 305 ? 'StartProduct' : 'StopProduct');
        if (!t || !pseudonym) break;
        const bsn = intern(this.#clientIds, pseudonym);
        const msg = this.#msg(m.bericht_id);
        for (const r of t.rows) {
          const begin = day(t.get(r, 'Begindatum'));
          if (begin === undefined) continue;
          // The logical key of a start (§2.3): a stop and a correction carry it unchanged. Within the
          // aanbieder (the Afzender), as in the koppeltabel: another aanbieder's stop ends nothing here.
          // Numbers for the pseudonym and the day: the same key, in fewer characters.
          const key = intern(
            this.#startKeyIds,
            [
              g,
              law(m.code),
              aanbieder ?? '',
              bsn,
              t.get(r, 'ToewijzingNummer') ?? '',
              t.get(r, 'Product_Categorie') ?? '',
              t.get(r, 'Product_Code') ?? '',
              begin,
            ].join('|'),
          );
          const status = t.get(r, 'StatusAanlevering');
          // A status-3 row only cancels (see #cancelledRows); it is no start or stop itself.
          if (status === '3') continue;
          if (n === 305) {
            this.#starts.set(this.#row(m.bericht_id, t.ordinals(r)), {
              g,
              law: law(m.code),
              msg,
              bsn,
              begin,
              key,
            });
            continue;
          }
          const end = day(t.get(r, 'Einddatum'));
          if (end === undefined) continue;
          // A temporary stop (20) ends its start's period too: the pause is no care, and a restart is a new
          // start with its own Begindatum, whose key the definitive stop then carries (OP377, OP378).
          push(this.#stops, key, { msg, end, row: this.#row(m.bericht_id, t.ordinals(r)) });
        }
        break;
      }
      case 319: {
        const id = this.#messageIds.get(m.bericht_id);
        if (id === undefined || !this.#targets319.has(id) || !head) break;
        this.#answers.set(id, {
          antwoord: main.get(head, 'Antwoord_VerzoekAntwoord'),
          reden: main.get(head, 'Antwoord_RedenAfwijzingVerzoek'),
        });
        break;
      }
      case 323:
      case 325: {
        if (n === 325 && rejectsWhole(m, all, main, head)) {
          // Every prestatie of its 323 counts as rejected; the 325's own rows would count some twice.
          this.#rejectingWhole.add(m.bericht_id);
          if (refusesDuplicate(m, all)) this.#refusingDuplicate.add(m.bericht_id);
          break;
        }
        const own =
          n === 323 && this.#answersOf323.has(m.bericht_id) ? new Map<string, [number, number]>() : undefined;
        const t = tableOf(m, all, 'Prestatie');
        const byMonth = entry(this.#declared, g, () => new Map<string, Declared>());
        for (const r of t?.rows ?? []) {
          const raw = (t!.get(r, 'ProductPeriode_Begindatum') ?? '').slice(0, 7);
          if (raw.length !== 7) continue;
          const month = canonical(this.#strings, raw);
          const acc = entry(byMonth, month, (): Declared => [0, 0, 0, 0]);
          // A credit reverses an earlier debet (a correction is credit + new debet): it counts negative, so
          // one service corrected once is one prestatie, not three.
          const sign = t!.get(r, 'IngediendBedrag_DebetCredit') === 'C' ? -1 : 1;
          const cents = sign * Number(t!.get(r, 'IngediendBedrag_Bedrag') ?? 0);
          if (n === 325) {
            // A 325 lists only the prestaties it rejects (OP304), with their IngediendBedrag.
            acc[2] += sign;
            acc[3] += cents;
            continue;
          }
          acc[0] += cents;
          acc[1] += sign;
          if (own) {
            const o = entry(own, month, (): [number, number] => [0, 0]);
            o[0] += sign;
            o[1] += cents;
          }
        }
        if (own) {
          const flat: (string | number)[] = [g];
          for (const [month, [count, cents]] of own) flat.push(month, count, cents);
          this.#prestaties323.set(m.bericht_id, flat.slice()); // a copy without the room pushes reserved
        }
        break;
      }
    }
  }

  /** The latest Dagtekening in the data: tells a reader how recent the traffic is. */
  get latestDagtekening(): string | undefined {
    return this.#latest === undefined ? undefined : isoDay(this.#latest);
  }

  /**
   * The heen messages a retour answers. Versions of one message share the copied header, so the retour links
   * to each: a 9056 refuses the later version(s) (TR056), any other retour answers the version stored first.
   */
  #heenOf(retour: string, duplicate: boolean): readonly number[] {
    const targets = many(this.#retourOf.get(retour));
    if (targets.length < 2) return targets;
    const picked = targets.filter((t) => this.#laterVersions.has(t) === duplicate);
    return picked.length > 0 ? picked : targets;
  }

  /**
   * Whether a 325 rejects the (counted) 323 `id` as a whole. As for retours (`#heenOf`): where a 325 answers
   * versions of one 323, a 9056 refuses the later version(s), which are not counted, not the first one.
   */
  #rejectedWhole(id: string): boolean {
    const answers = this.#answersOf323.get(id) ?? [];
    return (Array.isArray(answers) ? answers : [answers]).some(
      (answer) =>
        this.#rejectingWhole.has(answer) &&
        ((this.#answered323.get(answer) ?? 0) < 2 || !this.#refusingDuplicate.has(answer)),
    );
  }

  /** Heen messages whose retour carries an error code: functionally not sent (OP286), left out everywhere. */
  #rejectedHeen(): Set<number> {
    const out = new Set<number>();
    for (const [retour, info] of this.#errorRetours)
      for (const heen of this.#heenOf(retour, info.duplicate)) out.add(heen);
    return out;
  }

  /**
   * Toewijzingen (`Assigned.nummer`) whose current version deletes them (RedenWijziging 13, or 01 with
   * Einddatum = Ingangsdatum): never sent (OP087). A version in a 301 its retour rejected counts for neither
   * side: a rejected deletion deletes nothing, and a rejected resend does not bring a deleted one back.
   */
  #deletedToewijzingen(rejected: ReadonlySet<number>): Set<number> {
    const out = new Set<number>();
    const latest = (list: Versions | undefined) => {
      let max = '';
      for (let i = 0; list && i < list.length; i += 2) {
        const stamp = list[i + 1] as string;
        if (!rejected.has(list[i] as number) && stamp > max) max = stamp;
      }
      return max;
    };
    for (const [nummer, list] of this.#deletions) {
      const deletion = latest(list);
      if (deletion !== '' && deletion >= latest(this.#liveVersions.get(nummer))) out.add(nummer);
    }
    return out;
  }

  /**
   * A toewijzing row that counts: its message was not rejected by its retour, and its toewijzing was not
   * deleted (RedenWijziging 13, `#deletedToewijzingen`), so no version of a deleted one counts.
   */
  #valid301(k: number, rejected: ReadonlySet<number>, deleted: ReadonlySet<number>): Assigned | undefined {
    const a = this.#assigned.get(k);
    return a && !rejected.has(a.msg) && !deleted.has(a.nummer) ? a : undefined;
  }

  /**
   * Lead time and outcome over a set of requests (315 products or 317 messages), by their links. `onOrAfter`:
   * only rows with a Toewijzingsdatum on or after the request's Dagtekening count as granted; a 301 granting
   * a 317 gives its ReferentieAanbieder to the unchanged products too, which keep their old date (IV093).
   */
  #requestStats(
    requests: ReadonlyMap<number, Request>,
    scope: ReadonlySet<string>,
    rejected: ReadonlySet<number>,
    deleted: ReadonlySet<number>,
    onOrAfter = false,
  ): Pick<IndicatorValues, 'leadTime' | 'requestOutcome'> {
    const lead: number[] = [];
    const leadDays: Day[] = [];
    let honoured = 0;
    let rejectedRequests = 0;
    let investigating = 0;
    let unanswered = 0;
    const reasons = new Map<string, number>();
    for (const [k, req] of requests) {
      if (!scope.has(req.g) || rejected.has(req.msg)) continue;
      const dates = many(this.#granted.get(k)).flatMap((t) => {
        const a = this.#valid301(t, rejected, deleted);
        return a && !(onOrAfter && a.toewijzingsdatum < req.dag) ? [a.toewijzingsdatum] : [];
      });
      if (dates.length > 0) {
        honoured++;
        lead.push(workingDaysBetween(req.dag, Math.min(...dates)));
        leadDays.push(req.dag);
        continue;
      }
      const answers = many(this.#answered.get(k)).flatMap((id) => {
        const a = this.#answers.get(id);
        return a && !rejected.has(id) ? [a] : [];
      });
      const no = answers.find((a) => a.antwoord === '1');
      if (no) {
        rejectedRequests++;
        const r = no.reden ?? 'onbekend';
        reasons.set(r, (reasons.get(r) ?? 0) + 1);
      } else if (answers.some((a) => a.antwoord === '2')) investigating++;
      else unanswered++;
    }

    return {
      leadTime: {
        count: lead.length,
        median: median(lead),
        withinNorm: lead.filter((d) => d <= LEAD_TIME_NORM_WORKING_DAYS).length,
        buckets: buckets(lead, LEAD_BUCKETS),
        period: period(leadDays),
      },
      requestOutcome: {
        requests: honoured + rejectedRequests + investigating + unanswered,
        honoured,
        rejected: rejectedRequests,
        underInvestigation: investigating,
        unanswered,
        rejectionReasons: [...reasons]
          .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'en'))
          .map(([label, count]) => ({ label, count })),
      },
    };
  }

  values(scope: ReadonlySet<string>, now: Date): IndicatorValues {
    this.#resolveLinks();
    const rejected = this.#rejectedHeen();

    // 1 + 2: per requested product (315), and the same per request for a change (317). A deleted
    // toewijzing granted nothing (and, at 3, started nothing).
    const deleted = this.#deletedToewijzingen(rejected);
    const requests = this.#requestStats(this.#requests, scope, rejected, deleted);
    const changeRequests = this.#requestStats(this.#changeRequests, scope, rejected, deleted, true);

    // 3: per toewijzing (ToewijzingNummer), the first accepted, uncancelled start linked to it. A start on
    // a deleted toewijzing does not count: that toewijzing was never sent.
    const perToewijzing = new Map<number, { ingang: Day; begin: Day }>();
    for (const [k, s] of this.#starts) {
      if (!scope.has(s.g) || rejected.has(s.msg) || this.#cancelledRows.has(k)) continue;
      const versions = many(this.#startOf.get(k)).flatMap((t) => {
        const a = this.#valid301(t, rejected, deleted);
        return a ? [a] : [];
      });
      if (versions.length === 0) continue;
      // The version current at the start: the latest Toewijzingsdatum + Toewijzingstijd among the linked rows.
      const current = versions.reduce((a, b) => (b.stamp > a.stamp ? b : a));
      const seen = perToewijzing.get(current.nummer);
      if (!seen || s.begin < seen.begin)
        perToewijzing.set(current.nummer, { ingang: current.ingangsdatum, begin: s.begin });
    }
    const delays = [...perToewijzing.values()].map((t) => t.begin - t.ingang);

    // 4: distinct clients with a start period overlapping the month; it ends at its first valid stop.
    const months = lastTwelveMonths(now);
    const bounds = months.map((mo) => {
      const first = dayFromIso(`${mo}-01`);
      const { y, m } = ymd(first);
      return [first, makeDay(y, m + 1, 1) - 1] as const;
    });
    const inCare = months.map(() => ({ ijw: new Set<number>(), iwmo: new Set<number>() }));
    for (const [k, s] of this.#starts) {
      if (!scope.has(s.g) || rejected.has(s.msg) || this.#cancelledRows.has(k)) continue;
      let end: Day | undefined;
      for (const stop of this.#stops.get(s.key) ?? []) {
        if (rejected.has(stop.msg) || this.#cancelledRows.has(stop.row)) continue;
        if (end === undefined || stop.end < end) end = stop.end;
      }
      bounds.forEach(([first, last], i) => {
        if (s.begin <= last && (end === undefined || end >= first)) inCare[i]![s.law].add(s.bsn);
      });
    }

    // 5: declarations per month of the ProductPeriode. A 323 rejected as a whole: all its prestaties.
    const rejectedWhole = new Map<string, [number, number]>();
    for (const [id, p] of this.#prestaties323) {
      if (!scope.has(p[0] as string) || !this.#rejectedWhole(id)) continue;
      for (let i = 1; i < p.length; i += 3) {
        const w = entry(rejectedWhole, p[i] as string, (): [number, number] => [0, 0]);
        w[0] += p[i + 1] as number;
        w[1] += p[i + 2] as number;
      }
    }
    const declared = months.map((month) => {
      let submittedCents = 0;
      let prestaties = 0;
      let [rejectedPrestaties, rejectedCents] = rejectedWhole.get(month) ?? [0, 0];
      for (const g of scope) {
        const acc = this.#declared.get(g)?.get(month);
        if (!acc) continue;
        submittedCents += acc[0];
        prestaties += acc[1];
        rejectedPrestaties += acc[2];
        rejectedCents += acc[3];
      }
      return {
        month,
        submittedCents,
        approvedCents: submittedCents - rejectedCents,
        prestaties,
        rejected: rejectedPrestaties,
      };
    });

    // 6: heen messages per type and those rejected by their retour.
    const heen = new Map<string, number>();
    for (const g of scope)
      for (const [code, c] of this.#heen.get(g) ?? []) heen.set(code, (heen.get(code) ?? 0) + c);
    const rejectedPerCode = new Map<string, Set<number>>();
    for (const [retour, info] of this.#errorRetours) {
      if (!scope.has(info.g)) continue;
      // Only the version `heen` counts: a later version refused with 9056 is no rejection of it.
      for (const target of this.#heenOf(retour, info.duplicate))
        if (!this.#laterVersions.has(target))
          entry(rejectedPerCode, info.heenCode, () => new Set<number>()).add(target);
    }
    const types = [...heen.keys()]
      .sort((a, b) => number(a) - number(b) || a.localeCompare(b, 'en'))
      .map((code) => ({ code, heen: heen.get(code) ?? 0, rejected: rejectedPerCode.get(code)?.size ?? 0 }));

    return {
      ...requests,
      changeRequests,
      startDelay: {
        count: delays.length,
        median: median(delays),
        buckets: buckets(delays, START_BUCKETS),
        period: period([...perToewijzing.values()].map((t) => t.begin)),
      },
      clientsInCare: {
        months: months.map((month, i) => {
          const c = inCare[i]!;
          return { month, ijw: c.ijw.size, iwmo: c.iwmo.size, total: new Set([...c.ijw, ...c.iwmo]).size };
        }),
      },
      declarations: { months: declared },
      retourErrors: { types },
    };
  }
}
