import {
  closeSync,
  type Dirent,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { ensureFolder } from '../config/folders.js';
import { maskBsns } from '../domain/bsn.js';
import { count } from '../domain/plural.js';
import { CsvWriter, DEFAULT_DELIMITER } from '../export/csv.js';
import { berichtId, keyedHasher, parseMessage } from '../ingest/index.js';
import { deriveKey } from '../pseudonymise/keys.js';
import type { HashedElement, MessageSchema, TableDef } from '../schema/model.js';
import { bsnProneColumns, type LeftOut, leaveOut, leftOutColumns } from '../schema/personal-data.js';
import { type CliContext, outFolder, parseDelimiter } from './command.js';

export interface FlattenOptions {
  readonly inputs: readonly string[];
  readonly out: string;
  /** The secret the hashes and BerichtIds are keyed with (a purpose key is derived from it). */
  readonly secret: string;
  readonly delimiter?: string;
  readonly bom?: boolean;
  /** Leave personal data in clear out, as a delivery for an organisation that chose so (`leaveOut`). */
  readonly leaveOutPersonalData?: boolean;
  /** Called with one line per file that could not be flattened. */
  readonly onError: (line: string) => void;
}

export interface FlattenResult {
  readonly files: number;
  readonly messages: number;
  /** Files holding a message flattened before in this run (the same BerichtId): written once. */
  readonly duplicates: number;
  readonly rejected: number;
  readonly bytes: number;
  /** Table name → rows written. */
  readonly tables: ReadonlyMap<string, number>;
}

/**
 * Files under the inputs: a folder gives its `.xml` files (recursively, sorted, links followed), a file itself.
 * A `.xml` link to nothing, and a folder without any `.xml` file, are named by `onError`: said nothing, they
 * looked like a run that had flattened everything.
 */
export function* xmlFiles(
  inputs: readonly string[],
  onError: (line: string) => void,
  /** Folders read in this run (real paths): how many .xml files each held (0 while it is being read). */
  seen: Map<string, number> = new Map(),
  top = true,
): Generator<string> {
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = statSync(input).isDirectory();
    } catch {
      onError(`${input}: no such file or folder (flatten.not_found)`);
      continue;
    }
    if (!isDir) {
      yield input;
      continue;
    }
    // A folder met again through a link (a loop, or two links to one folder) is read once.
    const real = realpathSync(input);
    if (seen.has(real)) continue;
    seen.set(real, 0);
    let found = 0;
    let entries: Dirent[];
    try {
      entries = readdirSync(input, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch (err) {
      // A folder we may not read (EACCES): named, and the run goes on with the others.
      onError(
        `${input}: the folder cannot be read (${(err as NodeJS.ErrnoException).code}) (flatten.not_found)`,
      );
      continue;
    }
    for (const e of entries) {
      const path = join(input, e.name);
      const xml = e.name.toLowerCase().endsWith('.xml');
      let dir = e.isDirectory();
      let file = e.isFile();
      if (e.isSymbolicLink()) {
        let target: ReturnType<typeof statSync>;
        try {
          target = statSync(path);
        } catch (err) {
          // To nothing, to itself (ELOOP), or where we may not look: a .xml one is named, others skipped.
          const code = (err as NodeJS.ErrnoException).code;
          if (xml)
            onError(
              `${path}: ${code === 'ENOENT' ? 'a link to a file that does not exist' : `a link that cannot be followed (${code})`} (flatten.not_found)`,
            );
          continue;
        }
        dir = target.isDirectory();
        file = target.isFile();
      }
      if (dir) {
        // Read already (a link to a folder given or met before): its files are in this run, not missing. A
        // link back to a folder still being read (itself, a parent) adds nothing.
        const again = seen.get(realpathSync(path));
        if (again !== undefined) {
          found += again;
          continue;
        }
        for (const f of xmlFiles([path], onError, seen, false)) {
          found++;
          yield f;
        }
      } else if (file && xml) {
        found++;
        yield path;
      }
    }
    seen.set(real, found);
    if (found === 0 && top) onError(`${input}: no .xml files in this folder (flatten.no_files)`);
  }
}

/**
 * Hashes are cached per run: a client's identifiers recur in many messages. One bounded cache per
 * element, so a lookup needs no `element:value` key string.
 */
function cachingHasher(
  key: Buffer,
  limit = 200_000,
): (element: HashedElement) => (canonical: string) => string {
  const hash = keyedHasher(key);
  const perElement = new Map<HashedElement, (canonical: string) => string>();
  return (element) => {
    let f = perElement.get(element);
    if (f === undefined) {
      let cache = new Map<string, string>();
      f = (canonical) => {
        let h = cache.get(canonical);
        if (h === undefined) {
          h = hash(element, canonical);
          if (cache.size >= limit) cache = new Map();
          cache.set(canonical, h);
        }
        return h;
      };
      perElement.set(element, f);
    }
    return f;
  };
}

/**
 * A file written synchronously, as the inputs are read: flatten runs alone, and handing each 64 KiB chunk to a
 * thread and waiting for it cost more CPU than the write itself (about 4 % of a run).
 */
class SyncFileStream extends Writable {
  #fd: number | null;

  constructor(path: string) {
    super();
    this.#fd = openSync(path, 'w');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    try {
      for (let at = 0; at < chunk.length; ) at += writeSync(this.#fd as number, chunk, at);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#close(done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#close(() => done(error));
  }

  #close(done: (error?: Error | null) => void): void {
    const fd = this.#fd;
    this.#fd = null;
    try {
      if (fd !== null) closeSync(fd);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

interface HashedColumn {
  readonly col: number;
  readonly hash: (canonical: string) => string;
}

/** Per table of the run: its writer and its hashed columns with their caches, looked up once. */
interface TableOut {
  readonly writer: CsvWriter;
  readonly hashed: readonly HashedColumn[];
  /** Personal data columns to leave out; empty unless asked. */
  readonly personal: readonly (readonly [column: number, as: LeftOut])[];
  /** Free text columns whose BSN-like numbers are masked, as in a delivery. */
  readonly bsnProne: readonly number[];
}

function hashedColumnsOf(
  t: TableDef,
  hasherFor: (element: HashedElement) => (canonical: string) => string,
): HashedColumn[] {
  const cols: HashedColumn[] = [];
  t.columns.forEach((c, col) => {
    if (c.hashed) cols.push({ col, hash: hasherFor(c.hashed) });
  });
  return cols;
}

/**
 * One flatten run: the files it took so far, and a writer per table. `add` does one file without waiting;
 * the caller awaits `flushDue()` when `due`. Kept out of the async loop, which V8 can only optimise as a
 * whole (on-stack replacement), and which lost that code again whenever a rarely taken branch came by.
 */
class FlattenRun {
  readonly #options: FlattenOptions;
  readonly #key: Buffer;
  readonly #hasherFor: (element: HashedElement) => (canonical: string) => string;
  readonly writers = new Map<string, CsvWriter>();
  readonly #outs = new Map<MessageSchema, readonly TableOut[]>();
  /** Writers with a complete chunk to write. */
  readonly #due: CsvWriter[] = [];
  files = 0;
  messages = 0;
  duplicates = 0;
  rejected = 0;
  bytes = 0;
  // A message that passed the hub more than once is one row, as in a delivery. The BerichtIds of the run
  // are kept (about 100 bytes each): the one thing here that grows with the input.
  readonly #seen = new Set<string>();

  constructor(options: FlattenOptions) {
    this.#options = options;
    this.#key = deriveKey(options.secret, 'flatten');
    this.#hasherFor = cachingHasher(this.#key);
  }

  reject(line: string): void {
    this.rejected++;
    this.#options.onError(line);
  }

  get due(): boolean {
    return this.#due.length > 0;
  }

  async flushDue(): Promise<void> {
    for (const writer of this.#due.splice(0)) await writer.flushIfFull();
  }

  add(file: string): void {
    this.files++;
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      this.reject(
        `${file}: cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'} (flatten.unreadable)`,
      );
      return;
    }
    this.bytes += data.length;
    const outcome = parseMessage(data, { file });
    if (!outcome.ok) {
      this.reject(outcome.error.message);
      return;
    }
    const msg = outcome.message;
    const tableOuts = this.#outs.get(msg.schema) ?? this.#tableOuts(msg.schema);
    // The same as pseudonymiseWithKey, in place: the parsed message is not used again.
    const id = berichtId(this.#key, msg);
    if (this.#seen.has(id)) {
      this.duplicates++;
      return;
    }
    this.#seen.add(id);
    const tables = msg.schema.tables;
    for (let ti = 0; ti < tables.length; ti++) {
      const rows = msg.tables.get((tables[ti] as TableDef).name);
      if (rows === undefined || rows.length === 0) continue;
      const { writer, hashed, personal, bsnProne } = tableOuts[ti] as TableOut;
      for (const row of rows) {
        row[0] = id;
        for (const h of hashed) {
          const v = row[h.col];
          if (v !== null && v !== undefined) row[h.col] = h.hash(v);
        }
        for (const i of bsnProne) {
          const v = row[i];
          if (v !== null && v !== undefined) row[i] = maskBsns(v);
        }
        if (personal.length > 0) for (const [i, as] of personal) row[i] = leaveOut(as, row[i]);
        writer.push(row);
      }
      if (writer.full) this.#due.push(writer);
    }
    this.messages++;
  }

  #tableOuts(schema: MessageSchema): readonly TableOut[] {
    const tableOuts = schema.tables.map((t) => {
      let writer = this.writers.get(t.name);
      if (writer === undefined) {
        writer = new CsvWriter(
          new SyncFileStream(join(this.#options.out, `${t.name}.csv`)),
          t.columns.map((c) => c.name),
          { delimiter: this.#options.delimiter ?? DEFAULT_DELIMITER, bom: this.#options.bom ?? true },
        );
        this.writers.set(t.name, writer);
      }
      const personal = this.#options.leaveOutPersonalData ? leftOutColumns(t.columns) : [];
      return {
        writer,
        hashed: hashedColumnsOf(t, this.#hasherFor),
        personal,
        bsnProne: bsnProneColumns(t.columns),
      };
    });
    this.#outs.set(schema, tableOuts);
    return tableOuts;
  }
}

/**
 * Messages → delivery tables: parse and validate each file, pseudonymise with a key derived from the
 * secret, append the rows to `<out>/<table>.csv`. Files are read one at a time, rows are streamed out.
 */
export async function flattenFiles(options: FlattenOptions): Promise<FlattenResult> {
  ensureFolder(options.out);
  const run = new FlattenRun(options);
  for (const file of xmlFiles(options.inputs, (line) => run.reject(line))) {
    run.add(file);
    // Await only when a chunk is due: an await per message adds up.
    if (run.due) await run.flushDue();
  }
  const tables = new Map<string, number>();
  for (const [name, writer] of run.writers) {
    await writer.end();
    tables.set(name, writer.rows);
  }
  const { files, messages, duplicates, rejected, bytes } = run;
  return { files, messages, duplicates, rejected, bytes, tables };
}

interface Opts {
  out: string;
  key?: string;
  delimiter: string;
  bom: boolean;
  leaveOutPersonalData?: boolean;
  quiet?: boolean;
}

/** `ketendata flatten`: messages to delivery tables, no store involved. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('flatten')
    .description('turn iJw/iWmo messages into the CSV tables of a delivery (no database)')
    .argument('<inputs...>', 'XML files and/or folders (a folder: every .xml file in it, subfolders too)')
    .requiredOption('--out <dir>', 'output folder for <CODE>.csv and <CODE>_<Element>.csv (required)')
    .option('--key <secret>', 'key for the hashes and BerichtId (default: KETENDATA_SECRET)')
    .option(
      '--delimiter <char>',
      'delimiter: one character, or tab (";" is what Dutch Excel opens cleanly)',
      DEFAULT_DELIMITER,
    )
    .option('--no-bom', 'no UTF-8 BOM at the start of each file')
    .option(
      '--leave-out-personal-data',
      'leave names, addresses, contact details and free text empty, and keep a birth year and a 4-digit postcode',
    )
    .option('--quiet', 'no summary')
    .action(async (inputs: string[], opts: Opts) => {
      const secret = opts.key ?? ctx.config.secret;
      if (!secret) {
        ctx.err('flatten: no key: pass --key <secret> or set KETENDATA_SECRET (flatten.no_key)');
        ctx.setExitCode(2);
        return;
      }
      if (secret.trim() === '') {
        ctx.err(
          'flatten: the key is only whitespace: use a random string of at least 32 characters (flatten.blank_key)',
        );
        ctx.setExitCode(2);
        return;
      }
      // As for KETENDATA_SECRET: with a short key, 9-digit BSNs behind the hash are found by trying keys.
      if (secret.length < 32) {
        ctx.err('flatten: the key is too short: use at least 32 characters (flatten.short_key)');
        ctx.setExitCode(2);
        return;
      }
      if (secret.trim() !== secret) {
        ctx.err(
          'flatten: the key starts or ends with whitespace (a space, tab or line break): remove it (flatten.key_whitespace)',
        );
        ctx.setExitCode(2);
        return;
      }
      const delimiter = parseDelimiter(ctx, 'flatten', opts.delimiter);
      if (delimiter === undefined) return;
      const out = outFolder(ctx, 'flatten', opts.out);
      if (out === undefined) return;
      const result = await flattenFiles({
        inputs,
        out,
        secret,
        delimiter,
        bom: opts.bom,
        leaveOutPersonalData: opts.leaveOutPersonalData === true,
        onError: ctx.err,
      });
      if (!opts.quiet) {
        ctx.out(
          `flatten: ${count(result.messages, 'message')} flattened, ${count(result.duplicates, 'duplicate')} written once, ${result.rejected} rejected; ${count(result.tables.size, 'table')} in ${opts.out}`,
        );
      }
      if (result.rejected > 0) ctx.setExitCode(1);
    });
}
