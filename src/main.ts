import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { CliContext, RegisterCommand } from './cli/command.js';
import { type Config, loadConfig } from './config/config.js';

const CLI_DIR = new URL('./cli/', import.meta.url);
/** Top-level commands registered by a file of another name; every other command's file is `<name>.ts`. */
const COMMAND_FILES: Readonly<Record<string, string>> = { 'raw-rekey': 'ingest', tokens: 'users' };
/** Exit code of a command line that is not understood (docs/cli.md): commander's own would be 1. */
const BAD_ARGUMENTS = 2;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Output streams whose reader has gone (`ketendata quarantine list | head -1`): written to no more. */
const closed = new Set<NodeJS.WriteStream>();
let guarded = false;

/**
 * A reader that closes the pipe early is no error of the command: without a listener the EPIPE of the next
 * write crashed the process with a stack trace. The command runs on (its work, such as a delivery, is not cut
 * off halfway) and ends with its own exit code; what it would still print is dropped.
 */
function guardPipes(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && !closed.has(stream)) throw err;
      closed.add(stream);
    });
  }
}

function write(stream: NodeJS.WriteStream, line: string): void {
  if (!closed.has(stream)) stream.write(`${line}\n`);
}

/** Composition root: reads configuration once and hands it to every command (one file each in cli/). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  guardPipes();
  let exitCode = 0;
  const config: Config = loadConfig(env);
  const ctx: CliContext = {
    config,
    out: (line) => write(process.stdout, line),
    err: (line) => write(process.stderr, line),
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  const program = new Command('ketendata')
    .description(
      'Ketendata iWmo en iJw: iJw/iWmo message traffic into pseudonymised deliveries per municipality',
    )
    .version(version())
    // Subcommands inherit this override: every error commander reports (unknown command or option, a
    // missing argument or required option, an invalid option value) is a bad argument, exit code 2.
    // Help and version exit 0.
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(BAD_ARGUMENTS, err.code, err.message);
    })
    .showHelpAfterError();
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const files = readdirSync(CLI_DIR)
    .filter(
      (f) =>
        f.endsWith(ext) && !f.endsWith(`.test${ext}`) && !f.endsWith(`.d${ext}`) && f !== `command${ext}`,
    )
    .sort();
  // Only the invoked command's file is loaded: the others pull in the store, the portal and their use
  // cases, which took about a second before any command ran. Help and unknown commands load them all.
  const first = argv[0];
  const own = first && !first.startsWith('-') ? `${COMMAND_FILES[first] ?? first}${ext}` : undefined;
  for (const file of own && files.includes(own) ? [own] : files) {
    const mod = (await import(new URL(file, CLI_DIR).href)) as { register?: RegisterCommand };
    mod.register?.(program, ctx);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    ctx.err(`ketendata: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  return exitCode;
}

/** Runs the command line of this process and sets its exit code (bin/ketendata.js, or the sources directly). */
export function runMain(argv: readonly string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}

// Run from the sources (`npm run dev -- <command>`, `npx tsx src/main.ts <command>`); bin/ketendata.js
// imports the built copy and calls runMain itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  runMain(process.argv.slice(2));
