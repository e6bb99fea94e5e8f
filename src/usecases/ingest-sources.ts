import {
  closeSync,
  constants,
  createReadStream,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { DELIVERY_TIME_ZONE } from '../domain/delivery-week.js';
import { looksLikeMoment, parseMoment } from '../domain/moment.js';
import { isPartyCode, PARTY_CODE_RULE } from '../domain/party.js';
import { fromLocal } from '../domain/zoned-time.js';
import { LongLine, MAX_MANIFEST_LINE, manifestLines } from './manifest-lines.js';

/**
 * Where exchanges come from: a folder with `manifest.ndjson`, a ZIP of such a folder, a manifest path, or
 * a plain folder of `.xml` files (no hub metadata: moment = file time, parties from the message header).
 * Reading is streamed: the manifest line by line, the ZIP entry by entry.
 */
export interface ExchangeRef {
  /** The exchange's file as shown: relative to the manifest or folder; in a ZIP `<zip>!<path in the ZIP>`. */
  readonly source: string;
  /**
   * The name that is part of the exchange's identity, when it is not `source`: a ZIP's files are identified as
   * before the ZIP's name was shown (relative to their manifest), so stores made then still recognise them.
   */
  readonly identity?: string;
  /**
   * Exchanges of a plain folder or a ZIP without a manifest, and a manifest's bad lines: the folder or ZIP they
   * were read from (its real path). It names their input problems and the key that settles those, so a file of
   * the same name elsewhere does not settle them, nor is the same bad line of another extract taken for this one.
   */
  readonly place?: string;
  /**
   * A manifest's exchange: how the `ingest.not_in_manifest` item of its file was named while no line named it
   * (the file's path in the manifest's folder or ZIP, and that folder's or ZIP's real path), so the file named
   * at last settles that item.
   */
  readonly unlisted?: Unlisted;
  readonly moment: string | null;
  readonly verzender: string | null;
  readonly ontvanger: string | null;
  readonly hubId: string | null;
  /** A manifest line that cannot be used: quarantined with this code and reason. */
  readonly problem?: { readonly code: string; readonly reason: string; readonly bytes: Buffer };
  /**
   * Such a line (`ingest.manifest_invalid`): the file it names, if any, and how to read it. Its content tells
   * the line's exchange from another under the same hub id, and its name the line that corrects it.
   */
  readonly badLine?: BadLineFile;
  read(): Promise<Buffer>;
}

/** See `ExchangeRef.badLine`: the file (normalised, as a line names it) and a reader where it may be read. */
export interface BadLineFile {
  readonly file: string | null;
  readonly read?: () => Promise<Buffer>;
}

export interface ExchangeSource {
  readonly label: string;
  /** Number of exchanges when known up front (for the progress bar). */
  readonly total: number | undefined;
  exchanges(): AsyncIterable<ExchangeRef>;
  /**
   * A plain folder's folders (`./`, `sub/`, as an item names them) that were read this time: an open item of
   * such a folder (it could not be read, or was a link that was refused) is settled by the run.
   */
  readonly foldersRead?: readonly string[];
  /** A plain folder's real path: `ExchangeRef.place` of its exchanges. */
  readonly place?: string;
  /**
   * Files of a folder or ZIP without a manifest that were not read because their name does not end in `.xml`
   * (an archive or a note dropped beside the messages): the summary names them, so none goes unnoticed.
   */
  readonly notXml?: readonly string[];
  close(): Promise<void>;
}

export const MANIFEST_NAME = 'manifest.ndjson';

/** See `ExchangeRef.unlisted`. */
export interface Unlisted {
  readonly name: string;
  readonly place: string;
}

/** The problems of files that a manifest source holds but does not read (see `unnamedProblem`). */
export const NOT_IN_MANIFEST = 'ingest.not_in_manifest';
export const NESTED_ZIP = 'ingest.nested_zip';
const NOT_IN_MANIFEST_REASON = 'the manifest names no line for this file: it is not read';
const NESTED_ZIP_REASON = 'a ZIP inside the source is not read: ingest it on its own';

/** The problem of a file not read for its place: a `.zip` (never unpacked inside a source) or one no line names. */
function unnamedProblem(name: string): { code: string; reason: string } | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.zip')) return { code: NESTED_ZIP, reason: NESTED_ZIP_REASON };
  if (lower.endsWith('.xml')) return { code: NOT_IN_MANIFEST, reason: NOT_IN_MANIFEST_REASON };
  return undefined;
}

/** An exchange that is only an input problem of the source (no moment, parties or bytes), named by `place`. */
function problemRef(
  source: string,
  identity: string | undefined,
  place: string,
  code: string,
  reason: string,
): ExchangeRef {
  return {
    source,
    identity,
    place,
    moment: null,
    verzender: null,
    ontvanger: null,
    hubId: null,
    problem: { code, reason: `${source}: ${reason}`, bytes: NO_BYTES },
    read: async () => NO_BYTES,
  };
}

// Messages are small files: a synchronous read costs about a quarter of the CPU of fs/promises (which
// makes open, stat, read and close separate thread-pool round trips), and reading is cheap beside parsing.
/** The largest exchange read, as the HTTP feed takes: a bigger file is quarantined unread, not parsed. */
export const MAX_EXCHANGE_BYTES = 20 * 1024 * 1024;

