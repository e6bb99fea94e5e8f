import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config/config.js';
import { ensureFolder } from '../config/folders.js';
import { parseMoment } from '../domain/moment.js';
import { readGemeenten } from '../schema/codelists.js';
import type { Store } from '../store/open.js';

export interface CliContext {
  readonly config: Config;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Commands report failure through the exit code; the last non-zero code wins. */
  setExitCode(code: number): void;
  /** The real clock (the machine's time when left out); injected by tests, never moved by `--now`. */
  readonly clock?: () => Date;
}

/** The real clock of the context: its injected one, or the machine's time. */
export function realNow(ctx: CliContext): Date {
  return ctx.clock?.() ?? new Date();
}

/** Each command lives in its own file under src/cli and registers itself on the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/**
 * The `--now` of every command that takes one: the moment given, or the clock when none is. A value that is
 * not a moment with a zone is refused with `cli.bad_now` and exit code 2 (undefined is returned then).
 */
export function parseNow(ctx: CliContext, value: string | undefined): Date | undefined {
  if (value === undefined) return realNow(ctx);
  const at = parseMoment(value);
  if (at) return at;
  ctx.err(
    `cli.bad_now: --now ${value} is not an ISO-8601 moment with a time zone, e.g. 2026-12-06T06:00:00+01:00`,
  );
  ctx.setExitCode(2);
  return undefined;
}

/** `--port`: a TCP port (1–65535), or undefined after saying so (exit code 2) before anything is opened. */
export function parsePort(ctx: CliContext, value: string): number | undefined {
  const port = Number(value);
  if (/^\d+$/.test(value) && port >= 1 && port <= 65_535) return port;
  ctx.err(`cli.bad_port: --port ${value} is not a port number (1–65535)`);
  ctx.setExitCode(2);
  return undefined;
}

/**
 * `--out`: the folder made ready for writing (only checked with `create` false), or undefined after one
 * coded line (`<command>.out_not_folder`, exit code 1) naming the path and the errno code.
 */
export function outFolder(
  ctx: CliContext,
  command: string,
  path: string,
  { create = true }: { create?: boolean } = {},
): string | undefined {
  try {
    return ensureFolder(path, create);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    ctx.err(`${command}.out_not_folder: ${path} is not a folder that can be written (${code})`);
    ctx.setExitCode(1);
    return undefined;
  }
}

/**
 * `--delimiter` of the CSV commands: one character, or `tab` (also `\t` as typed in a shell) for a tab.
 * A quote or line break would break the CSV. Anything else is refused with `<command>.bad_option`
 * (exit code 2) and undefined is returned.
 */
export function parseDelimiter(ctx: CliContext, command: string, value: string): string | undefined {
  const delimiter = value === 'tab' || value === '\\t' ? '\t' : value;
  if (delimiter.length === 1 && !['"', '\r', '\n'].includes(delimiter)) return delimiter;
  ctx.err(
    `${command}.bad_option: --delimiter ${JSON.stringify(value)} is not one character or tab (a quote or line break cannot be one)`,
  );
  ctx.setExitCode(2);
  return undefined;
}

/**
 * `--gemeente <codes>` of the listing commands: the CBS codes given, comma-separated (`[]` without the option).
 * An unknown code would list nothing and read as "none there", so one that is not 4 digits is refused here, and
 * one unknown to the store by `knownGemeenten`: with `<command>.bad_option` (exit code 2), returning undefined.
 */
export function parseGemeenten(
  ctx: CliContext,
  command: string,
  value: string | undefined,
): string[] | undefined {
  if (value === undefined) return [];
  const gemeenten = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const malformed = gemeenten.length === 0 ? [value] : gemeenten.filter((c) => !/^\d{4}$/.test(c));
  if (malformed.length === 0) return gemeenten;
  refuseGemeenten(ctx, command, malformed, "not a municipality's 4-digit CBS code");
  return undefined;
}

function refuseGemeenten(ctx: CliContext, command: string, bad: readonly string[], why: string): void {
  ctx.err(`${command}.bad_option: --gemeente ${bad.join(',')}: ${why}`);
  ctx.setExitCode(2);
}

/**
 * Whether every code is a municipality: in the CBS code list, or (merged since 2021, so no longer listed) in
 * the stored messages. Refuses the others as `parseGemeenten` does.
 */
export async function knownGemeenten(
  ctx: CliContext,
  command: string,
  store: Store,
  gemeenten: readonly string[],
): Promise<boolean> {
  const listed = new Set(readGemeenten().map((g) => g.code));
  const unlisted = gemeenten.filter((c) => !listed.has(c));
  if (unlisted.length === 0) return true;
  const stored = new Set(
    (
      await store.db
        .selectFrom('message')
        .select('gemeente')
        .distinct()
        .where('gemeente', 'in', unlisted)
        .execute()
    ).map((r) => r.gemeente),
  );
  const unknown = unlisted.filter((c) => !stored.has(c));
  if (unknown.length === 0) return true;
  refuseGemeenten(
    ctx,
    command,
    unknown,
    'not in the CBS code list (gemeentecodes), and no message of it is stored',
  );
  return false;
}

/**
 * A commander option parser for a positive whole number (`--batch-size`), at most `max`: else
 * `<code>: <option> must be …`.
 */
export const positiveWholeNumber =
  (code: string, option: string, max = Number.MAX_SAFE_INTEGER) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(
        `${code}: ${option} must be a positive whole number${max < Number.MAX_SAFE_INTEGER ? ` of at most ${max}` : ''}`,
      );
    return n;
  };
