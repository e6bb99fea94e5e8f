import type { Command } from 'commander';
import type { Config } from '../config/config.js';
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