/** The error for a file over MAX_EXCHANGE_BYTES (`code` EFBIG; ingest quarantines it as `ingest.too_large`). */
function tooLarge(name: string, size: number): Error {
  return Object.assign(
    new Error(
      // Grouped digits: a bare run of 9+ digits would be masked as a BSN in the stored reason.
      `ingest.too_large: ${name} has ${size.toLocaleString('en-US')} bytes, more than the ${MAX_EXCHANGE_BYTES.toLocaleString('en-US')} (20 MB) of one exchange`,
    ),
    { code: 'EFBIG' },
  );
}

/**
 * A read that fails for a reason of the input, not of ketendata: the exchange is quarantined with this code and
 * reason (which does not repeat the exchange's name: the caller puts that in front).
 */
export class InputProblem extends Error {
  constructor(
    readonly problemCode: string,
    readonly reason: string,
  ) {
    super(`${problemCode}: ${reason}`);
  }
}

/** What a non-file is, from a stat or a folder entry (both answer these). */
function kindOf(
  s: Pick<Stats, 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket' | 'isDirectory'>,
): string {
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  if (s.isDirectory()) return 'a folder';
  return 'something other than a file';
}

const notAFile = (s: Stats) =>
  new InputProblem('ingest.not_a_file', `is ${kindOf(s)}, not a regular file: only regular files are read`);

/**
 * A regular file (links followed), at most MAX_EXCHANGE_BYTES. Anything else (a FIFO would block forever, a
 * device such as /dev/zero never ends) is refused before it is read, and the cap holds while reading too:
 * a file that grows after its size was looked at is not read past it. With `noFollow` a link is not opened
 * (ELOOP) and the check before opening is left out, to save a system call per file: the caller finds links
 * itself, and the check after opening (non-blocking) still refuses anything but a regular file, unread.
 */
export function readRegularFile(
  path: string | Buffer,
  name = String(path),
  noFollow = false,
  opened?: (fd: number) => void,
): Buffer {
  if (!noFollow) {
    const s = statSync(path);
    if (!s.isFile()) throw notAFile(s);
    if (s.size > MAX_EXCHANGE_BYTES) throw tooLarge(name, s.size);
  }
  // O_NONBLOCK: a FIFO (swapped in after the check, or not checked) does not make open wait for a writer.
  const fd = openSync(
    path,
    constants.O_RDONLY | constants.O_NONBLOCK | (noFollow ? constants.O_NOFOLLOW : 0),
  );
  try {
    opened?.(fd);
    const f = fstatSync(fd);
    if (!f.isFile()) throw notAFile(f);
    if (f.size > MAX_EXCHANGE_BYTES) throw tooLarge(name, f.size);
    const chunks: Buffer[] = [];
    let total = 0;
    // One read for a file of the size it has; one byte more shows whether it grew meanwhile.
    let buf = Buffer.allocUnsafe(Math.min(f.size, MAX_EXCHANGE_BYTES) + 1);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_EXCHANGE_BYTES) throw tooLarge(name, total);
      chunks.push(buf.subarray(0, n));
      // A regular file reads short only at its end: no second read (and buffer) per file.
      if (n < buf.length) break;
      buf = Buffer.allocUnsafe(Math.min(64 * 1024, MAX_EXCHANGE_BYTES + 1 - total));
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** One manifest line: `{"file", "moment", "verzender", "ontvanger", "hubId"?}`. */
export function parseManifestLine(
  line: string,
  where: string,
):
  | { ok: true; file: string; moment: string; verzender: string; ontvanger: string; hubId: string | null }
  | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    // UTF-16 read as UTF-8 puts a NUL beside every ASCII character (and its BOM becomes U+FFFD twice).
    const utf16 = line.includes('\u0000') || line.startsWith('\uFFFD\uFFFD');
    return {
      ok: false,
      reason: utf16
        ? `${where}: not valid JSON: the manifest is not UTF-8 (it looks like UTF-16; save it as UTF-8)`
        : `${where}: not valid JSON`,
    };
  }
  if (typeof v !== 'object' || v === null) return { ok: false, reason: `${where}: not a JSON object` };
  const o = v as Record<string, unknown>;
  for (const f of ['file', 'moment', 'verzender', 'ontvanger'] as const) {
    if (typeof o[f] !== 'string' || o[f] === '')
      return { ok: false, reason: `${where}: field "${f}" missing or not a string` };
  }
  if (o.hubId !== undefined && o.hubId !== null && typeof o.hubId !== 'string') {
    return { ok: false, reason: `${where}: field "hubId" is not a string` };
  }
  const file = o.file as string;
  if (file.startsWith('/') || file.split(/[\\/]/).includes('..')) {
    return { ok: false, reason: `${where}: file "${file}" must be relative to the manifest, without ".."` };
  }
  const moment = o.moment as string;
  const at = parseMoment(moment);
  if (!at) {
    return {
      ok: false,
      reason: looksLikeMoment(moment)
        ? `${where}: moment "${moment}" is no date and time that exists (a day such as 30 February, or an hour past 23)`
        : `${where}: moment "${moment}" is not an ISO-8601 date-time with zone`,
    };
  }
  for (const f of ['verzender', 'ontvanger'] as const) {
    if (!isPartyCode(o[f] as string))
      return { ok: false, reason: `${where}: ${f} "${o[f]}" is not ${PARTY_CODE_RULE}` };
  }
  return {
    ok: true,
    file,
    moment: at.toISOString(),
    verzender: o.verzender as string,
    ontvanger: o.ontvanger as string,
    hubId: (o.hubId as string | undefined) || null,
  };
}

