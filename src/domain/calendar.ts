/**
 * Calendar arithmetic shared by the simulator and the indicators. Dates as whole UTC day numbers (days since 1970-01-01) and moments as epoch milliseconds: cheap to
 * compare and add. Working days follow the Algemene termijnenwet: Monday to Friday, except the Dutch
 * public holidays (New Year, Easter Monday, King's Day, Liberation Day, Ascension, Whit Monday, Christmas).
 */
export const DAY_MS = 86_400_000;

export type Day = number;

export function dayOf(ms: number): Day {
  return Math.floor(ms / DAY_MS);
}

export function dayFromIso(iso: string): Day {
  const ms = Date.parse(`${iso}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`domain.bad_date: "${iso}" is not a date (YYYY-MM-DD)`);
  return dayOf(ms);
}

/** Civil date of a day number, without allocating a Date (H. Hinnant's days-to-civil algorithm). */
export function ymd(day: Day): { y: number; m: number; d: number } {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** Day number of a civil date; months outside 1–12 roll over into other years. */
export function makeDay(y: number, m: number, d: number): Day {
  const yy = y + Math.floor((m - 1) / 12);
  const mm = ((((m - 1) % 12) + 12) % 12) + 1;
  const y2 = mm <= 2 ? yy - 1 : yy;
  const era = Math.floor(y2 / 400);
  const yoe = y2 - era * 400;
  const doy = Math.floor((153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** First day of the month that holds `day`. */
export function monthStart(day: Day): Day {
  const { y, m } = ymd(day);
  return makeDay(y, m, 1);
}

/** Last day of the month that holds `day`. */
export function monthEnd(day: Day): Day {
  const { y, m } = ymd(day);
  return makeDay(y, m + 1, 1) - 1;
}

export function addMonths(day: Day, months: number): Day {
  const { y, m, d } = ymd(day);
  const target = makeDay(y, m + months, 1);
  return Math.min(target + d - 1, monthEnd(target));
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(day: Day): number {
  return (day + 4) % 7;
}

/** Easter Sunday (anonymous Gregorian algorithm). */
export function easter(year: number): Day {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const dayOfMonth = ((h + l - 7 * m + 114) % 31) + 1;
  return makeDay(year, month, dayOfMonth);
}

const holidayCache = new Map<number, ReadonlySet<Day>>();

export function publicHolidays(year: number): ReadonlySet<Day> {
  let set = holidayCache.get(year);
  if (!set) {
    const e = easter(year);
    const kingsDay = makeDay(year, 4, 27);
    set = new Set([
      makeDay(year, 1, 1),
      e + 1, // Tweede Paasdag
      weekday(kingsDay) === 0 ? kingsDay - 1 : kingsDay,
      makeDay(year, 5, 5),
      e + 39, // Hemelvaartsdag
      e + 50, // Tweede Pinksterdag
      makeDay(year, 12, 25),
      makeDay(year, 12, 26),
    ]);
    holidayCache.set(year, set);
  }
  return set;
}

const WORKING_BASE = makeDay(1990, 1, 1);
// From 1900: birth dates are written too.
const ISO_BASE = makeDay(1900, 1, 1);
const isoTable: (string | undefined)[] = new Array(makeDay(2100, 1, 1) - ISO_BASE);

/** `YYYY-MM-DD`. */
export function isoDay(day: Day): string {
  // Called for every date in every message: a dense table (1990–2099) beats a Map's hashing.
  const i = day - ISO_BASE;
  if (i >= 0 && i < isoTable.length) {
    let s = isoTable[i];
    if (s === undefined) {
      s = new Date(day * DAY_MS).toISOString().slice(0, 10);
      isoTable[i] = s;
    }
    return s;
  }
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** `HH:MM:SS` of a moment (epoch ms), without a Date object. */
export function timeOfDay(ms: number): string {
  const s = Math.floor((ms - Math.floor(ms / DAY_MS) * DAY_MS) / 1000);
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}

const workingCache = new Int8Array(makeDay(2100, 1, 1) - WORKING_BASE);

export function isWorkingDay(day: Day): boolean {
  const i = day - WORKING_BASE;
  const cached = i >= 0 && i < workingCache.length ? workingCache[i] : 0;
  if (cached) return cached === 1;
  const wd = weekday(day);
  const working = wd !== 0 && wd !== 6 && !publicHolidays(ymd(day).y).has(day);
  if (i >= 0 && i < workingCache.length) workingCache[i] = working ? 1 : 2;
  return working;
}

/** The working day `n` working days after `day` (n = 0: `day` itself if it is one, else the next). */
export function addWorkingDays(day: Day, n: number): Day {
  let d = day;
  while (!isWorkingDay(d)) d++;
  for (let i = 0; i < n; i++) {
    d++;
    while (!isWorkingDay(d)) d++;
  }
  return d;
}

/** Working days from `from` to `to`: the number of working days d with from < d <= to. */
export function workingDaysBetween(from: Day, to: Day): number {
  let n = 0;
  for (let d = from + 1; d <= to; d++) if (isWorkingDay(d)) n++;
  return n;
}
