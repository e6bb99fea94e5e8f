/**
 * A ZIP written front to back, synchronously, with stored (uncompressed) entries: the simulator's whole
 * output in one file instead of one file per exchange. Entries are copied into one output buffer, so an
 * entry costs no syscall of its own. The central
 * directory is spilled to a side file while the entries are written and appended at the end, so memory
 * stays flat however many entries there are; ZIP64 records are added when counts or offsets need them.
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { BufferedFile } from './buffered-file.js';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END = 0x06054b50;
const END64 = 0x06064b50;
const END64_LOCATOR = 0x07064b50;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const END_SIZE = 22;
const END64_SIZE = 56;
const LOCATOR_SIZE = 20;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
/** Version 2.0 (stored entries, folders); 4.5 for ZIP64. */
const VERSION = 20;
const VERSION64 = 45;
/** General purpose flag bit 11: names are UTF-8. */
const UTF8_NAMES = 0x0800;
const ZIP64_EXTRA = 0x0001;
const CHUNK = 1 << 20;

/** 1980-01-01, the first moment MS-DOS dates can hold. */
const DOS_EPOCH = Date.UTC(1980, 0, 1);

/**
 * MS-DOS time and date of a moment (UTC) as the one 32-bit little-endian value ZIP headers hold: time in
 * the low half, date in the high half.
 */
function dosDateTime(moment: number): number {
  const t = new Date(Math.max(moment, DOS_EPOCH));
  const date = ((t.getUTCFullYear() - 1980) << 9) | ((t.getUTCMonth() + 1) << 5) | t.getUTCDate();
  const time = (t.getUTCHours() << 11) | (t.getUTCMinutes() << 5) | (t.getUTCSeconds() >> 1);
  return ((date << 16) | time) >>> 0;
}

/** The fixed part of a local file header; the name follows it, then `extraLength` bytes of extra field. */
function writeLocalHeader(
  b: Buffer,
  at: number,
  e: { crc: number; size: number; dos: number; nameLength: number; extraLength: number },
): void {
  if (e.nameLength > MAX16) throw new Error('simulate.zip: an entry name is longer than 65,535 bytes');
  b.writeUInt32LE(LOCAL_HEADER, at);
  b.writeUInt16LE(e.extraLength > 0 ? VERSION64 : VERSION, at + 4);
  b.writeUInt16LE(UTF8_NAMES, at + 6);
  b.writeUInt16LE(0, at + 8); // stored
  b.writeUInt32LE(e.dos, at + 10);
  b.writeUInt32LE(e.crc, at + 14);
  const size = e.extraLength > 0 ? MAX32 : e.size;
  b.writeUInt32LE(size, at + 18);
  b.writeUInt32LE(size, at + 22);
  b.writeUInt16LE(e.nameLength, at + 26);
  b.writeUInt16LE(e.extraLength, at + 28);
}

interface Entry {
  readonly name: string;
  readonly crc: number;
  readonly size: number;
  /** Modification time, see `dosDateTime`. */
  readonly dos: number;
  readonly offset: number;
}

export class ZipWriter {
  readonly #out: BufferedFile;
  readonly #centralPath: string;
  readonly #central: BufferedFile;
  #entries = 0;

  constructor(readonly path: string) {
    this.#out = new BufferedFile(path);
    this.#centralPath = `${path}.central.part`;
    this.#central = new BufferedFile(this.#centralPath);
  }

  /** Adds `data` as an entry; `moment` is its modification time. */
  add(name: string, data: Uint8Array, moment: number): void {
    const out = this.#out;
    const at = out.reserve(LOCAL_SIZE + 3 * name.length + data.length);
    const entry = {
      name,
      crc: crc32(data),
      size: data.length,
      dos: dosDateTime(moment),
      offset: out.position,
    };
    if (at < 0) {
      this.#localHeader(entry);
      out.bytes(data);
    } else {
      // The usual case, without allocating: header, name and data straight into the output buffer.
      const nameLength = out.buf.write(name, at + LOCAL_SIZE, 'utf8');
      writeLocalHeader(out.buf, at, { ...entry, nameLength, extraLength: 0 });
      out.buf.set(data, at + LOCAL_SIZE + nameLength);
      out.commit(LOCAL_SIZE + nameLength + data.length);
    }
    this.#record(entry);
  }