// A line that cannot be used may still name the hub's id of its exchange: it identifies the exchange all the
// same, so the line fixed later settles this one's quarantine item.
function hubIdOf(line: string): string | null {
  try {
    const v: unknown = JSON.parse(line);
    const id = typeof v === 'object' && v !== null ? (v as Record<string, unknown>).hubId : undefined;
    return typeof id === 'string' && id !== '' ? id : null;
  } catch {
    return null;
  }
}

// The file an unusable line names, if it names one: that file is accounted for by the line's item.
function fileOf(line: string): string | null {
  try {
    const v: unknown = JSON.parse(line);
    const f = typeof v === 'object' && v !== null ? (v as Record<string, unknown>).file : undefined;
    return typeof f === 'string' && f !== '' ? f : null;
  } catch {
    return null;
  }
}

function badLine(
  name: Named,
  line: string,
  reason: string,
  readFile: (file: string) => Promise<Buffer>,
): ExchangeRef {
  const bytes = Buffer.from(line);
  const file = fileOf(line);
  const inside = file !== null && !file.startsWith('/') && !file.split(/[\\/]/).includes('..');
  return {
    ...name,
    moment: null,
    verzender: null,
    ontvanger: null,
    hubId: hubIdOf(line),
    problem: { code: 'ingest.manifest_invalid', reason, bytes },
    badLine: {
      file: file === null ? null : posix.normalize(file),
      ...(inside ? { read: () => readFile(file) } : {}),
    },
    read: async () => bytes,
  };
}

/**
 * How a manifest's exchanges are named: shown (`source`) and, where it differs, identified (`identity`); a bad
 * line also by its manifest's folder or ZIP (`place`), so the same line of two extracts is two exchanges.
 */
type Named = {
  readonly source: string;
  readonly identity?: string;
  readonly unlisted?: Unlisted;
  readonly place?: string;
};

interface ManifestNames {
  /** A bad line, by its number. */
  line(n: number): Named;
  /** A line's file, as the line names it. */
  file(file: string): Named;
  /** Called with the file of every line that names one (also an unusable line, where it can be read). */
  seen?(file: string): void;
}

/**
 * The exchanges of one manifest. `manifestName` names it in reasons; by default a bad line's source is
 * `<manifestName>#<line>` and a file's its path relative to the manifest.
 */
async function* manifestRefs(
  lines: AsyncIterable<string | LongLine>,
  manifestName: string,
  read: (file: string) => Promise<Buffer>,
  names: ManifestNames = {
    line: (n) => ({ source: `${manifestName}#${n}` }),
    file: (source) => ({ source }),
  },
): AsyncIterable<ExchangeRef> {
  let n = 0;
  for await (const raw of lines) {
    n++;
    const where = `${manifestName} line ${n}`;
    if (raw instanceof LongLine) {
      const reason = `${where}: the line has ${raw.bytes.toLocaleString('en')} bytes, more than ${MAX_MANIFEST_LINE.toLocaleString('en')} for one manifest line`;
      yield badLine(names.line(n), raw.head, reason, read);
      continue;
    }
    const line = raw.trim();
    if (!line) continue;
    const parsed = parseManifestLine(line, where);
    if (!parsed.ok) {
      if (names.seen) {
        const file = fileOf(line);
        if (file !== null) names.seen(file);
      }
      yield badLine(names.line(n), line, parsed.reason, read);
      continue;
    }
    names.seen?.(parsed.file);
    // Fields named one by one: spreading a name object per line cost more than the rest of the line.
    const named = names.file(parsed.file);
    yield {
      source: named.source,
      identity: named.identity,
      unlisted: named.unlisted,
      moment: parsed.moment,
      verzender: parsed.verzender,
      ontvanger: parsed.ontvanger,
      hubId: parsed.hubId,
      // A line may name a ZIP: it is not unpacked inside a source (as one lying beside the manifest), so
      // it is not read as a message either, which only said it was not valid UTF-8.
      read: parsed.file.toLowerCase().endsWith('.zip')
        ? async () => {
            throw new InputProblem(NESTED_ZIP, NESTED_ZIP_REASON);
          }
        : () => read(parsed.file),
    };
  }
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const line of manifestLines(createReadStream(path)))
    if (line instanceof LongLine || line.trim()) n++;
  return n;
}

async function manifestSource(manifestPath: string): Promise<ExchangeSource> {
  const dir = dirname(manifestPath);
  // One streaming pass to count lines, for the progress bar and the choice of parse workers.
  const total = await countLines(manifestPath);
  const manifestName = basename(manifestPath);
  // The `.xml` and `.zip` files below the manifest's folder, until a line names them: those left when the
  // manifest ends are not read, and each is an item (`ingest.not_in_manifest`, `ingest.nested_zip`). This
  // holds the folder's listing, not the manifest's lines (which can be millions): as much as a plain folder
  // of the same files keeps. Only for `manifest.ndjson` (the folder form): a manifest of another name may
  // share its folder with other manifests, whose files are not this one's to report.
  const place = await realpath(dir);
  const unnamed = manifestName === MANIFEST_NAME ? await unnamedFiles(dir) : new Map<string, string>();
  return {
    label: manifestPath,
    total,
    async *exchanges() {
      const lines = manifestLines(createReadStream(manifestPath));
      const readInside = insideReader(await realpath(dir, { encoding: 'buffer' }));
      const track = unnamed.size > 0;
      yield* manifestRefs(
        lines,
        manifestName,
        async (file) => {
          const path = join(dir, file);
          return readInside(Buffer.from(path), path);
        },
        {
          line: (n) => ({ source: `${manifestName}#${n}`, place }),
          file: (source) =>
            track ? { source, unlisted: { name: posix.normalize(source), place } } : { source },
          seen: track ? (file) => unnamed.delete(posix.normalize(file)) : undefined,
        },
      );
      for (const [name, source] of unnamed) {
        const p = unnamedProblem(name)!;
        yield problemRef(source, name, place, p.code, p.reason);
      }
    },
    close: async () => undefined,
  };
}

