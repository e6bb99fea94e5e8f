import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Bytes to a file through one reused buffer with plain synchronous writes: one write per megabyte however
 * small the pieces, no big strings to flatten, and memory that stays flat however long the run.
 */
export class BufferedFile {
  readonly #fd: number;
  readonly buf = Buffer.allocUnsafe(1 << 20);
  #used = 0;
  #flushed = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'w');
  }

  /** Bytes written so far (flushed or still buffered): the offset of the next byte in the file. */
  get position(): number {
    return this.#flushed + this.#used;
  }

  /**
   * Makes room for up to `n` bytes and returns where they go in `buf`; -1 when they can never fit (the
   * caller then writes them with `bytes`). `commit` says how many were used.
   */
  reserve(n: number): number {
    if (this.#used + n > this.buf.length) this.flush();
    return n <= this.buf.length ? this.#used : -1;
  }

  commit(n: number): void {
    this.#used += n;
  }

  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    if (at < 0) {
      writeSync(this.#fd, b);
      this.#flushed += b.length;
      return;
    }
    this.buf.set(b, at);
    this.#used += b.length;
  }

  /** A line of text, UTF-8 encoded straight into the buffer. */
  line(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    const at = this.reserve(3 * s.length + 1);
    if (at < 0) {
      this.bytes(Buffer.from(`${s}\n`));
      return;
    }
    const n = this.buf.write(s, at, 'utf8');
    this.buf[at + n] = 0x0a;
    this.#used += n + 1;
  }

  flush(): void {
    if (this.#used > 0) writeSync(this.#fd, this.buf, 0, this.#used);
    this.#flushed += this.#used;
    this.#used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}