  /** Adds the content of a file (read twice in chunks: once for its CRC, once to copy it). */
  addFile(name: string, path: string, moment: number): void {
    let crc = 0;
    let size = 0;
    forEachChunk(path, (chunk) => {
      crc = crc32(chunk, crc);
      size += chunk.length;
    });
    const entry = { name, crc, size, dos: dosDateTime(moment), offset: this.#out.position };
    this.#localHeader(entry);
    forEachChunk(path, (chunk) => this.#out.bytes(chunk));
    this.#record(entry);
  }

  /** Appends the central directory and the end records, and closes the file. */
  close(): void {
    this.#central.close();
    const offset = this.#out.position;
    forEachChunk(this.#centralPath, (chunk) => this.#out.bytes(chunk));
    rmSync(this.#centralPath);
    const size = this.#out.position - offset;
    const count = this.#entries;
    if (count >= MAX16 || offset >= MAX32 || size >= MAX32) this.#end64(count, size, offset);
    const end = Buffer.alloc(END_SIZE);
    end.writeUInt32LE(END, 0);
    end.writeUInt16LE(Math.min(count, MAX16), 8);
    end.writeUInt16LE(Math.min(count, MAX16), 10);
    end.writeUInt32LE(Math.min(size, MAX32), 12);
    end.writeUInt32LE(Math.min(offset, MAX32), 16);
    this.#out.bytes(end);
    this.#out.close();
  }

  /** A local header built apart (entries other than `addText`'s); ZIP64 sizes when the entry needs them. */
  #localHeader(e: Entry): void {
    const name = Buffer.from(e.name);
    const big = e.size >= MAX32;
    const header = Buffer.alloc(LOCAL_SIZE + name.length + (big ? 20 : 0));
    writeLocalHeader(header, 0, {
      ...e,
      nameLength: name.length,
      extraLength: big ? 20 : 0,
    });
    name.copy(header, LOCAL_SIZE);
    if (big) {
      const x = LOCAL_SIZE + name.length;
      header.writeUInt16LE(ZIP64_EXTRA, x);
      header.writeUInt16LE(16, x + 2);
      header.writeBigUInt64LE(BigInt(e.size), x + 4);
      header.writeBigUInt64LE(BigInt(e.size), x + 12);
    }
    this.#out.bytes(header);
  }

  /** The entry's central directory record, to the side file. */
  #record(e: Entry): void {
    const bigSize = e.size >= MAX32;
    const bigOffset = e.offset >= MAX32;
    const extraLength = bigSize || bigOffset ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
    const c = this.#central;
    const at = c.reserve(CENTRAL_SIZE + 3 * e.name.length + extraLength);
    const b = c.buf;
    const nameLength = b.write(e.name, at + CENTRAL_SIZE, 'utf8');
    const version = extraLength > 0 ? VERSION64 : VERSION;
    b.writeUInt32LE(CENTRAL_HEADER, at);
    b.writeUInt16LE(version, at + 4);
    b.writeUInt16LE(version, at + 6);
    b.writeUInt16LE(UTF8_NAMES, at + 8);
    b.writeUInt16LE(0, at + 10); // stored
    b.writeUInt32LE(e.dos, at + 12);
    b.writeUInt32LE(e.crc, at + 16);
    b.writeUInt32LE(bigSize ? MAX32 : e.size, at + 20);
    b.writeUInt32LE(bigSize ? MAX32 : e.size, at + 24);
    b.writeUInt16LE(nameLength, at + 28);
    b.writeUInt16LE(extraLength, at + 30);
    b.fill(0, at + 32, at + 42); // comment length, disk, internal and external attributes
    b.writeUInt32LE(bigOffset ? MAX32 : e.offset, at + 42);
    let x = at + CENTRAL_SIZE + nameLength;
    if (extraLength > 0) {
      b.writeUInt16LE(ZIP64_EXTRA, x);
      b.writeUInt16LE(extraLength - 4, x + 2);
      x += 4;
      if (bigSize) {
        b.writeBigUInt64LE(BigInt(e.size), x);
        b.writeBigUInt64LE(BigInt(e.size), x + 8);
        x += 16;
      }
      if (bigOffset) b.writeBigUInt64LE(BigInt(e.offset), x);
    }
    c.commit(CENTRAL_SIZE + nameLength + extraLength);
    this.#entries++;
  }

  /** ZIP64 end of central directory record and its locator. */
  #end64(count: number, size: number, offset: number): void {
    const at = this.#out.position;
    const b = Buffer.alloc(END64_SIZE + LOCATOR_SIZE);
    b.writeUInt32LE(END64, 0);
    b.writeBigUInt64LE(BigInt(END64_SIZE - 12), 4);
    b.writeUInt16LE(VERSION64, 12);
    b.writeUInt16LE(VERSION64, 14);
    b.writeBigUInt64LE(BigInt(count), 24);
    b.writeBigUInt64LE(BigInt(count), 32);
    b.writeBigUInt64LE(BigInt(size), 40);
    b.writeBigUInt64LE(BigInt(offset), 48);
    b.writeUInt32LE(END64_LOCATOR, END64_SIZE);
    b.writeBigUInt64LE(BigInt(at), END64_SIZE + 8);
    b.writeUInt32LE(1, END64_SIZE + 16);
    this.#out.bytes(b);
  }
}

function forEachChunk(path: string, use: (chunk: Buffer) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) use(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
