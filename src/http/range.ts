/**
 * A `Range` request header of a file download (RFC 9110 §14.2), for resuming a broken-off download
 * (`curl -C -`). One range of bytes is served; anything else (another unit, several ranges, a malformed
 * value) is ignored and the whole file is sent, as the RFC allows.
 */
export type RangeRequest =
  /** `bytes=first-` or `bytes=first-last` (last inclusive; null: to the end; Infinity: past any file). */
  | { readonly kind: 'from'; readonly first: number; readonly last: number | null }
  /** `bytes=-n`: the last n bytes. */
  | { readonly kind: 'suffix'; readonly length: number };

const SINGLE = /^bytes=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/** The one range asked for, or undefined when the header is absent or to be ignored. */
export function parseRange(header: string | undefined): RangeRequest | undefined {
  if (header === undefined) return undefined;
  const m = SINGLE.exec(header);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  // Digits only: a number past 2^53 lies past the end of any file we serve, so it stands as Infinity (a first
  // byte that far is unsatisfiable, a last byte or suffix that far means the whole rest).
  const num = (s: string) => (Number.isSafeInteger(Number(s)) ? Number(s) : Number.POSITIVE_INFINITY);
  const first = a === '' ? undefined : num(a);
  const last = b === '' ? undefined : num(b);
  if (first === undefined) return last === undefined ? undefined : { kind: 'suffix', length: last };
  if (last !== undefined && last < first) return undefined;
  return { kind: 'from', first, last: last ?? null };
}

/**
 * The bytes `[start, end]` (inclusive) of a file of `size` bytes a range asks for, or 'unsatisfiable' (HTTP
 * 416) when it asks for none of them: a first byte past the end, an empty suffix, or an empty file.
 */
export function resolveRange(
  range: RangeRequest,
  size: number,
): { readonly start: number; readonly end: number } | 'unsatisfiable' {
  if (size === 0) return 'unsatisfiable';
  if (range.kind === 'suffix') {
    if (range.length === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - range.length), end: size - 1 };
  }
  if (range.first >= size) return 'unsatisfiable';
  return { start: range.first, end: Math.min(range.last ?? size - 1, size - 1) };
}
