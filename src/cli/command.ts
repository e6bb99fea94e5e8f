import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { ensureFolder } from '../config/folders.js';
import { parseMoment } from '../domain/moment.js';

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
