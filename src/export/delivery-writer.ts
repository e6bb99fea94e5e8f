import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { ensureFolder } from '../config/folders.js';
import { csvFormatter } from './csv.js';

/** One CSV file of a delivery: its name without `.csv` and its header. */
export interface DeliveryFileSpec {
  readonly name: string;
  readonly header: readonly string[];
}

export type Cell = string | number | null | undefined;

/** A file that is not a table: the data dictionary, notes. */
export interface ExtraFile {
  readonly name: string;
  readonly content: string | Buffer;
  /** Data rows of a CSV (header excluded), for the manifest. */
  readonly rows?: number;
}

export interface ManifestFile {
  readonly name: string;
  /** Data rows (header excluded); absent for non-CSV files. */
  readonly rows?: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface WrittenDelivery {
  readonly size: number;
  /** SHA-256 of the ZIP itself. */
  readonly sha256: string;
  readonly files: readonly ManifestFile[];
}

const BOM = '\uFEFF';
// Same dialect as `ketendata flatten` (src/export/csv.ts): semicolon, CRLF, RFC 4180 quoting, UTF-8 + BOM.
const line = csvFormatter(';');
/** Bytes buffered per file before a write: ~90 files × 256 KiB bounds the buffers to ~23 MiB. */
const FLUSH_AT = 256 * 1024;
/** Entries smaller than this are stored, not deflated. */
const STORE_BELOW = 16 * 1024;
/**
 * A delivery holds personal data in clear: its folders and files are for the service's account alone,
 * whatever the umask (a folder that already exists keeps its mode).
 */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

interface OpenFile {
  readonly spec: DeliveryFileSpec;
  readonly path: string;
  /** Opened on the first flush: a small file stays in memory and goes into the ZIP as a buffer. */
  handle: FileHandle | undefined;
  readonly hash: Hash;
  /** Rows of the current batch as text: short-lived, so it dies young in the GC. */
  text: string;
  /** Encoded batches waiting to be written (outside the JS heap). */
  bufs: Buffer[];
  buffered: number;
  rows: number;
  bytes: number;
}

/**
 * Writes one delivery in a single pass over its messages: every file is a temp CSV fed through a bounded
 * buffer; `finish` streams them into the ZIP (yazl) with a manifest of counts and SHA-256 per file.
 * ZIP entries are sequential, so the temp files are what lets one pass over the store feed ~90 files.
 */
export class DeliveryWriter {
  readonly #dir: string;
  readonly #files = new Map<string, OpenFile>();
  readonly #order: OpenFile[] = [];
  readonly #touched = new Set<OpenFile>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(tmpRoot: string, specs: readonly DeliveryFileSpec[]): Promise<DeliveryWriter> {
    ensureFolder(tmpRoot, true, FOLDER_MODE, FOLDER_MODE);
    const w = new DeliveryWriter(await mkdtemp(join(tmpRoot, 'delivery-')));
    try {
      for (const spec of specs) {
        if (w.#files.has(spec.name))
          throw new Error(`export.duplicate_file: ${spec.name}.csv twice in one delivery`);
        const path = join(w.#dir, `${w.#order.length}.csv`);
        const f: OpenFile = {
          spec,
          path,
          handle: undefined,
          hash: createHash('sha256'),
          text: BOM + line(spec.header),
          bufs: [],
          buffered: 0,
          rows: 0,
          bytes: 0,
        };
        w.#files.set(spec.name, f);
        w.#order.push(f);
      }
    } catch (err) {
      await w.abort();
      throw err;
    }
    return w;
  }

  /** Appends rows (aligned with the file's header) to a file. */
  async add(name: string, rows: readonly (readonly Cell[])[]): Promise<void> {
    for (const r of rows) this.push(name, r);
    await this.flushFull();
  }

  /**
   * Appends one row without waiting: formatted at once, so the caller's parsed objects die young
   * (cheap for the GC). Call `flushFull()` after a batch to bound the buffers.
   */
  push(name: string, row: readonly Cell[]): void {
    const f = this.#files.get(name);
    if (!f) throw new Error(`export.unknown_file: ${name}.csv is not part of this delivery`);
    f.text += line(row);
    f.rows++;
    this.#touched.add(f);
  }

  /** Appends already formatted CSV lines (`rows` of them) to a file. */
  appendText(name: string, text: string, rows: number): void {
    const f = this.#files.get(name);
    if (!f) throw new Error(`export.unknown_file: ${name}.csv is not part of this delivery`);
    f.text += text;
    f.rows += rows;
    this.#touched.add(f);
  }

  /** Appends CSV lines already encoded as UTF-8 (`rows` of them) to a file: a worker's output, no copy. */
  appendBytes(name: string, bytes: Uint8Array, rows: number): void {
    const f = this.#files.get(name);
    if (!f) throw new Error(`export.unknown_file: ${name}.csv is not part of this delivery`);
    this.#encode(f); // text appended before goes first
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    f.hash.update(buf);
    f.bytes += buf.length;
    f.bufs.push(buf);
    f.buffered += buf.length;
    f.rows += rows;
    this.#touched.add(f);
  }

  /** Encodes the batch's text of every file and writes out those whose buffers passed the flush size. */
  async flushFull(): Promise<void> {
    for (const f of this.#touched) {
      this.#encode(f);
      if (f.buffered >= FLUSH_AT) await this.#write(f);
    }
    this.#touched.clear();
  }

  rowCount(name: string): number {
    return this.#files.get(name)?.rows ?? 0;
  }

  #encode(f: OpenFile): void {
    if (f.text.length === 0) return;
    const buf = Buffer.from(f.text, 'utf8');
    f.text = '';
    f.hash.update(buf);
    f.bytes += buf.length;
    f.bufs.push(buf);
    f.buffered += buf.length;
  }

