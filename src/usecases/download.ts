import { createReadStream } from 'node:fs';
import { copyFile, type FileHandle, mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { ZipFile } from 'yazl';
import { DELIVERY_TIME_ZONE } from '../domain/delivery-week.js';
import { localIsoDay } from '../domain/zoned-time.js';
import { audit } from '../store/audit.js';
import {
  type Delivery,
  getDelivery,
  listDeliveryRows,
  markDeleted,
  recordDownload,
} from '../store/deliveries.js';
import type { Store } from '../store/open.js';
import { isExpired } from './deliveries.js';
import { DeliveryError } from './deliveries-errors.js';
import { requireOrganisation } from './organisations.js';

export interface FileDeps {
  readonly store: Store;
  readonly dataDir: string;
}

interface Who {
  readonly organisation: string;
  /** Login name of the user (or `cli:<user>`); recorded as first downloader and in the audit log. */
  readonly actor: string;
  readonly now: Date;
}

async function requireOwn(deps: FileDeps, who: Who, id: number): Promise<Delivery> {
  const d = await getDelivery(deps.store.db, id);
  if (!d || (d.organisation === who.organisation && isExpired(d, who.now)))
    throw new DeliveryError('delivery.not_found', `delivery ${id} does not exist (or expired)`);
  // The same answer as for a missing one would hide existence; the id is no secret, the data is.
  if (d.organisation !== who.organisation) {
    throw new DeliveryError('delivery.forbidden', `delivery ${id} belongs to another organisation`);
  }
  if (d.deletedAt)
    throw new DeliveryError('delivery.deleted', `delivery ${id} was deleted on ${d.deletedAt}`);
  if (Date.parse(d.availableAt) > who.now.getTime()) {
    throw new DeliveryError('delivery.not_ready', `delivery ${id} is ready from ${d.availableAt}`);
  }
  return d;
}

const fileMissing = (d: Delivery) =>
  new DeliveryError('delivery.file_missing', `delivery ${d.id}: its file ${d.fileName} is missing on disk`);

async function requireFile(deps: FileDeps, d: Delivery): Promise<string> {
  const path = join(deps.dataDir, d.file);
  try {
    await stat(path);
  } catch {
    throw fileMissing(d);
  }
  return path;
}

/**
 * A download on its way: the bytes, and the call that counts it. Reading the stream records nothing: the
 * caller calls `recordDownloaded` once the whole stream has been delivered — the HTTP layer when the response
 * has been handed to the operating system whole, another caller once it has written everything — so a
 * transfer the server could not finish is no download and "all new files" offers the file again. (One the
 * client broke off after that, the rest still in socket buffers, is counted: the server cannot know.)
 *
 * The stream fails (is destroyed with a DeliveryError naming the delivery) when a file cannot be read to its
 * end, e.g. one deleted before a bundle reached it; that is never an unhandled 'error' event. Destroying the
 * stream (a transfer broken off, a body never read) closes the files it holds open.
 */
export interface Transfer {
  readonly stream: Readable;
  /**
   * Records the download (first downloader, audit line). Refused, recording nothing, unless the stream was
   * read to its end without error — for one file, all of its bytes taken by the reader, even when the reader
   * stopped before the stream could tell its end; a second call records nothing more.
   */
  recordDownloaded(): Promise<void>;
}

/** The error a transfer fails with when a delivery's file cannot be read on. */
function unreadable(d: Delivery, err: unknown): DeliveryError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT'
    ? new DeliveryError(
        'delivery.file_missing',
        `delivery ${d.id}: its file ${d.fileName} disappeared from disk while it was being sent`,
      )
    : new DeliveryError(
        'delivery.file_unreadable',
        `delivery ${d.id}: its file ${d.fileName} could not be read (${code ?? String(err)})`,
      );
}

/**
 * Passes bytes on, counting those its reader took. A client that got all the bytes of the Content-Length hangs
 * up at once, and the server then stops the body before the file has reported its end (one more read of it).
 */
function counted(): { readonly stream: Transform; taken(): number } {
  let passed = 0;
  let unread: number | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      passed += chunk.length;
      done(null, chunk);
    },
    destroy(err, done) {
      unread = this.readableLength; // what a stream destroyed still holds is no more its reader's to take
      done(err);
    },
  });
  return { stream, taken: () => passed - (unread ?? stream.readableLength) };
}

/** `whole`: whether the reader took all there is to send, when that is known before the end. */
function transfer(
  stream: Readable,
  files: readonly Readable[],
  onRecord: () => Promise<void>,
  whole: () => boolean = () => false,
): Transfer {
  let ended = false;
  let recording: Promise<void> | undefined;
  stream.once('end', () => {
    ended = true;
  });
  // Whoever reads the stream sees its error (pipeline, async iteration, 'error' listeners); nobody listening
  // is no reason to take the process down.
  stream.on('error', () => {});
  stream.once('close', () => {
    for (const f of files) f.destroy();
  });
  return {
    stream,
    recordDownloaded() {
      if (!(ended || whole()) || stream.errored) {
        return Promise.reject(
          new Error('download.not_sent: a download is recorded only after its stream was read to its end'),
        );
      }
      recording ??= onRecord();
      return recording;
    },
  };
}

