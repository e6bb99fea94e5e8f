import type { Command } from 'commander';
import type { Config } from '../config/config.js';

export interface CliContext {
  readonly config: Config;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Commands report failure through the exit code; the last non-zero code wins. */
  setExitCode(code: number): void;
}

/** Each command lives in its own file under src/cli and registers itself on the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/**
 * A full ISO-8601 moment: date, time (seconds and fraction optional) and a zone. `new Date()` alone also
 * takes `12345` (the year 12345), a date without time, or a time without zone read as UTC.
 */
const MOMENT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** The moment `value` names, or undefined when it is not a full ISO-8601 date-time with a zone on a real date. */
export function parseMoment(value: string): Date | undefined {
  const m = MOMENT.exec(value);
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second = '0', , zoneHour = '0', zoneMinute = '0'] = m;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  // A real calendar date: 2026-02-30 would roll over into March.
  const date = new Date(Date.UTC(2000, mo - 1, d));
  date.setUTCFullYear(y);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d)
    return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  if (Number(zoneHour) > 23 || Number(zoneMinute) > 59) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * The `--now` of every command that takes one: the moment given, or the clock when none is. A value that is
 * not a moment with a zone is refused with `cli.bad_now` and exit code 2 (undefined is returned then).
 */
export function parseNow(ctx: CliContext, value: string | undefined): Date | undefined {
  if (value === undefined) return new Date();
  const at = parseMoment(value);
  if (at) return at;
  ctx.err(
    `cli.bad_now: --now ${value} is not an ISO-8601 moment with a time zone, e.g. 2026-12-06T06:00:00+01:00`,
  );
  ctx.setExitCode(2);
  return undefined;
}
