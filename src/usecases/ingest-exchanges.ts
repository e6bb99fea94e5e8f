import { availableParallelism } from 'node:os';
import { count } from '../domain/plural.js';
import type { Keys } from '../pseudonymise/keys.js';
import {
  ALREADY_STORED,
  type BatchResult,
  type ExchangeOutcome,
  finishRun,
  isBadLineDigest,
  isKnownBadLine,
  knownExchangeKeys,
  type PreparedExchange,
  settleFolderProblems,
  startRun,
  writeExchangeBatch,
} from '../store/ingest-repository.js';
import type { Store } from '../store/open.js';
import { ParsePool } from './ingest-pool.js';
import {
  badLineDigest,
  exchangeDigest,
  exchangeKey,
  type Parse,
  prepareExchange,
  type ReceivedExchange,
} from './ingest-prepare.js';
import {
  type BadLineFile,
  type ExchangeRef,
  type ExchangeSource,
  InputProblem,
  systemErrorText,
} from './ingest-sources.js';
import { linkInBatch } from './link-batch.js';

export interface IngestDeps {
  readonly store: Store;
  readonly keys: Keys;
  readonly now: () => Date;
  readonly parse?: Parse;
}

/** Every exchange in is accounted for: received = stored + duplicates + quarantined + skipped. */
export interface IngestSummary {
  runId: number;
  received: number;
  /** New messages, conflicts included. */
  stored: number;
  duplicates: number;
  /** Of `stored`: new versions of a message key already seen with other content. */
  conflicts: number;
  quarantined: number;
  /** Already in the store from an earlier run: nothing added. */
  skipped: number;
  quarantinedByReason: Record<string, number>;
  /** Open items of a plain folder's folders this run could read, now settled (absent: none). */
  settledFolders?: number;
  /** Files of a folder or ZIP without a manifest not read for their name (not `.xml`): how many, the first few. */
  notXml?: { readonly count: number; readonly first: readonly string[] };
  /** Exchanges whose hub moment is more than FUTURE_MARGIN_MS after the run's now, and the latest of them. */
  futureMoments?: { count: number; latest: string };
}

/** A quarantined exchange, reported once its batch is written: the item that keeps it, its file and reason. */
export interface QuarantinedExchange {
  /** The quarantine item (`quarantine list`, `retry`, `dismiss`). */
  readonly id: number;
  /** The file, as the source names it (`<zip>!<entry>` in a ZIP). */
  readonly source: string;
  readonly reasonCode: string;
  /** As stored: for a message that cannot be parsed the parser's error line (file, message type, element, rule). */
  readonly reason: string;
}

/** A conflict, reported once its batch is written: stored as a new version beside an earlier one. */
export interface ConflictingExchange {
  readonly source: string;
  /** Message code (`JW315`) and BerichtIdentificatie/Identificatie. */
  readonly code: string;
  readonly identificatie: string;
  /** The new version's seq, and the latest earlier version's. */
  readonly seq: number;
  readonly earlierSeq: number;
}

/** Who hears about single exchanges as their batch is written (the CLI names each on stderr). */
export interface ItemReports {
  readonly onQuarantined?: (item: QuarantinedExchange) => void;
  readonly onConflict?: (item: ConflictingExchange) => void;
}

/** Reports the quarantined and conflicting exchanges of a written batch, in input order. */
export function reportItems(
  prepared: readonly PreparedExchange[],
  result: BatchResult,
  reports: ItemReports,
): void {
  if (!reports.onQuarantined && !reports.onConflict) return;
  result.outcomes.forEach((o, i) => {
    const p = prepared[i]!;
    if (o === 'quarantined' && p.kind === 'quarantine') {
      const id = result.quarantineIds[i];
      if (id !== undefined)
        reports.onQuarantined?.({
          id,
          source: p.exchange.source,
          reasonCode: p.reason_code,
          reason: p.reason,
        });
    } else if (o === 'conflict' && p.kind === 'message') {
      const seq = result.seqs[i];
      const earlierSeq = result.conflictWith[i];
      if (seq !== undefined && earlierSeq !== undefined)
        reports.onConflict?.({
          source: p.exchange.source,
          code: p.message.code,
          identificatie: p.message.identificatie,
          seq,
          earlierSeq,
        });
    }
  });
}

