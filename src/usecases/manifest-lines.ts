import type { Readable } from 'node:stream';

/** Longest manifest line kept: a line is about 200 bytes; a longer one is no manifest line. */
export const MAX_MANIFEST_LINE = 64 * 1024;

/** A line longer than the limit: its first bytes as text, and how long it was. */
export class LongLine {
  constructor(
    readonly head: string,
    readonly bytes: number,
  ) {}
}

/**
 * The lines of a stream (LF or CRLF), as UTF-8 text. A line over `max` bytes comes as a LongLine of its first
 * `max` bytes, the rest skipped as it streams by: readline holds a whole line, and a manifest that is one
 * endless line (a binary file by that name, say) would fill the memory.
 */
export async function* manifestLines(
  input: Readable,
  max = MAX_MANIFEST_LINE,
): AsyncGenerator<string | LongLine> {
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  const line = (): string | LongLine => {
    const text = Buffer.concat(parts, kept).toString('utf8');
    const out = length > max ? new LongLine(text, length) : text.endsWith('\r') ? text.slice(0, -1) : text;
    parts = [];
    kept = 0;
    length = 0;
    return out;
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, nl < 0 ? chunk.length : nl);
      length += piece.length;
      if (kept < max) {
        const part = piece.subarray(0, max - kept);
        parts.push(part);
        kept += part.length;
      }
      if (nl < 0) break;
      yield line();
      start = nl + 1;
    }
  }
  if (length > 0) yield line();
}