/**
 * The `.xml` and `.zip` files below a manifest's folder (the manifest not among them), by their normalised path
 * (as a line names them) → their name as shown.
 */
async function unnamedFiles(dir: string): Promise<Map<string, string>> {
  const { files, notXml } = await listXml(dir, false, false);
  const out = new Map<string, string>();
  // One string for both where the name is normal already (nearly always): a listing of a million files.
  const add = (name: string) => {
    const normal = posix.normalize(name);
    out.set(normal, normal === name ? normal : name);
  };
  for (const f of files) if (!f.source.endsWith('/')) add(f.source);
  for (const n of notXml) if (n.toLowerCase().endsWith('.zip')) add(n);
  return out;
}

/** A file found by walking a folder: its raw path (a name need not be valid UTF-8) and its name as shown. */
interface FoundFile {
  readonly path: Buffer;
  readonly source: string;
  readonly problem?: { readonly code: string; readonly reason: string };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A file name as text: as it is when valid UTF-8, else with each byte outside ASCII written `\xNN`. */
function nameAsText(raw: Buffer): string {
  try {
    return strictUtf8.decode(raw);
  } catch {
    return [...raw]
      .map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
      .join('');
  }
}

const SLASH = Buffer.from('/');

/** The `path` of a file listed by name only (`listXml` without paths). */
const NO_PATH = Buffer.alloc(0);

/**
 * Every `.xml` below `dir`, in name order. Names are read as bytes, so a name that is not valid UTF-8 is still
 * read by its own name; a folder that cannot be read becomes an item of its own and the walk goes on. Without
 * `paths` a plain file's `path` is left empty (the caller wants its name only): a path per file is most of
 * what a listing of many files holds.
 */
async function listXml(
  dir: string,
  zipItems = true,
  paths = true,
): Promise<{ files: FoundFile[]; foldersRead: string[]; notXml: string[] }> {
  const out: FoundFile[] = [];
  const foldersRead: string[] = [];
  const notXml: string[] = [];
  const root = await realpath(dir, { encoding: 'buffer' });
  // Real folders walked (a link to one, a loop or a second way in, has nothing new to read): real folder →
  // whether it could be read. A link to a file the walk listed is known by its folder (`listedByWalk`); the
  // files listed through links are kept by real path, to list each once.
  const walked = new Map<string, boolean>();
  const listedByLink = new Set<string>();
  const listedByWalk = (real: Buffer, isFile: boolean) =>
    isFile &&
    nameAsText(real.subarray(real.lastIndexOf(0x2f) + 1))
      .toLowerCase()
      .endsWith('.xml') &&
    walked.get(real.subarray(0, real.lastIndexOf(0x2f)).toString('latin1')) === true;
  // Links wait until every real folder is walked, so that a file is named by where it really is, whatever
  // order the folder gives its entries in; then they are taken in name order.
  const links: { path: Buffer; name: string; xml: boolean }[] = [];
  const byName = (x: Dirent<Buffer>, y: Dirent<Buffer>) => Buffer.compare(x.name, y.name);
  const walk = async (d: Buffer, rel: string) => {
    const real = await realpath(d, { encoding: 'buffer' }).catch(() => d);
    const seen = walked.get(real.toString('latin1'));
    if (seen !== undefined) {
      // Read under another name (a link to it): its files were listed there.
      if (seen && rel) foldersRead.push(`${rel}/`);
      return;
    }
    walked.set(real.toString('latin1'), false);
    let entries: Dirent<Buffer>[];
    try {
      entries = (await readdir(d, { withFileTypes: true, encoding: 'buffer' })).sort(byName);
    } catch (err) {
      const reason = `the folder cannot be read (${systemErrorText(err)}): the files in it were not ingested`;
      out.push({ path: d, source: `${rel || '.'}/`, problem: { code: 'ingest.unreadable', reason } });
      return;
    }
    walked.set(real.toString('latin1'), true);
    foldersRead.push(`${rel || '.'}/`);
    for (const e of entries) {
      const p = paths || !e.isFile() ? Buffer.concat([d, SLASH, e.name]) : NO_PATH;
      const name = rel ? `${rel}/${nameAsText(e.name)}` : nameAsText(e.name);
      const xml = name.toLowerCase().endsWith('.xml');
      if (e.isDirectory()) await walk(p, name);
      else if (e.isSymbolicLink()) links.push({ path: p, name, xml });
      else if (e.isFile()) {
        if (!xml) {
          // A ZIP inside the folder is not unpacked: an item, so it is not lost (`zipItems`, else in notXml).
          if (zipItems && name.toLowerCase().endsWith('.zip'))
            out.push({ path: p, source: name, problem: { code: NESTED_ZIP, reason: NESTED_ZIP_REASON } });
          else notXml.push(name);
          continue;
        }
        out.push({ path: p, source: name });
      } else if (xml) {
        // A FIFO, device or socket is never opened: opening some devices acts already.
        const reason = `is ${kindOf(e)}, not a regular file: only regular files are read`;
        out.push({ path: p, source: name, problem: { code: 'ingest.not_a_file', reason } });
      }
    }
  };
  await walk(root, '');
  while (links.length > 0) {
    links.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    const { path: p, name, xml } = links.shift()!;
    const to = await linkTarget(root, p);
    if (to.problem) {
      // Any other name is no exchange, unless the link leads to a folder.
      if (xml || to.folder) out.push({ path: p, source: to.folder ? `${name}/` : name, problem: to.problem });
    } else if (to.folder) await walk(p, name);
    else if (xml && !listedByWalk(to.real, to.file) && !listedByLink.has(to.real.toString('latin1'))) {
      out.push({ path: p, source: name });
      listedByLink.add(to.real.toString('latin1'));
    }
  }
  return {
    files: out.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0)),
    foldersRead,
    notXml: notXml.sort(),
  };
}