/**
 * The parse workers `ketendata ingest` starts when not told (`--workers`): none for a small input (their
 * start-up, a schema compile each, only pays off on larger ones), else one per core beyond the writing
 * thread, at most 3 (the writer is then the bottleneck).
 */
export function defaultParseWorkers(exchanges: number | undefined, cores = availableParallelism()): number {
  return (exchanges ?? Number.POSITIVE_INFINITY) >= 5000 ? Math.min(Math.max(cores - 1, 0), 3) : 0;
}

export interface IngestOptions extends ItemReports {
  /** Exchanges per transaction. */
  readonly batchSize?: number;
  /** Raw bytes per batch: a batch ends at `batchSize` exchanges or about this many bytes, whichever comes first. */
  readonly batchBytes?: number;
  readonly onProgress?: (done: number, summary: Readonly<IngestSummary>) => void;
  /** Parse worker threads (0: parse on this thread). Results are the same for any number. */
  readonly workers?: number;
  /**
   * Link each batch in the transaction that stores it (default). `false` for a bulk load that links
   * afterwards with `linkPending` (which also catches up any batch left unlinked).
   */
  readonly link?: boolean;
  /**
   * Checked between batches: once aborted, the batch being written is the last (each is one transaction, so
   * a re-run continues), the batches prepared ahead are dropped and nothing more is read.
   */
  readonly signal?: AbortSignal;
}

export const emptySummary = (runId: number): IngestSummary => ({
  runId,
  received: 0,
  stored: 0,
  duplicates: 0,
  conflicts: 0,
  quarantined: 0,
  skipped: 0,
  quarantinedByReason: {},
});

export function addResult(summary: IngestSummary, result: BatchResult, counted: boolean): void {
  result.outcomes.forEach((o, i) => {
    if (counted) summary.received++;
    if (o === 'stored') summary.stored++;
    else if (o === 'conflict') {
      summary.stored++;
      summary.conflicts++;
    } else if (o === 'duplicate') summary.duplicates++;
    else if (o === 'skipped') summary.skipped++;
    else {
      summary.quarantined++;
      const r = result.quarantineReasons[i] ?? 'unknown';
      summary.quarantinedByReason[r] = (summary.quarantinedByReason[r] ?? 0) + 1;
    }
  });
}

const READ_CONCURRENCY = 16;

/**
 * A batch is read whole before it is parsed and written, and with workers a few batches are in flight: so a
 * batch is capped by raw bytes as well as by count, or memory would grow with batch size times message size
 * (a thousand messages of 19 MB each). 64 MB keeps a run's peak well under a gigabyte.
 */
export const DEFAULT_BATCH_BYTES = 64 * 1024 * 1024;

/** Batches prepared by the workers ahead of the one being written: enough to keep them busy meanwhile. */
const PREPARED_AHEAD = 2;

/** An exchange of a plain folder or ZIP, without a manifest: no parties, its moment the file time. */
const isPlainSource = (ex: { readonly verzender: string | null; readonly ontvanger: string | null }) =>
  ex.verzender === null && ex.ontvanger === null;

/** How far after the run's now a hub moment may be (clocks drift a little) before it is called wrong. */
export const FUTURE_MARGIN_MS = 60 * 60 * 1000;

/** A hub moment after `now` by more than the margin: a wrong clock at the hub or a mistyped manifest. */
const isAfter = (moment: string, now: Date): boolean => Date.parse(moment) > now.getTime() + FUTURE_MARGIN_MS;

