/**
 * A full ISO-8601 moment: date, time (seconds and fraction optional) and a zone (`Z`, `±hh:mm` or `±hhmm`).
 * `new Date()` alone also takes `12345` (the year 12345), a date without time, a time without zone read as
 * UTC, or 2026-02-30 rolled over into March. Used for `--now` and for the manifest's `moment`.
 */
const MOMENT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/;

/** The moment `value` names, or undefined when it is not a full ISO-8601 date-time with a zone on a real date. */
export function parseMoment(value: string): Date | undefined {
  const m = MOMENT.exec(value);
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second = '0', , zoneHour = '0', zoneMinute = '0'] = m;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const date = new Date(Date.UTC(2000, mo - 1, d));
  date.setUTCFullYear(y);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d)
    return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  if (Number(zoneHour) > 23 || Number(zoneMinute) > 59) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Written as a full ISO-8601 moment with a zone, whether or not the day and time exist (2026-02-30 does not). */
export const looksLikeMoment = (value: string): boolean => MOMENT.test(value);