async function record(deps: FileDeps, who: Who, d: Delivery, via: string): Promise<void> {
  await deps.store.db.transaction().execute(async (trx) => {
    await recordDownload(trx, d.id, who.now, who.actor);
    await audit(trx, {
      at: who.now,
      actor: who.actor,
      organisation: who.organisation,
      action: 'delivery.download',
      detail: { id: d.id, file: d.fileName, via },
    });
  });
}

/**
 * What a download of one delivery would send, without opening its file or counting a download (HTTP HEAD);
 * refused as `openDelivery` would be.
 */
export async function describeDelivery(
  deps: FileDeps,
  who: Omit<Who, 'actor'> & { readonly id: number },
): Promise<{ readonly delivery: Delivery; readonly fileName: string; readonly size: number }> {
  const d = await requireOwn(deps, { ...who, actor: '' }, who.id);
  await requireFile(deps, d);
  return { delivery: d, fileName: d.fileName, size: d.size };
}

/**
 * Opens one delivery's ZIP for download (`recordDownloaded` counts it: first downloader, audit line). The file
 * is open when this returns, so one deleted meanwhile is still sent whole; one already gone is refused with
 * `delivery.file_missing`.
 */
export async function openDelivery(
  deps: FileDeps,
  who: Who & {
    readonly id: number;
    /** Only these bytes (inclusive), to resume a download broken off (HTTP `Range`). */
    readonly range?: ByteRange | undefined;
  },
): Promise<
  Transfer & {
    readonly delivery: Delivery;
    readonly fileName: string;
    readonly size: number;
  }
> {
  const d = await requireOwn(deps, who, who.id);
  const range = who.range;
  if (range && !(range.start >= 0 && range.start <= range.end && range.end < d.size))
    throw new DeliveryError(
      'delivery.range_not_satisfiable',
      `delivery ${d.id}: bytes ${range.start}-${range.end} lie outside its ${d.size} bytes`,
    );
  let handle: FileHandle;
  try {
    handle = await open(join(deps.dataDir, d.file), 'r');
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? fileMissing(d) : err;
  }
  const file = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  const { stream, taken } = counted();
  file.pipe(stream);
  file.on('error', (err) => stream.destroy(unreadable(d, err)));
  const length = range ? range.end - range.start + 1 : d.size;
  // Only the whole file (however asked for), or the rest of it as a resumed download asks (`bytes=N-`), counts;
  // a range that merely reads the end (a ZIP tool's `bytes=-22`, a closed `bytes=a-b`) leaves the file new.
  const completes = !range || (range.end === d.size - 1 && (range.toEnd === true || range.start === 0));
  return {
    delivery: d,
    fileName: d.fileName,
    size: d.size,
    ...transfer(
      stream,
      [file],
      () => (completes ? record(deps, who, d, range ? 'range' : 'single') : Promise.resolve()),
      () => taken() >= length,
    ),
  };
}

/** Bytes `start` to `end` of a file, both included. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
  /** Asked for as "from `start` to the end" (`bytes=N-`): a resumed download, which counts as one. */
  readonly toEnd?: boolean;
}

/** Ready, not deleted and never downloaded: what "alle nieuwe bestanden" fetches. */
async function notYetDownloaded(deps: FileDeps, who: Who): Promise<Delivery[]> {
  return (await listDeliveryRows(deps.store.db, who.organisation))
    .filter(
      (d) =>
        !d.deletedAt &&
        !d.firstDownloadedAt &&
        !isExpired(d, who.now) &&
        Date.parse(d.availableAt) <= who.now.getTime(),
    )
    .reverse();
}

/**
 * All deliveries not downloaded yet as one ZIP (the delivery ZIPs stored as entries, not recompressed),
 * streamed; `recordDownloaded` records each of them once the whole ZIP has been delivered. `deliveries` is
 * empty when there is nothing new. A delivery whose file is missing on disk (a fault on the server) is left
 * out and named in `missing`, so it does not hold back the others; it stays new. The files are opened one
 * after the other as the ZIP reaches them: one that disappears before that (retention, a colleague's
 * deletion) fails the whole stream with `delivery.file_missing` naming it, and nothing is recorded.
 */
export async function bundleNotDownloaded(
  deps: FileDeps,
  who: Who,
): Promise<
  Transfer & {
    readonly deliveries: readonly Delivery[];
    readonly missing: readonly Delivery[];
    readonly fileName: string;
  }