/** A plain source's file time is no hub moment and is not judged. */
const isFutureMoment = (ex: ReceivedExchange, now: Date): boolean =>
  ex.moment !== null && !isPlainSource(ex) && isAfter(ex.moment, now);

/** A moment as stored (`toISOString`), without the zero milliseconds a manifest rarely has. */
const shownMoment = (moment: string) => moment.replace(/\.000Z$/, 'Z');

function noteFutureMoments(summary: IngestSummary, batch: readonly ReceivedExchange[], now: Date): void {
  for (const ex of batch) {
    if (!isFutureMoment(ex, now)) continue;
    const moment = ex.moment!;
    const seen = summary.futureMoments;
    if (!seen) summary.futureMoments = { count: 1, latest: moment };
    else {
      seen.count++;
      if (Date.parse(moment) > Date.parse(seen.latest)) seen.latest = moment;
    }
  }
}

async function readAll(refs: readonly ExchangeRef[]): Promise<ReceivedExchange[]> {
  const out: ReceivedExchange[] = new Array(refs.length);
  let next = 0;
  const worker = async () => {
    while (next < refs.length) {
      const i = next++;
      const ref = refs[i]!;
      const base = {
        source: ref.source,
        identity: ref.identity,
        place: ref.place,
        unlisted: ref.unlisted,
        moment: ref.moment,
        verzender: ref.verzender,
        ontvanger: ref.ontvanger,
        hubId: ref.hubId,
      };
      if (ref.problem) {
        out[i] = {
          ...base,
          bytes: ref.problem.bytes,
          problem: ref.problem,
          ...(ref.badLine ? { badLine: await readBadLineFile(ref.badLine) } : {}),
        };
        continue;
      }
      try {
        out[i] = { ...base, bytes: await ref.read() };
      } catch (err) {
        // Without a manifest (no parties) a file's moment is its file time, which a fix changes (a smaller
        // file written, or not): its problem item is named without it, so the fixed file settles it by name.
        const failed = {
          ...base,
          moment: isPlainSource(ref) ? null : ref.moment,
          bytes: Buffer.alloc(0),
        };
        if (err instanceof InputProblem) {
          out[i] = { ...failed, problem: { code: err.problemCode, reason: `${ref.source}: ${err.reason}` } };
          continue;
        }
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EFBIG') {
          // Too big to be one message: kept out unread (as over HTTP), the rest of the source goes on.
          const reason = (err as Error).message.replace(/^ingest\.too_large: /, '');
          out[i] = { ...failed, problem: { code: 'ingest.too_large', reason } };
          continue;
        }
        const missing = code === 'ENOENT' || String(err).includes('ingest.file_missing');
        // A file that is there but cannot be read (EACCES, EISDIR, EIO) is not missing: say what is wrong.
        const problem = missing
          ? { code: 'ingest.file_missing', reason: `${ref.source}: file not found` }
          : {
              code: 'ingest.unreadable',
              reason: `${ref.source}: it cannot be read (${systemErrorText(err)})`,
            };
        out[i] = { ...failed, problem };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, refs.length) }, worker));
  return out;
}

/**
 * The file a bad manifest line names, read where it can be: its content tells the line's exchange from another
 * under the same hub id. One that cannot be read (missing, too big, not a file) is told by the line itself.
 */
async function readBadLineFile(line: BadLineFile): Promise<NonNullable<ReceivedExchange['badLine']>> {
  const content = line.read ? await line.read().catch(() => null) : null;
  return { file: line.file, content };
}

/**
 * The source's exchanges read into batches of at most `maxCount` exchanges and about `maxBytes` raw bytes.
 * Up to READ_CONCURRENCY are read at a time, fewer as the largest exchange seen so far would overrun the
 * byte cap: a batch ends at most one group past it, and a group holds one exchange once they are big.
 */