const isInside = (root: Buffer, real: Buffer) =>
  real.equals(root) ||
  (real.length > root.length && real[root.length] === 0x2f && real.subarray(0, root.length).equals(root));

/**
 * Where a link leads: links are followed only while they stay inside the source folder (a delivered folder
 * must not make ingest read /etc or another client's files); one leading outside or nowhere is an item.
 */
async function linkTarget(
  root: Buffer,
  link: Buffer,
): Promise<{ folder: boolean; file: boolean; real: Buffer; problem?: { code: string; reason: string } }> {
  const real = await realpath(link, { encoding: 'buffer' }).catch((err: unknown) => err as Error);
  if (real instanceof Error)
    return {
      folder: false,
      file: false,
      real: link,
      problem: linkProblem(`is a link that leads nowhere (${systemErrorText(real)})`),
    };
  const s = await stat(real).catch(() => undefined);
  const folder = s?.isDirectory() ?? false;
  const file = s?.isFile() ?? false;
  if (!isInside(root, real))
    return {
      folder,
      file,
      real,
      problem: linkProblem(`is a link to ${nameAsText(real)}, outside the source folder`),
    };
  return { folder, file, real };
}

const linkProblem = (what: string) => ({
  code: 'ingest.link_refused',
  reason: `${what}: only links that stay inside the source folder are followed`,
});

/**
 * Reads files below `root` (a real path), following links only while they stay inside it. Where the opened
 * file really is comes from its descriptor (/proc/self/fd), so a folder swapped for a link while ingest runs
 * leads nowhere else either; a file is opened without following a link, so only a file that is a link costs
 * a real path of its own (one per file cost more than reading it).
 */
function insideReader(root: Buffer): (path: Buffer, name: string) => Buffer {
  const refuseOutside = (real: Buffer) => {
    if (isInside(root, real)) return;
    const p = linkProblem(`leads to ${nameAsText(real)}, outside the source folder`);
    throw new InputProblem(p.code, p.reason);
  };
  return (path, name) => {
    const check = (fd: number) => refuseOutside(openedPath(fd, path));
    try {
      return readRegularFile(path, name, true, check);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err;
    }
    const real = realpathOrLinkProblem(path);
    refuseOutside(real);
    return readRegularFile(real, name, false, check);
  };
}

/** The real path of an open file: from its descriptor where the system tells it (Linux), else from its path. */
function openedPath(fd: number, path: Buffer): Buffer {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
  } catch {
    return realpathOrLinkProblem(path);
  }
}

/** The real path; a link that leads nowhere is an input problem, any other error is thrown as it is. */
function realpathOrLinkProblem(path: Buffer): Buffer {
  try {
    // .native: the JS realpath turns a Buffer path into text, which garbles a name that is not UTF-8.
    return realpathSync.native(path, { encoding: 'buffer' });
  } catch (err) {
    const link = (() => {
      try {
        return lstatSync(path).isSymbolicLink();
      } catch {
        return false;
      }
    })();
    if (link) {
      const p = linkProblem(`is a link that leads nowhere (${systemErrorText(err)})`);
      throw new InputProblem(p.code, p.reason);
    }
    throw err;
  }
}

const SYSTEM_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder',
  EIO: 'input/output error',
  ELOOP: 'too many links',
  ENAMETOOLONG: 'the name is too long',
  ENOENT: 'it does not exist',
  ENOTDIR: 'a part of the path is no folder',
};

/** A system error in words and its code, without the path (the item names it already). */
export function systemErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code) return `${SYSTEM_ERRORS[code] ?? 'system error'}, ${code}`;
  return String((err as Error).message ?? err);
}

function plainFolderSource(
  dir: string,
  place: string,
  files: FoundFile[],
  root?: Buffer,
  foldersRead: readonly string[] = [],
): ExchangeSource {
  const readInside = root ? insideReader(root) : undefined;
  return {
    label: dir,
    total: files.length,
    foldersRead,
    place,
    async *exchanges() {
      for (const f of files) {
        const base = { source: f.source, place, verzender: null, ontvanger: null, hubId: null };
        if (f.problem) {
          yield {
            ...base,
            moment: null,
            problem: { ...f.problem, reason: `${f.source}: ${f.problem.reason}`, bytes: NO_BYTES },
            read: async () => NO_BYTES,
          };
          continue;
        }
        // Gone since the walk (or otherwise unreadable): the read fails and quarantines it, the rest goes on.
        const s = await stat(f.path).catch((err: unknown) => err as Error);
        if (s instanceof Error) {
          yield { ...base, moment: null, read: () => Promise.reject(s) };
          continue;
        }
        const read = async () =>
          readInside ? readInside(f.path, f.source) : readRegularFile(f.path, f.source);
        yield { ...base, moment: s.mtime.toISOString(), read };
      }
    },
    close: async () => undefined,
  };
}