> {
  const found: { delivery: Delivery; path: string }[] = [];
  const missing: Delivery[] = [];
  for (const d of await notYetDownloaded(deps, who)) {
    try {
      found.push({ delivery: d, path: await requireFile(deps, d) });
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      missing.push(d);
    }
  }
  // Only missing files: nothing to send, and the fault is the server's.
  if (found.length === 0 && missing.length > 0) throw fileMissing(missing[0]!);
  const zip = new ZipFile();
  const stream = zip.outputStream as Readable; // a PassThrough; typed as the old NodeJS.ReadableStream
  const opened: Readable[] = [];
  // yazl reports a failed entry as an 'error' on the ZipFile; the ZIP cannot be finished then.
  zip.on('error', (err) => stream.destroy(err));
  for (const { delivery: d, path } of found) {
    zip.addReadStreamLazy(d.fileName, { mtime: new Date(d.madeAt), compress: false }, (cb) => {
      const file = createReadStream(path);
      opened.push(file);
      if (stream.destroyed) file.destroy();
      file.on('error', (err) => stream.destroy(unreadable(d, err)));
      cb(null, file);
    });
  }
  zip.end();
  const deliveries = found.map((f) => f.delivery);
  // The day as the user sees it: at 00:30 on Monday in Amsterdam the UTC date is still Sunday's.
  const day = localIsoDay(who.now, DELIVERY_TIME_ZONE);
  return {
    deliveries,
    missing,
    fileName: `ketendata-${who.organisation}-nieuw-${day}.zip`,
    ...transfer(stream, opened, async () => {
      for (const d of deliveries) await record(deps, who, d, 'bundle');
    }),
  };
}

/**
 * Deletes selected deliveries' files ahead of retention. Only downloaded ones: a file nobody fetched is
 * not thrown away by a stray click. The listing stays (marked deleted) until it expires.
 */
export async function deleteDeliveries(
  deps: FileDeps,
  who: Who & { readonly ids: readonly number[] },
): Promise<readonly Delivery[]> {
  const list: Delivery[] = [];
  for (const id of who.ids) {
    const d = await getDelivery(deps.store.db, id);
    if (!d) throw new DeliveryError('delivery.not_found', `delivery ${id} does not exist (or expired)`);
    if (d.organisation !== who.organisation) {
      throw new DeliveryError('delivery.forbidden', `delivery ${id} belongs to another organisation`);
    }
    if (!d.firstDownloadedAt) {
      throw new DeliveryError(
        'delivery.not_downloaded',
        `delivery ${id} was never downloaded: download it first`,
      );
    }
    if (!d.deletedAt) list.push(d);
  }
  for (const d of list) {
    await rm(join(deps.dataDir, d.file), { force: true });
    await deps.store.db.transaction().execute(async (trx) => {
      if (await markDeleted(trx, d.id, who.now, who.actor)) {
        await audit(trx, {
          at: who.now,
          actor: who.actor,
          organisation: who.organisation,
          action: 'delivery.delete',
          detail: { id: d.id, file: d.fileName },
        });
      }
    });
  }
  return list;
}

/**
 * `ketendata download`: copies an organisation's ready deliveries (only the never downloaded ones with
 * `onlyNew`) into a folder, recording each as a download. A delivery whose file is missing on disk is left
 * out and named in `missing` (its DeliveryError), as in `bundleNotDownloaded`, so it does not hold back
 * the others; it is not recorded as downloaded.
 */
export async function downloadToFolder(
  deps: FileDeps,
  who: Who & { readonly outDir: string; readonly onlyNew: boolean },
): Promise<{
  readonly copied: readonly { readonly delivery: Delivery; readonly path: string }[];
  readonly missing: readonly DeliveryError[];
}> {
  await requireOrganisation(deps.store, who.organisation);
  const list = who.onlyNew
    ? await notYetDownloaded(deps, who)
    : (await listDeliveryRows(deps.store.db, who.organisation))
        .filter(
          (d) => !d.deletedAt && !isExpired(d, who.now) && Date.parse(d.availableAt) <= who.now.getTime(),
        )
        .reverse();
  await mkdir(who.outDir, { recursive: true });
  const copied: { delivery: Delivery; path: string }[] = [];
  const missing: DeliveryError[] = [];
  for (const d of list) {
    let src: string;
    try {
      src = await requireFile(deps, d);
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      missing.push(err);
      continue;
    }
    const dest = join(who.outDir, d.fileName);
    try {
      await copyFile(src, dest);
    } catch (err) {
      // Deleted (by a user, or retention) since requireFile saw it: named like one missing from the start.
      const gone =
        (err as NodeJS.ErrnoException).code === 'ENOENT' && !(await stat(src).catch(() => undefined));
      // copyFile fails before it creates dest: a file of that name from an earlier download stays.
      if (!gone) throw err;
      missing.push(fileMissing(d));
      continue;
    }
    await record(deps, who, d, 'cli');
    copied.push({ delivery: d, path: dest });
  }
  return { copied, missing };
}
