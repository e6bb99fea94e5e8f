/**
 * Dates as whole UTC day numbers (days since 1970-01-01) and moments as epoch milliseconds: cheap to
 * compare and add. Working days follow the Algemene termijnenwet: Monday to Friday, except the Dutch
 * public holidays (New Year, Easter Monday, King's Day, Liberation Day, Ascension, Whit Monday, Christmas).
 */
export const DAY_MS = 86_400_000;

export type Day = number;

const isoCache = new Map<Day, string>();

export function dayOf(ms: number): Day {
  return Math.floor(ms / DAY_MS);
}

export function dayFromIso(iso: string): Day {
  const ms = Date.parse(`${iso}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`simulate.bad_date: "${iso}" is not a date (YYYY-MM-DD)`);
  return dayOf(ms);
}

/** `YYYY-MM-DD`. */
export function isoDay(day: Day): string {
  let s = isoCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (isoCache.size > 50_000) isoCache.clear();
    isoCache.set(day, s);
  }
  return s;
}

export function ymd(day: Day): { y: number; m: number; d: number } {
  const date = new Date(day * DAY_MS);
  return { y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate() };
}

export function makeDay(y: number, m: number, d: number): Day {
  return dayOf(Date.UTC(y, m - 1, d));
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

export function isWorkingDay(day: Day): boolean {
  const wd = weekday(day);
  if (wd === 0 || wd === 6) return false;
  return !publicHolidays(ymd(day).y).has(day);
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