const NO_BYTES = Buffer.alloc(0);

/** The stream's bytes, up to `max`: a ZIP entry can claim a small size and inflate to far more. */
function streamToBuffer(stream: Readable, name = '', max = Number.POSITIVE_INFINITY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        stream.destroy();
        reject(tooLarge(name, size));
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Why a ZIP entry cannot be read, in words: yauzl's and zlib's errors name the fault, not its meaning. */
function unreadableEntry(err: unknown): InputProblem {
  const e = err as NodeJS.ErrnoException;
  const text = String(e?.message ?? err);
  const reason = /encrypted/i.test(text)
    ? 'the entry is encrypted (with a password): it cannot be read'
    : /too many bytes|not enough bytes|size mismatch|overflows file bounds/i.test(text)
      ? `its size does not match the ZIP directory (${text})`
      : e?.code?.startsWith('Z_') ||
          /unexpected end of file|invalid (block|stored|distance|code)|incorrect header/i.test(text)
        ? `its compressed data is corrupt (${e.code ?? 'zlib'}: ${text})`
        : /unsupported compression method/i.test(text)
          ? `it is compressed by a method that cannot be read (${text})`
          : `it cannot be read from the ZIP (${text})`;
  return new InputProblem('ingest.unreadable', reason);
}

/** General purpose bit 11: the entry's name is UTF-8. */
const UTF8_NAME_FLAG = 0x800;

/**
 * A ZIP entry's name. Without the UTF-8 flag the format says CP437, but macOS Archive Utility and other tools
 * write UTF-8 names without setting it: a name that is valid UTF-8 beyond ASCII is read as UTF-8, as unzip and
 * 7-Zip do (CP437 text is seldom valid UTF-8 too). An Info-ZIP Unicode Path field still decides first (yauzl).
 */
function entryName(e: yauzl.Entry): string {
  const raw = e.fileNameRaw;
  let flag = e.generalPurposeBitFlag;
  if ((flag & UTF8_NAME_FLAG) === 0 && raw.some((b) => b >= 0x80)) {
    try {
      strictUtf8.decode(raw);
      flag |= UTF8_NAME_FLAG;
    } catch {
      // Not UTF-8: CP437, as the flag says.
    }
  }
  return yauzl.getFileNameLowLevel(flag, raw, e.extraFields, false);
}

async function zipSource(path: string): Promise<ExchangeSource> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    // Names are decoded here, not by yauzl: it refuses the whole ZIP for one entry named `../x.xml`.
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false }, (err, z) =>
      err
        ? reject(new Error(`ingest.source_unreadable: ${path} is not a readable ZIP (${err.message})`))
        : resolve(z),
    ),
  );
  // Only the central directory is read here (names and offsets); entry contents are streamed on demand.
  // A ZIP may hold several entries of one name: each is kept, in directory order, so none is lost.
  const entries = new Map<string, yauzl.Entry[]>();
  // Entries whose name leads out of the ZIP's folder (`../`, `/abs`): never read, each an item of its own.
  const refused: { name: string; why: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      e.fileName = entryName(e);
      const unsafe = yauzl.validateFileName(e.fileName);
      if (unsafe) {
        const why = unsafe.startsWith('absolute')
          ? 'an absolute path'
          : unsafe.startsWith('invalid relative')
            ? "a path with '..'"
            : 'a name with invalid characters';
        refused.push({ name: e.fileName, why });
      } else if (!e.fileName.endsWith('/')) {
        const same = entries.get(e.fileName);
        if (same) same.push(e);
        else entries.set(e.fileName, [e]);
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  const openStream = (entry: yauzl.Entry) =>
    new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
    );
  const open = (entry: yauzl.Entry) =>
    new Promise<Buffer>((resolve, reject) => {
      const name = `${basename(path)}!${entry.fileName}`;
      if (entry.uncompressedSize > MAX_EXCHANGE_BYTES) {
        reject(tooLarge(name, entry.uncompressedSize));
        return;
      }
      const fail = (e: unknown) =>
        reject((e as NodeJS.ErrnoException).code === 'EFBIG' ? e : unreadableEntry(e));
      zip.openReadStream(entry, (err, s) =>
        err
          ? fail(err)
          : streamToBuffer(s, name, MAX_EXCHANGE_BYTES).then((data) => {
              // yauzl checks no CRC: a flipped bit in a stored entry would be ingested as a different message.
              if (crc32(data) >>> 0 !== entry.crc32 >>> 0) {
                reject(
                  new InputProblem(
                    'ingest.unreadable',
                    `its data does not match the CRC-32 in the ZIP directory: the ZIP is damaged`,
                  ),
                );
              } else resolve(data);
            }, fail),
      );
    });
  // Every manifest in the ZIP (a week per folder, say), each with the files beside it, in path order.
  const manifests = [...entries.keys()]
    .filter((n) => n === MANIFEST_NAME || n.endsWith(`/${MANIFEST_NAME}`))
    .sort()
    .flatMap((n) => entries.get(n)!.map((e, i) => ({ name: n, entry: e, nth: i + 1 })));
  const zipName = basename(path);
  let normalNames: Map<string, yauzl.Entry[]> | undefined;
  const byNormalName = () => {
    if (normalNames === undefined) {
      normalNames = new Map();
      for (const [n, same] of entries) {
        const key = posix.normalize(n);
        normalNames.set(key, [...(normalNames.get(key) ?? []), ...same]);
      }
    }
    return normalNames;
  };
  const place = await realpath(path);
  // An entry named by an absolute path or with `..`: never read, an item of its own.
  const refusedRef = ({ name, why }: { name: string; why: string }) =>
    problemRef(
      `${zipName}!${name}`,
      name,
      place,
      'ingest.entry_refused',
      `the ZIP names this entry by ${why}, which leads outside the ZIP's folder: it is not read`,
    );
  if (manifests.length > 0) {
    // A manifest is streamed twice (count, then read), never held whole: it can have millions of lines.
    const entryLines = async (entry: yauzl.Entry) => manifestLines(await openStream(entry));
    // A damaged manifest entry: which ZIP and entry, and why, not zlib's bare words.
    const unreadableManifest = (entry: yauzl.Entry, err: unknown) =>
      new Error(
        `ingest.source_unreadable: ${zipName}!${entry.fileName.toString()}: ${unreadableEntry(err).reason}`,
      );
    let total = 0;
    for (const { entry } of manifests)
      try {
        for await (const line of await entryLines(entry))
          if (line instanceof LongLine || line.trim()) total++;
      } catch (err) {
        throw unreadableManifest(entry, err);
      }
    // The `.xml` and `.zip` entries, by normalised path, until a line of some manifest names them: those left
    // are not read, each an item. The ZIP's directory is in memory already; this keeps its names once more.
    const unnamed = new Map<string, string[]>();
    for (const [n, same] of entries) {
      if (n === MANIFEST_NAME || n.endsWith(`/${MANIFEST_NAME}`) || !unnamedProblem(n)) continue;
      const key = posix.normalize(n);
      unnamed.set(key, [...(unnamed.get(key) ?? []), ...same.map(() => n)]);
    }
    return {
      label: path,
      total: total + refused.length,
      exchanges: async function* () {
        // In a manifest ZIP too: a manifest cannot name such an entry, so every one is an item.
        for (const r of refused) yield refusedRef(r);
        for (const { name, entry: manifest, nth } of manifests) {
          const base = name.slice(0, -MANIFEST_NAME.length);
          yield* manifestRefs(
            (async function* () {
              try {
                yield* await entryLines(manifest);
              } catch (err) {
                throw unreadableManifest(manifest, err);
              }
            })(),
            `${zipName}!${name}${nth > 1 ? ` (entry ${nth} of that name)` : ''}`,
            async (file) => {
              // As in a folder, where the path is joined: `./berichten/x.xml` names `berichten/x.xml`, also when
              // the ZIP itself names its entries with `./`.
              const found = entries.get(base + file) ?? byNormalName().get(posix.normalize(base + file));
              if (!found) throw new Error(`ingest.file_missing: ${zipName}!${base}${file} is not in the ZIP`);
              // Which of the entries the hub meant cannot be told: guessing could store the wrong message.
              if (found.length > 1)
                throw new InputProblem(
                  'ingest.file_ambiguous',
                  `the ZIP ${zipName} holds ${found.length} entries named ${base}${file}; which one is meant cannot be told`,
                );
              return open(found[0]!);
            },
            {
              // A bad line is identified by its manifest's path in the ZIP (two week folders each with a bad
              // line 6 are two exchanges); a top manifest's lines keep the identity they had before.
              line: (n) => ({
                source: `${zipName}!${name}${nth > 1 ? `(${nth})` : ''}#${n}`,
                identity: `${name}${nth > 1 ? `(${nth})` : ''}#${n}`,
                place,
              }),
              file: (file) => ({
                source: `${zipName}!${base}${file}`,
                identity: file,
                unlisted: { name: posix.normalize(base + file), place },
              }),
              seen: (file) => unnamed.delete(posix.normalize(base + file)),
            },
          );
        }
        for (const [key, names] of unnamed)
          for (const [i, n] of names.entries()) {
            const p = unnamedProblem(n)!;
            // Entries of one name told apart by their place, the last keeping the name (as without a manifest).
            const nth = i === names.length - 1 ? '' : `#${i + 1}`;
            yield problemRef(`${zipName}!${n}${nth}`, `${key}${nth}`, place, p.code, p.reason);
          }
      },
      close: async () => zip.close(),
    };
  }
  // Entries of one name are told apart by their place, the last keeping the name (`dup.xml#1`, `dup.xml`): the
  // one read under that name before entries of one name were all read, so a re-run still finds it.
  const xml = [...entries.entries()]
    .filter(([n]) => n.toLowerCase().endsWith('.xml'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([n, same]) => same.map((e, i) => ({ source: i === same.length - 1 ? n : `${n}#${i + 1}`, e })));
  const isXmlOrZip = (n: string) => /\.(xml|zip)$/i.test(n);
  const refusedXml = refused.filter((r) => isXmlOrZip(r.name));
  // A ZIP inside the ZIP is not unpacked: each is an item, so it is not lost.
  const nested = [...entries.entries()]
    .filter(([n]) => n.toLowerCase().endsWith('.zip'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([n, same]) => same.map((_, i) => (i === same.length - 1 ? n : `${n}#${i + 1}`)));
  const notXml = [...entries.keys(), ...refused.map((r) => r.name)].filter((n) => !isXmlOrZip(n)).sort();
  return {
    label: path,
    total: xml.length + refusedXml.length + nested.length,
    notXml,
    async *exchanges() {
      for (const r of refusedXml) yield refusedRef(r);
      for (const n of nested) yield problemRef(`${zipName}!${n}`, n, place, NESTED_ZIP, NESTED_ZIP_REASON);
      for (const { source, e } of xml) {
        yield {
          source: `${zipName}!${source}`,
          identity: source,
          place,
          moment: entryMoment(e),
          verzender: null,
          ontvanger: null,
          hubId: null,
          read: () => open(e),
        };
      }
    },
    close: async () => zip.close(),
  };
}

/** A file name a manifest may have been given by mistake: `manifest.*`, or JSON lines (`.ndjson`, `.jsonl`). */
const looksLikeManifest = (name: string): boolean =>
  /(^|\/)manifest[^/]*$/i.test(name) || /\.(ndjson|jsonl)$/i.test(name);

/**
 * Opens a folder, a ZIP or a manifest file. A folder or ZIP read without a manifest that holds what looks like
 * one (misnamed, or a folder's in its subfolders) is refused before anything is read, unless `withoutManifest`:
 * read by the files' own times it would get no hub ids, and the hub's manifest ingested after that would count
 * every message twice (its passages have other keys).
 */
export async function openSource(
  path: string,
  opts: { readonly withoutManifest?: boolean } = {},
): Promise<ExchangeSource> {
  const source = await openAnySource(path);
  const manifestLike = opts.withoutManifest ? [] : (source.notXml ?? []).filter(looksLikeManifest);
  if (manifestLike.length === 0) return source;
  await source.close();
  const named = `${manifestLike.slice(0, 3).join(', ')}${manifestLike.length > 3 ? ', …' : ''}`;
  // A folder per week, each with its manifest (and a ground-truth.ndjson beside it, say).
  const nested = manifestLike.some((n) => n.endsWith(`/${MANIFEST_NAME}`));
  throw new Error(
    `ingest.manifest_misnamed: ${path} has no ${MANIFEST_NAME} of its own, but ${named} ${manifestLike.length === 1 ? 'looks' : 'look'} like one: ` +
      (nested
        ? `a folder's manifests in subfolders are not read: ingest each subfolder on its own (or a ZIP of the folder, which reads every ${MANIFEST_NAME} in it). `
        : `if it is the hub's manifest, name it ${MANIFEST_NAME} and ingest again. `) +
      `Nothing was read. To read the .xml files without a manifest (moments from the files' own times, no hub ids), add --without-manifest`,
  );
}

async function openAnySource(path: string): Promise<ExchangeSource> {
  const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
    // Only a path that is not there is missing: a link loop or a denied folder on the way is unreadable.
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw new Error(`ingest.source_unreadable: ${path} cannot be read (${systemErrorText(err)})`);
  });
  if (!s) throw new Error(`ingest.source_missing: ${path} does not exist`);
  if (s.isDirectory()) {
    const manifest = join(path, MANIFEST_NAME);
    const m = await stat(manifest).catch(() => undefined);
    if (m && !m.isFile())
      throw new Error(`ingest.source_unreadable: ${manifest} is ${kindOf(m)}, not a regular file`);
    if (m) return manifestSource(manifest);
    const { files, foldersRead, notXml } = await listXml(path);
    return {
      ...plainFolderSource(
        path,
        await realpath(path),
        files,
        await realpath(path, { encoding: 'buffer' }),
        foldersRead,
      ),
      notXml,
    };
  }
  const lower = path.toLowerCase();
  // A manifest or ZIP that is a FIFO or device would block or never end: only a regular file is opened.
  if (!s.isFile() && !lower.endsWith('.xml'))
    throw new Error(`ingest.source_unreadable: ${path} is ${kindOf(s)}, not a regular file`);
  if (path.toLowerCase().endsWith('.zip')) return zipSource(path);
  if (path.toLowerCase().endsWith('.ndjson') || path.toLowerCase().endsWith('.jsonl'))
    return manifestSource(path);
  if (path.toLowerCase().endsWith('.xml'))
    return plainFolderSource(dirname(path), await realpath(dirname(path)), [
      { path: Buffer.from(path), source: basename(path) },
    ]);
  throw new Error(`ingest.source_unknown: ${path} is not a folder, a .zip or a manifest (.ndjson)`);
}

/**
 * When a ZIP entry was last changed. An Info-ZIP (UT) or NTFS extra field holds the instant. Without one the
 * entry has only its DOS time, a wall-clock reading without a zone: it is read as Dutch time, where the hub's
 * extracts are made, not in the zone of the machine that ingests (the moment is part of the exchange key, so
 * the same ZIP must give the same moments on any machine).
 */
function entryMoment(e: yauzl.Entry): string {
  const hasInstant = e.extraFields.some(
    (f) =>
      (f.id === 0x5455 && f.data.length >= 5 && ((f.data[0] as number) & 1) === 1) ||
      (f.id === 0x000a &&
        f.data.length === 32 &&
        f.data.readUInt16LE(4) === 1 &&
        f.data.readUInt16LE(6) === 24),
  );
  if (hasInstant) return e.getLastModDate().toISOString();
  const wall = e.getLastModDate({ forceDosFormat: true, timezone: 'UTC' });
  return fromLocal(
    {
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds(),
    },
    DELIVERY_TIME_ZONE,
  ).toISOString();
}
