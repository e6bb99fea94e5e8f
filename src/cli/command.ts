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