  async #write(f: OpenFile): Promise<void> {
    if (f.bufs.length === 0) return;
    const bufs = f.bufs;
    f.bufs = [];
    f.buffered = 0;
    f.handle ??= await open(f.path, 'w', FILE_MODE);
    await f.handle.writev(bufs);
  }

  /**
   * Closes every CSV and writes the ZIP to `zipPath` (via a `.part` file, renamed when complete):
   * the CSVs in spec order, then the extra files, then `manifest.json` (`manifest` plus the file list).
   */
  async finish(
    zipPath: string,
    opts: {
      readonly extra?: readonly ExtraFile[];
      readonly manifest: Record<string, unknown>;
      readonly mtime: Date;
    },
  ): Promise<WrittenDelivery> {
    const files: ManifestFile[] = [];
    try {
      const inMemory = new Map<OpenFile, Buffer>();
      for (const f of this.#order) {
        this.#encode(f);
        if (f.handle) {
          await this.#write(f);
          await f.handle.close();
        } else {
          inMemory.set(f, Buffer.concat(f.bufs));
          f.bufs = [];
        }
        files.push({
          name: `${f.spec.name}.csv`,
          rows: f.rows,
          bytes: f.bytes,
          sha256: f.hash.digest('hex'),
        });
      }
      const extras = (opts.extra ?? []).map((e) => {
        const buf = typeof e.content === 'string' ? Buffer.from(e.content, 'utf8') : e.content;
        files.push({
          name: e.name,
          ...(e.rows !== undefined ? { rows: e.rows } : {}),
          bytes: buf.length,
          sha256: createHash('sha256').update(buf).digest('hex'),
        });
        return { name: e.name, buf };
      });
      const manifest = Buffer.from(`${JSON.stringify({ ...opts.manifest, files }, null, 2)}\n`, 'utf8');

      const zip = new ZipFile();
      // Level 1: CSVs of identifiers and codes compress ~8× even so, and it is several times faster than 6.
      const entry = { mtime: opts.mtime, compressionLevel: 1 };
      const stored = { mtime: opts.mtime, compress: false };
      for (const f of this.#order) {
        const buf = inMemory.get(f);
        // Deflate has a fixed cost per entry (~10 ms here) that buys nothing on a header-only file.
        if (buf) zip.addBuffer(buf, `${f.spec.name}.csv`, buf.length < STORE_BELOW ? stored : entry);
        else zip.addReadStreamLazy(`${f.spec.name}.csv`, entry, (cb) => cb(null, createReadStream(f.path)));
      }
      for (const e of extras) zip.addBuffer(e.buf, e.name, entry);
      zip.addBuffer(manifest, 'manifest.json', entry);
      zip.end();

      ensureFolder(dirname(zipPath), true, FOLDER_MODE, FOLDER_MODE);
      const part = `${zipPath}.part`;
      const hash = createHash('sha256');
      let size = 0;
      zip.outputStream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      await pipeline(zip.outputStream, createWriteStream(part, { mode: FILE_MODE }));
      await rename(part, zipPath);
      return { size, sha256: hash.digest('hex'), files };
    } finally {
      await this.abort();
    }
  }

  /** Removes the temp files (and closes any still open). */
  async abort(): Promise<void> {
    for (const f of this.#order) await f.handle?.close().catch(() => undefined);
    await rm(this.#dir, { recursive: true, force: true });
  }
}