async function* readBatches(
  source: ExchangeSource,
  maxCount: number,
  maxBytes: number,
): AsyncIterable<ReceivedExchange[]> {
  const refs = source.exchanges()[Symbol.asyncIterator]();
  let batch: ReceivedExchange[] = [];
  let bytes = 0;
  let largest = 0;
  let ended = false;
  while (!ended) {
    const room = Math.min(
      READ_CONCURRENCY,
      maxCount - batch.length,
      // The first exchange alone: until one size is known, 16 at once could be 16 × 20 MB.
      largest > 0 ? Math.max(1, Math.floor((maxBytes - bytes) / largest)) : 1,
    );
    const group: ExchangeRef[] = [];
    while (group.length < room) {
      const next = await refs.next();
      if (next.done) {
        ended = true;
        break;
      }
      group.push(next.value);
    }
    for (const ex of await readAll(group)) {
      batch.push(ex);
      const size = ex.bytes.length + (ex.badLine?.content?.length ?? 0);
      bytes += size;
      largest = Math.max(largest, size);
    }
    if (batch.length > 0 && (batch.length >= maxCount || bytes >= maxBytes || ended)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
}

/**
 * Ingests every exchange of a source in batches, one transaction each. Exchanges already stored are
 * recognised by their exchange key and not parsed again, so a re-run (also after a crash) adds nothing;
 * only an exchange quarantined for its input (missing file, unusable manifest line) is taken up again once
 * that input is fixed.
 */
export async function ingestSource(
  deps: IngestDeps,
  source: ExchangeSource,
  options: IngestOptions = {},
): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? 1000;
  const startedAt = deps.now().toISOString();
  const runId = await startRun(deps.store, source.label, startedAt);
  const summary = emptySummary(runId);
  const workers = deps.parse ? 0 : (options.workers ?? 0);
  const pool = workers > 0 ? new ParsePool(workers, deps.keys, { link: options.link !== false }) : undefined;
  let done = 0;
  const prepare = async (batch: readonly ReceivedExchange[]): Promise<PreparedExchange[]> => {
    // A bad line's digest once, here: its file's bytes go no further.
    const received = batch.map((ex) =>
      ex.badLine ? { ...ex, badLine: { file: ex.badLine.file, digest: badLineDigest(deps.keys, ex) } } : ex,
    );
    const keys = received.map((ex) => exchangeKey(deps.keys, ex, ex.problem ? ex.place : undefined));
    const known = await knownExchangeKeys(deps.store, [...new Set(keys)]);
    // A known exchange is not parsed again, unless all that is known of it is an input problem (a missing
    // file, an unusable manifest line) and it now comes with usable input, or its hub id comes again with
    // another moment or other content: another passage, which the batch writer gives a key of its own
    // (`withMomentKeys`, `withContentKeys`). A bad line under a known hub id is skipped only when it is that
    // exchange (the same line, or the content stored); else, and for a passage under a bad line's hub id,
    // the batch writer tells (`withBadLineKeys`, `correctsBadLine`).
    const skip = received.map((ex, i) => {
      const k = known.get(keys[i]!);
      if (k === undefined) return false;
      if (ex.hubId && ex.badLine?.digest) return isKnownBadLine(ex.badLine.digest, ex.source, k);
      if (ex.hubId && isBadLineDigest(k.digest)) return false;
      if (ex.hubId && ex.moment && k.moment && k.moment !== ex.moment) return false;
      // An exchange known without a moment (a line retried with its file) is told by its bytes alone.
      if (k.digest && (ex.moment === k.moment || k.moment === '')) {
        const digest = exchangeDigest(deps.keys, ex);
        if (digest && digest !== k.digest) return false;
      }
      return !k.onlyInputProblem || ex.problem !== undefined;
    });
    const todo = received.flatMap((ex, i) => (skip[i] ? [] : [{ ex, key: keys[i]! }]));
    const fresh = pool
      ? await pool.prepare(todo)
      : todo.map(({ ex, key }) => prepareExchange(deps.keys, ex, deps.parse, key));
    let k = 0;
    return received.map((ex, i) =>
      skip[i] ? skippedPlaceholder(keys[i]!, ex) : withSettles(deps.keys, ex, fresh[k++]!),
    );
  };
  const write = async (batch: readonly ReceivedExchange[], prepared: PreparedExchange[]) => {
    const now = deps.now();
    noteFutureMoments(summary, batch, now);
    const result = await writeExchangeBatch(deps.store, prepared, {
      runId,
      now: now.toISOString(),
      inTransaction: options.link === false ? undefined : linkInBatch(prepared, now),
    });
    addResult(summary, result, true);
    reportItems(prepared, result, options);
    done += prepared.length;
    options.onProgress?.(done, summary);
  };
  // With workers, up to PREPARED_AHEAD batches are read and handed to them before the oldest is written, so
  // the workers parse while this thread writes; without, each batch is prepared and written in turn.
  const ahead: { batch: ReceivedExchange[]; prepared: Promise<PreparedExchange[]> }[] = [];
  const depth = pool ? PREPARED_AHEAD : 0;
  const stopped = () => options.signal?.aborted === true;
  const flush = async (batch: ReceivedExchange[]) => {
    const prepared = prepare(batch);
    // Observed here so a failing batch is not an unhandled rejection while an older one is written.
    prepared.catch(() => undefined);
    ahead.push({ batch, prepared });
    while (ahead.length > depth && !stopped()) await writeNext();
  };
  const writeNext = async () => {
    const next = ahead.shift()!;
    await write(next.batch, await next.prepared);
  };
  try {
    for await (const batch of readBatches(source, batchSize, options.batchBytes ?? DEFAULT_BATCH_BYTES)) {
      if (stopped()) break;
      await flush(batch);
      if (stopped()) break;
    }
    while (ahead.length && !stopped()) await writeNext();
  } finally {
    // Stopped: what the workers still parse is not waited for (closing the pool ends it).
    if (!stopped()) await Promise.allSettled(ahead.map((a) => a.prepared));
    await pool?.close();
    await source.close();
  }
  // A folder read at last: its files came as exchanges of their own, and its item (named as the listing named
  // it, without a moment or bytes) is settled.
  // Stopped: a folder's files are not all in yet, and the files not named .xml not all seen; the re-run says.
  if (source.foldersRead?.length && !stopped()) {
    const exchangeKeys = source.foldersRead.map((folder) =>
      exchangeKey(
        deps.keys,
        { source: folder, moment: null, verzender: null, ontvanger: null, hubId: null, bytes: NO_BYTES },
        source.place,
      ),
    );
    const settled = await settleFolderProblems(deps.store, {
      exchangeKeys,
      source: source.label,
      before: startedAt,
      at: deps.now().toISOString(),
    });
    if (settled > 0) summary.settledFolders = settled;
  }
  if (source.notXml?.length && !stopped()) {
    summary.notXml = { count: source.notXml.length, first: source.notXml.slice(0, NOT_XML_NAMED) };
  }
  await finishRun(deps.store, runId, deps.now().toISOString());
  return summary;
}

export interface SingleOutcome {
  readonly outcome: ExchangeOutcome;
  readonly seq?: number;
  /** Quarantined: the item that keeps it (`quarantine list`, `GET /api/v1/quarantine`). */
  readonly quarantineId?: number;
  /** Quarantined: whether that item is open, or was dismissed by the operator (a repeat is not stored either). */
  readonly quarantineStatus?: 'open' | 'dismissed';
  readonly reasonCode?: string;
  readonly reason?: string;
  /** Stored all the same, but suspect: a hub moment after the time of receipt (`ingest.future_moment`). */
  readonly warningCode?: 'ingest.future_moment';
  readonly warning?: string;
}

/** An exchange posted to the live feed, with who posted it. */
export interface PostedExchange extends ReceivedExchange {
  /**
   * Who posted it, never a secret: the token's prefix as `tokens list` shows it (`kd_AbCdEfG…`). It names the
   * run, `http:<account>`, which the quarantine and conflict listings show beside the file.
   */
  readonly account?: string;
}

/**
 * One exchange (the live feed over HTTP): the same path as a batch of one. Without a moment it passed the hub
 * now (the feed refuses a hub id without its moment). A repeat of an exchange kept in quarantine answers as
 * the first time did: quarantined, with its item.
 */
export async function ingestOne(deps: IngestDeps, received: PostedExchange): Promise<SingleOutcome> {
  const ex: PostedExchange = { ...received, moment: received.moment ?? deps.now().toISOString() };
  const runId = await startRun(deps.store, `http:${received.account ?? ex.source}`, deps.now().toISOString());
  const prepared = prepareExchange(deps.keys, ex, deps.parse);
  const now = deps.now();
  const result = await writeExchangeBatch(deps.store, [prepared], {
    runId,
    now: now.toISOString(),
    inTransaction: linkInBatch([prepared], now),
  });
  // As a folder run, finished only once written: a run that failed stays unfinished (`ingestSource`).
  await finishRun(deps.store, runId, deps.now().toISOString());
  const outcome = result.outcomes[0]!;
  const seq = result.seqs[0];
  const quarantineId = result.quarantineIds[0];
  // Judged against the moment it was written, as a run's batch is. A moment posted is the hub's, with or
  // without parties.
  const future =
    received.moment !== null && isAfter(received.moment, now)
      ? {
          warningCode: 'ingest.future_moment' as const,
          warning: `the hub moment ${shownMoment(received.moment)} is after this exchange was received (${shownMoment(now.toISOString())}): a wrong clock at the hub? The store keeps the moment as given`,
        }
      : {};
  if (outcome === 'skipped') {
    const kept = await quarantinedBefore(deps, ex);
    if (kept) return { ...kept, ...future };
  }
  return {
    outcome,
    ...(seq !== undefined ? { seq } : {}),
    ...(outcome === 'quarantined' && quarantineId !== undefined
      ? { quarantineId, quarantineStatus: 'open' as const }
      : {}),
    ...(outcome === 'quarantined' && prepared.kind === 'quarantine'
      ? { reasonCode: prepared.reason_code, reason: prepared.reason }
      : {}),
    ...future,
  };
}

/**
 * The quarantine item of an exchange received before and kept there (no message), if it is: by its exchange
 * key without a hub id, else by hub id, moment and content among the exchanges without a message (indexed, as
 * many as quarantine items; the key the batch writer gave a hub id's later passage is its own). Asked only for
 * a repeat, which is rare.
 */
async function quarantinedBefore(deps: IngestDeps, ex: ReceivedExchange): Promise<SingleOutcome | undefined> {
  const digest = exchangeDigest(deps.keys, ex);
  let q = deps.store.db
    .selectFrom('exchange as e')
    .innerJoin('quarantine as q', 'q.id', 'e.quarantine_id')
    .select(['q.id', 'q.reason_code', 'q.reason', 'q.status'])
    .where('e.quarantine_id', 'is not', null)
    .where('q.status', 'in', ['open', 'dismissed'])
    .where('e.message_seq', 'is', null);
  q =
    ex.hubId && digest
      ? q
          .where('e.hub_id', '=', ex.hubId)
          .where('e.moment', '=', ex.moment ?? '')
          .where('e.content_digest', '=', digest)
      : q.where('e.exchange_key', '=', exchangeKey(deps.keys, ex));
  const row = await q.orderBy('q.id', 'desc').limit(1).executeTakeFirst();
  return row
    ? {
        outcome: 'quarantined',
        quarantineId: Number(row.id),
        quarantineStatus: row.status === 'dismissed' ? 'dismissed' : 'open',
        reasonCode: row.reason_code,
        reason: row.reason,
      }
    : undefined;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * Without a hub id the key digests the content, so a file read at last gets another key than it had while it
 * was missing. That earlier key (same source, moment and parties, no bytes) names the exchange's open
 * `ingest.file_missing` item, if any, for the batch writer to settle. A plain folder's problem items are named
 * without a moment (see `readAll`), and so is the key that settles them.
 */
function withSettles(keys: Keys, ex: ReceivedExchange, prepared: PreparedExchange): PreparedExchange {
  if (ex.problem || ex.bytes.length === 0) return prepared;
  const missing = ex.hubId
    ? undefined
    : exchangeKey(keys, { ...ex, ...(isPlainSource(ex) ? { moment: null } : {}), bytes: NO_BYTES }, ex.place);
  if (!ex.unlisted) return missing === undefined ? prepared : { ...prepared, settles: missing };
  // A manifest's file that no line named before: its `ingest.not_in_manifest` item was named by its path and
  // the manifest's folder or ZIP alone (no moment, parties or bytes), and so is the key that settles it.
  const { name, place } = ex.unlisted;
  const unlisted = exchangeKey(
    keys,
    { source: name, moment: null, verzender: null, ontvanger: null, hubId: null, bytes: NO_BYTES },
    place,
  );
  return { ...prepared, settles: missing === undefined ? [unlisted] : [missing, unlisted] };
}

// A known exchange is not parsed again; the batch writer sees its key and skips it.
function skippedPlaceholder(key: string, ex: ReceivedExchange): PreparedExchange {
  return {
    kind: 'quarantine',
    exchange: {
      exchange_key: key,
      hub_id: ex.hubId,
      moment: ex.moment ?? '',
      verzender: '',
      ontvanger: '',
      source: ex.source,
      content_digest: null,
    },
    reason_code: ALREADY_STORED,
    reason: '',
    raw: 0,
    received: { moment: null, verzender: null, ontvanger: null },
  };
}

/** How many of the files not read for their name a summary names. */
const NOT_XML_NAMED = 3;

export function formatSummary(s: IngestSummary): string[] {
  const lines = [
    // Conflicts are stored messages too: named within `stored`, so the numbers add up to `received`.
    `received ${s.received}, stored ${s.stored} (${count(s.conflicts, 'conflict')}), duplicates ${s.duplicates}, quarantined ${s.quarantined}` +
      (s.skipped ? `, already ingested ${s.skipped}` : ''),
  ];
  for (const [code, n] of Object.entries(s.quarantinedByReason).sort())
    lines.push(`  quarantined ${code}: ${n}`);
  if (s.settledFolders)
    lines.push(
      `  settled ${s.settledFolders} quarantined folder(s), read now (their files are counted above)`,
    );
  if (s.notXml) {
    const more = s.notXml.count > s.notXml.first.length ? ', …' : '';
    lines.push(
      `  not read: ${count(s.notXml.count, 'file')} not named .xml (${s.notXml.first.join(', ')}${more}); not counted above`,
    );
  }
  return lines;
}

/** What an operator must see on stderr after a run, beside its summary. */
export function summaryWarnings(s: IngestSummary): string[] {
  const out: string[] = [];
  if (s.futureMoments)
    out.push(
      `ingest: warning: ${count(s.futureMoments.count, 'exchange')} ${s.futureMoments.count === 1 ? 'has' : 'have'} a hub moment after this run (the latest ${shownMoment(s.futureMoments.latest)}): a wrong clock at the hub, or a mistyped manifest? The store keeps the moments as given (ingest.future_moment)`,
    );
  // Nothing at all to read is rarely what was meant: a wrong folder, an export still being written.
  if (s.received === 0)
    out.push(
      `ingest: warning: the source holds no exchanges: no manifest line and no .xml file${s.notXml ? ` (only files not named .xml)` : ''} (ingest.source_empty)`,
    );
  return out;
}
