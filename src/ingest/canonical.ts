/**
 * The canonical content of a message as UTF-8 bytes, written while it is parsed. Hashing bytes needs no
 * string building or encoding: a rope of some hundred pieces cost more to flatten than to hash.
 * The bytes are exactly those of the canonical XML text (local names, processed values, `&<>` escaped).
 */
export class CanonicalWriter {
  #buf = Buffer.allocUnsafe(16 * 1024);
  #len = 0;

  reset(): void {
    this.#len = 0;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  /** Pre-encoded markup (a tag): copied as is. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.#room(n);
    const buf = this.#buf;
    let at = this.#len;
    // Tags are short: a loop beats the call into TypedArray.prototype.set.
    for (let i = 0; i < n; i++) buf[at++] = b[i] as number;
    this.#len = at;
  }

  /** Markup given as text, not escaped (the root tag). */
  markup(s: string): void {
    this.#room(s.length * 3);
    this.#len += this.#buf.write(s, this.#len, 'utf8');
  }

  /** A value: `&`, `<` and `>` escaped, UTF-8 encoded. */
  text(s: string): void {
    const n = s.length;
    this.#room(n);
    const buf = this.#buf;
    let at = this.#len;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0x26 || c === 0x3c || c === 0x3e) {
        this.#len = at;
        this.#slow(s.slice(i));
        return;
      }
      buf[at++] = c;
    }
    this.#len = at;
  }

  #slow(s: string): void {
    const escaped = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    this.#room(escaped.length * 3);
    this.#len += this.#buf.write(escaped, this.#len, 'utf8');
  }

  /** A copy of the bytes written since the last reset. */
  take(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }
}
