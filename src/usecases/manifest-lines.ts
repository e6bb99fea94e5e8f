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
 * The lines of a stream (LF, CRLF or a lone CR), as UTF-8 text. A line over `max` bytes comes as a LongLine of
 * its first `max` bytes, the rest skipped as it streams by: readline holds a whole line, and a manifest that
 * is one endless line (a binary file by that name, say) would fill the memory. A raw CR cannot be part of a
 * JSON line, so taking it as a line end loses nothing.
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
    const out = length > max ? new LongLine(text, length) : text;
    parts = [];
    kept = 0;
    length = 0;
    return out;
  };
  // The chunk ended in a CR: an LF starting the next chunk belongs to it.
  let afterCr = false;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    if (afterCr && chunk.length > 0) {
      if (chunk[0] === 0x0a) start = 1;
      afterCr = false;
    }
    // The next LF and CR at or after `start`, each searched again only once passed (-1: none left).
    let lf = -2;
    let cr = -2;
    for (;;) {
      if (lf !== -1 && lf < start) lf = chunk.indexOf(0x0a, start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf(0x0d, start);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      const piece = chunk.subarray(start, end < 0 ? chunk.length : end);
      length += piece.length;
      if (kept < max) {
        const part = piece.subarray(0, max - kept);
        parts.push(part);
        kept += part.length;
      }
      if (end < 0) break;
      yield line();
      start = end + 1;
      if (end === cr) {
        if (start === chunk.length) afterCr = true;
        else if (chunk[start] === 0x0a) start++;
      }
    }
  }
  if (length > 0) yield line();
}
