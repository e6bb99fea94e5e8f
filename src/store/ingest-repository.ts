import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import type { LinkEntry } from '../links/entries.js';
import type { EncryptedRaw } from '../pseudonymise/raw-encryption.js';
import type { Store } from './open.js';
import { type IngestTx, withIngestLock } from './watermark.js';

/** Hub metadata of one passage, as the exchange row keeps it. */
export interface ExchangeMeta {
  /** The hub id (`hub:<id>`) or a keyed digest of source + moment + parties + content. */
  readonly exchange_key: string;
  readonly hub_id: string | null;
  readonly moment: string;
  readonly verzender: string;
  readonly ontvanger: string;
  readonly source: string;
  /**
   * For an exchange with a hub id: keyed digest of its bytes (`exchangeDigest`), for a bad manifest line
   * `bad:<file>:<content>` (`badLineDigest`); else null.
   */
  readonly content_digest: string | null;
  /**
   * For an exchange with a hub id and usable input: its file as the manifest named it, as the tag a bad line's
   * digest holds (`fileTag`), so the line that corrects a bad one is known. Not stored.
   */
  readonly file_tag?: string | null;
}

/** A parsed, pseudonymised message ready for the store (no clear identifier in it). */
export interface PreparedMessage {
  readonly bericht_id: string;
  readonly standard: string;
  readonly code: string;
  readonly gemeente: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
  readonly identificatie_retour: string | null;
  readonly dagtekening_retour: string | null;
  readonly key_hash: string;
  readonly content_hash: string;
  /** JSON `{ [table]: Row[] }`, hashed cells as stored pseudonyms. */
  readonly rows: string;
}

/**
 * Quarantine reasons about the input, not the message (a manifest line that cannot be used, a file that is
 * not there). An exchange whose only record is an open item with one of these is not yet ingested: when it
 * comes again with usable input it is written, and the item settled.
 */
export const INPUT_PROBLEM_CODES: ReadonlySet<string> = new Set([
  'ingest.manifest_invalid',
  'ingest.file_missing',
  'ingest.too_large',
  'ingest.not_a_file',
  'ingest.unreadable',
  'ingest.file_ambiguous',
  'ingest.link_refused',
  'ingest.entry_refused',
  'ingest.not_in_manifest',
  'ingest.nested_zip',
]);

/** The reason of the stand-in for an exchange found already stored before parsing (never written). */
export const ALREADY_STORED = 'ingest.already_stored';

export type PreparedExchange = (
  | {
      readonly kind: 'message';
      readonly exchange: ExchangeMeta;
      readonly message: PreparedMessage;
      /** `message.rows` still as objects, so linking need not parse the JSON again (absent from a worker). */
      readonly tables?: Readonly<Record<string, readonly (readonly unknown[])[]>>;
      /** What linking indexes of the message, when a parse worker computed it (it keeps `tables`). */
      readonly linkEntries?: readonly LinkEntry[];
      readonly raw: EncryptedRaw | number;
    }
  | {
      readonly kind: 'quarantine';
      readonly exchange: ExchangeMeta;
      readonly reason_code: string;
      readonly reason: string;
      readonly raw: EncryptedRaw | number;
      /** Metadata as received (null where the input had none). */
      readonly received: {
        readonly moment: string | null;
        readonly verzender: string | null;
        readonly ontvanger: string | null;
      };
    }
) & {
  /**
   * The exchange key this exchange had while its file could not be read (same source, moment and parties,
   * no bytes): an open `ingest.file_missing` item under that key is settled when this one is written. Several
   * keys (an `ingest.not_in_manifest` item's too): each with an open item is settled.
   */
  readonly settles?: string | readonly string[];
};

/** The outcome per exchange, and the totals. */
export type ExchangeOutcome = 'stored' | 'conflict' | 'duplicate' | 'quarantined' | 'skipped';

export interface BatchResult {
  readonly outcomes: readonly ExchangeOutcome[];
  /** Seq of the message each exchange ended in (undefined for quarantined / skipped). */
  readonly seqs: readonly (number | undefined)[];
  readonly quarantineReasons: readonly (string | undefined)[];
  /** The quarantine item each quarantined exchange is kept in (new, re-opened or retried); else undefined. */
  readonly quarantineIds: readonly (number | undefined)[];
  /** For a conflict: the seq of the latest earlier version of its message key (in the store or the batch). */
  readonly conflictWith: readonly (number | undefined)[];
}

interface ExistingByKey {
  readonly seq: number;
  readonly bericht_id: string;
  readonly conflict: number;
}

interface NewMessageRow extends PreparedMessage {
  readonly conflict: number;
  readonly first_moment: string;
  readonly hub_id: string | null;
  readonly verzender: string;
  readonly ontvanger_hub: string;
  readonly passages: number;
  readonly raw_id: number;
  readonly ingest_run_id: number;
  readonly ingested_at: string;
}

interface QuarantineRow {
  readonly exchange_key: string;
  readonly source: string;
  readonly hub_id: string | null;
  readonly moment: string | null;
  readonly verzender: string | null;
  readonly ontvanger: string | null;
  readonly reason_code: string;
  readonly reason: string;
  readonly raw_id: number;
  readonly received_at: string;
}

/** An exchange key in the store, with its open input-problem item if that is all that was recorded of it. */
type KnownExchanges = Map<
  string,
  {
    readonly pendingQuarantineId: number | null;
    readonly moment: string;
    readonly digest: string | null;
    readonly source: string;
  }
>;

const INPUT_PROBLEM_LIST = [...INPUT_PROBLEM_CODES].map((c) => `'${c}'`).join(', ');
const PENDING_SQL = `SELECT e.exchange_key AS k, q.id AS q, e.moment AS m, e.content_digest AS d, e.source AS s FROM exchange e
  LEFT JOIN quarantine q ON q.id = e.quarantine_id AND e.message_seq IS NULL AND q.status = 'open'
    AND q.reason_code IN (${INPUT_PROBLEM_LIST})`;
const OPEN_INPUT_PROBLEM = `status = 'open' AND reason_code IN (${INPUT_PROBLEM_LIST})`;
/** An open item for the bytes of an exchange (`ingest.not_well_formed`, `ingest.empty`, …), not its input. */
const OPEN_CONTENT_PROBLEM = `status = 'open' AND reason_code NOT IN (${INPUT_PROBLEM_LIST})`;
const CONTENT_PROBLEM_SQL = `SELECT id, exchange_key, hub_id, moment, source, verzender, ontvanger FROM quarantine
  WHERE ${OPEN_CONTENT_PROBLEM}`;

/** An open content-problem item, with the hub metadata it was received with (see `samePassage`). */
interface ContentProblem {
  readonly id: number;
  readonly exchange_key: string;
  readonly hub_id: string | null;
  readonly moment: string | null;
  readonly source: string;
  readonly verzender: string | null;
  readonly ontvanger: string | null;
}
/**
 * An exchange row recorded without a moment or parties (an unusable manifest line) takes those of the passage
 * that brought its content. Left empty, a later passage under its hub id would look like this one at any
 * moment, and be skipped as already received. Parameters: moment, verzender, ontvanger.
 */
const FILL_PASSAGE = `moment = CASE WHEN moment = '' THEN ? ELSE moment END,
  verzender = CASE WHEN verzender = '' THEN ? ELSE verzender END,
  ontvanger = CASE WHEN ontvanger = '' THEN ? ELSE ontvanger END`;
/**
 * What a retry fills in. Not the moment: a line that had none keeps none (the time it reached us, which the
 * message gets, is not when it passed the hub). The digest (in place of a bad line's, which told the line)
 * then tells a later passage under its hub id by its bytes alone (ingest's skip check). Parameters:
 * verzender, ontvanger, digest.
 */
const RETRY_FILL = `verzender = CASE WHEN verzender = '' THEN ? ELSE verzender END,
  ontvanger = CASE WHEN ontvanger = '' THEN ? ELSE ontvanger END,
  content_digest = CASE WHEN content_digest IS NULL OR content_digest LIKE 'bad:%' THEN ? ELSE content_digest END`;
/** SQL with `?` parameters numbered from $`from` on (PostgreSQL). */
const numbered = (text: string, from: number) => {
  let n = from;
  return text.replace(/\?/g, () => `$${n++}`);
};

/** Thrown when a concurrent transaction settled an input-problem item first: the batch runs again (PostgreSQL). */
function settledConcurrently(id: number): Error {
  return Object.assign(new Error(`ingest.concurrent_settle: quarantine item ${id} was settled meanwhile`), {
    code: '40001',
  });
}

/** A retry meets an item another operator closed meanwhile: the retry's batch is undone. */
function closedMeanwhile(id: number): Error {
  return new Error(
    `quarantine.not_open: quarantine item ${id} was closed meanwhile; nothing of this retry was stored`,
  );
}

interface ExchangeRow extends ExchangeMeta {
  readonly message_seq: number | null;
  readonly quarantine_id: number | null;
  readonly ingest_run_id: number;
}

/** The few statements a batch needs, per dialect: prepared statements on SQLite, array-bound bulk SQL on PostgreSQL. */
interface BatchPort {
  existingExchanges(keys: readonly string[]): Promise<KnownExchanges>;
  seqsByBerichtId(ids: readonly string[]): Promise<Map<string, number>>;
  byKeyHash(hashes: readonly string[]): Promise<Map<string, ExistingByKey[]>>;
  insertRaws(raws: readonly EncryptedRaw[]): Promise<number[]>;
  insertMessages(rows: readonly NewMessageRow[]): Promise<number[]>;
  insertQuarantines(rows: readonly QuarantineRow[]): Promise<number[]>;
  insertExchanges(rows: readonly ExchangeRow[]): Promise<void>;
  /**
   * Counts more passages of stored messages; a passage earlier than the message's first one (passages can
   * arrive out of time order) becomes its first: moment, hub id, sender and receiver.
   */
  addPassages(bumps: ReadonlyMap<number, PassageBump>): Promise<void>;
  markConflict(seqs: readonly number[]): Promise<void>;
  /** Adds the batch's counts to the run and records `at` (the batch's `now`) as its last batch. */
  updateRun(runId: number, d: RunDelta, at: string): Promise<void>;
  /**
   * Retry: the quarantined exchange now lives in message `seq`; its row takes the parties and the digest of
   * the bytes stored where it had none (RETRY_FILL). False when the item is no longer open.
   */
  resolveQuarantine(quarantineId: number, exchange: ExchangeMeta, seq: number, at: string): Promise<boolean>;
  /** Retry: the item stays open with the new reason, holding the bytes just tried (a corrected file). */
  requarantine(quarantineId: number, code: string, reason: string, rawId: number): Promise<void>;
  /**
   * An open input-problem item is settled by the exchange that came again with usable input: resolved (with
   * the message's seq when it ended in one). False when it was no longer an open input problem.
   */
  resolveInputProblem(quarantineId: number, seq: number | null, at: string): Promise<boolean>;
  /** The exchange came again but its content is quarantined: the same item now holds that reason and raw. */
  requarantineInputProblem(
    quarantineId: number,
    code: string,
    reason: string,
    rawId: number,
  ): Promise<boolean>;
  /**
   * The exchange row of `exchange.exchange_key`, first recorded as an input problem, now came with its
   * content: it lives in message `seq` (null: its content is quarantined), its bytes have the exchange's
   * digest, and it takes the passage's moment and parties where it had none (FILL_PASSAGE).
   */
  setExchangePassage(exchange: ExchangeMeta, seq: number | null): Promise<void>;
  /** Open content-problem items under these exchange keys, by key. */
  openContentProblems(keys: readonly string[]): Promise<Map<string, ContentProblem>>;
  /** Such an item settled by message `seq`. False when it was no longer open (settled or dismissed meanwhile). */
  resolveContentProblem(quarantineId: number, seq: number, at: string): Promise<boolean>;
}

export interface RunDelta {
  received: number;
  stored: number;
  duplicates: number;
  conflicts: number;
  quarantined: number;
  skipped: number;
}

export const emptyDelta = (): RunDelta => ({
  received: 0,
  stored: 0,
  duplicates: 0,
  conflicts: 0,
  quarantined: 0,
  skipped: 0,
});

export interface BatchOptions {
  readonly runId: number;
  readonly now: string;
  /** Retrying quarantined exchanges: item i re-tries quarantine row retryIds[i] (its exchange row exists). */
  readonly retryIds?: readonly number[];
  /** Runs in the batch's transaction once it is written (linking: a batch is stored and linked, or neither). */
  readonly inTransaction?: (tx: IngestTx, result: BatchResult) => Promise<void>;
}

/** How many rows `table` holds (the ingested data a command reports or checks). */
export async function countRows(store: Store, table: 'message' | 'exchange' | 'quarantine'): Promise<number> {
  const r = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Writes one batch of exchanges in one transaction (under the ingest lock). Classification, in input
 * order: an exchange already in the store is skipped; a message whose BerichtId (key + content) is known
 * is a duplicate (passages + 1); a new BerichtId whose key is known is stored with conflict = 1 on every
 * version; anything else is stored. A kill at any point leaves either the whole batch or none of it.
 * An exchange of which only an open input-problem item is recorded is not skipped when it comes with usable
 * input: it is classified as above and the item settled (resolved, or holding the content's reason), in the
 * same transaction; so is the `ingest.file_missing` item of the key it `settles`, and the item of a passage
 * whose bytes were unusable once it comes again with bytes that end in a message (`settleContentProblems`).
 */
export async function writeExchangeBatch(
  store: Store,
  items: readonly PreparedExchange[],
  options: BatchOptions,
): Promise<BatchResult> {
  return withIngestLock(store, async (tx) => {
    const port = tx.dialect === 'sqlite' ? sqlitePortOf(tx.sqlite) : postgresPort(tx.client);
    const result = await planAndWrite(port, items, options);
    await options.inTransaction?.(tx, result);
    return result;
  });
}

/** More passages of a stored message, and the earliest of them. */
export interface PassageBump {
  n: number;
  earliest: ExchangeMeta | undefined;
}

/** The earlier of two passages by moment; a passage without a moment is never the earlier one. */
const earlierPassage = (a: ExchangeMeta | undefined, b: ExchangeMeta): ExchangeMeta | undefined =>
  b.moment !== '' && (a === undefined || a.moment === '' || b.moment < a.moment) ? b : a;

/**
 * SET clauses that make a passage the message's first when it is earlier than the stored one (SET expressions
 * read the row as it was, so the comparison holds for all four). `row`: the message's column prefix; `arg`: the
 * passage's value of `moment`, `hub_id`, `verzender` or `ontvanger` as the statement binds it.
 */
function earlierPassageSet(row: string, arg: (name: string) => string): string {
  const earlier = `${arg('moment')} <> '' AND (${row}first_moment = '' OR ${arg('moment')} < ${row}first_moment)`;
  const take = (column: string, value: string) =>
    `${column} = CASE WHEN ${earlier} THEN ${arg(value)} ELSE ${row}${column} END`;
  return [
    take('hub_id', 'hub_id'),
    take('verzender', 'verzender'),
    take('ontvanger_hub', 'ontvanger'),
    take('first_moment', 'moment'),
  ].join(', ');
}

/** A bump's earliest passage as `earlierPassageSet` binds it ('' moment: none, changes nothing). */
const earlierArgs = (b: PassageBump) => ({
  moment: b.earliest?.moment ?? '',
  hub_id: b.earliest?.hub_id ?? null,
  verzender: b.earliest?.verzender ?? '',
  ontvanger: b.earliest?.ontvanger ?? '',
});

/** A message new to the store, as the batch plan sees it; passages and conflict change as the batch goes on. */
interface PlannedMessage {
  readonly item: number;
  readonly message: PreparedMessage;
  /** Its first passage: the earliest of the batch's passages of it (input order need not be time order). */
  exchange: ExchangeMeta;
  readonly raw: EncryptedRaw | number;
  conflict: number;
  passages: number;
}

// Spelled out rather than spread: rows of one fixed shape are cheaper to build and to read column by column.
function messageRow(n: PlannedMessage, rawId: number, o: BatchOptions): NewMessageRow {
  const m = n.message;
  const e = n.exchange;
  return {
    bericht_id: m.bericht_id,
    standard: m.standard,
    code: m.code,
    gemeente: m.gemeente,
    afzender: m.afzender,
    ontvanger: m.ontvanger,
    identificatie: m.identificatie,
    dagtekening: m.dagtekening,
    identificatie_retour: m.identificatie_retour,
    dagtekening_retour: m.dagtekening_retour,
    key_hash: m.key_hash,
    content_hash: m.content_hash,
    rows: m.rows,
    conflict: n.conflict,
    first_moment: e.moment,
    hub_id: e.hub_id,
    verzender: e.verzender,
    ontvanger_hub: e.ontvanger,
    passages: n.passages,
    raw_id: rawId,
    ingest_run_id: o.runId,
    ingested_at: o.now,
  };
}

/**
 * Keys of passages that reuse a hub id already used by another passage, so that each is stored, or counted as a
 * duplicate, instead of being taken for the exchange already received, while a re-run still finds it:
 * `hub:<id>@<moment>` for another moment (two extracts numbered alike), and `…#<digest>` for other bytes
 * under a key taken already (`exchange.content_digest`).
 */
const isPlaceholder = (it: PreparedExchange) => it.kind === 'quarantine' && it.reason_code === ALREADY_STORED;

/** The key a hub id gives its first passage. Told from the hub id itself: an id may hold `@` or `#`. */
const hubKeyOf = (it: PreparedExchange) => (it.exchange.hub_id ? `hub:${it.exchange.hub_id}` : undefined);

const withKey = (it: PreparedExchange, exchange_key: string): PreparedExchange => ({
  ...it,
  exchange: { ...it.exchange, exchange_key },
});

/** A bad manifest line's digest (`badLineDigest`): `bad:<file tag>:<content digest, or l and a line digest>`. */
export const isBadLineDigest = (d: string | null | undefined): boolean => d?.startsWith('bad:') === true;

/** A bad line's file tag (`-`: it names none) and the digest of its file's content (null: not read). */
function badLineParts(d: string): { readonly file: string; readonly content: string | null } {
  const [, file = '-', rest = ''] = d.split(':');
  return { file, content: rest.startsWith('l') ? null : rest };
}

/**
 * Whether an exchange is the corrected form of the bad line with digest `d`: the same file (the hub id is the
 * key they share), and the same content where the line's file could be read. Another message that merely
 * reuses the hub id is not. A line that names no file is known by its hub id alone: any passage under it is.
 */
export function correctsBadLine(d: string, e: ExchangeMeta): boolean {
  const { file, content } = badLineParts(d);
  if (file === '-') return true;
  return file === e.file_tag && (content === null || content === e.content_digest);
}

const namesFile = (d: string) => badLineParts(d).file !== '-';

/**
 * Whether a bad line (digest `d`, named `source`) is the exchange known under its hub key: that line again,
 * or the content stored there. A bad line recorded before bad lines had a digest is taken as the same when it
 * was the same line of a manifest of the same name (all that is known of it).
 */
export function isKnownBadLine(
  d: string,
  source: string,
  known: { readonly digest: string | null; readonly moment: string; readonly source: string },
): boolean {
  if (known.digest === d) return true;
  if (known.digest === null) return known.moment === '' && known.source === source;
  return !isBadLineDigest(known.digest) && badLineParts(d).content === known.digest;
}

/** The key of a bad line whose hub key another exchange holds; a line that corrects it can name it too. */
const badLineKey = (hubKey: string, d: string) =>
  `${hubKey}#line:${createHash('sha256').update(d).digest('hex').slice(0, 16)}`;

/** The key under which a bad line that this exchange corrects would be kept, had another taken its hub key. */
const correctedLineKey = (it: PreparedExchange): string | undefined => {
  const hub = hubKeyOf(it);
  const e = it.exchange;
  return hub && e.file_tag && e.content_digest && !isBadLineDigest(e.content_digest)
    ? badLineKey(hub, `bad:${e.file_tag}:${e.content_digest}`)
    : undefined;
};

/** Step one: a hub id that comes with another moment than its first passage (stored, or earlier in the batch). */
function withMomentKeys(items: readonly PreparedExchange[], known: KnownExchanges): PreparedExchange[] {
  const firstMoment = new Map<string, string>();
  return items.map((it) => {
    const k = it.exchange.exchange_key;
    const moment = it.exchange.moment;
    if (k !== hubKeyOf(it) || moment === '' || isPlaceholder(it)) return it;
    const stored = known.get(k);
    // A bad line holds the hub key (no moment): a passage that does not correct it is another exchange.
    if (stored?.digest && isBadLineDigest(stored.digest) && !correctsBadLine(stored.digest, it.exchange))
      return withKey(it, `${k}@${moment}`);
    const first = stored?.moment || firstMoment.get(k);
    if (first === undefined) firstMoment.set(k, moment);
    return first === undefined || first === moment ? it : withKey(it, `${k}@${moment}`);
  });
}

/**
 * Step two: a hub key (plain or with its moment) taken already, stored or earlier in the batch, by other bytes.
 * Only content claims a key: an exchange of which only an input problem is known (a missing file) holds none,
 * so the first content that comes takes its key. An exchange stored before migration 0012 has no digest: it
 * is taken as the same.
 */
function withContentKeys(items: readonly PreparedExchange[], known: KnownExchanges): PreparedExchange[] {
  const claimed = new Map<string, string>();
  return items.map((it) => {
    const k = it.exchange.exchange_key;
    const plain = hubKeyOf(it);
    const digest = it.exchange.content_digest;
    if (
      !plain ||
      (k !== plain && k !== `${plain}@${it.exchange.moment}`) ||
      isPlaceholder(it) ||
      !digest ||
      isBadLineDigest(digest)
    )
      return it;
    const stored = known.get(k);
    if (stored && stored.pendingQuarantineId === null) {
      // A bad line's digest is no content: step one kept the hub key only for the line it corrects.
      return stored.digest && !isBadLineDigest(stored.digest) && stored.digest !== digest
        ? withKey(it, `${k}#${digest.slice(0, 16)}`)
        : it;
    }
    const first = claimed.get(k);
    if (first === undefined) claimed.set(k, digest);
    return first !== undefined && first !== digest ? withKey(it, `${k}#${digest.slice(0, 16)}`) : it;
  });
}

/**
 * Step three: a bad manifest line (no moment) under a hub key that another exchange holds — stored, or in the
 * batch a passage that does not correct it, or another bad line — gets a key of its own (`badLineKey`), so it
 * is an item of its own instead of being taken for that exchange. It keeps the hub key when it is the exchange
 * known there (`isKnownBadLine`: skipped), or when the batch brings its corrected form too (the usable one is
 * the exchange, as for a file named twice, first missing).
 */
function withBadLineKeys(items: readonly PreparedExchange[], known: KnownExchanges): PreparedExchange[] {
  const isBadLine = (it: PreparedExchange) =>
    it.kind === 'quarantine' && !isPlaceholder(it) && isBadLineDigest(it.exchange.content_digest);
  if (!items.some(isBadLine)) return [...items];
  const holders = new Map<string, ExchangeMeta[]>();
  for (const it of items)
    if (!isPlaceholder(it) && !isBadLine(it)) {
      const k = it.exchange.exchange_key;
      holders.set(k, [...(holders.get(k) ?? []), it.exchange]);
    }
  const claimed = new Map<string, string>();
  return items.map((it) => {
    const k = it.exchange.exchange_key;
    const d = it.exchange.content_digest;
    if (!isBadLine(it) || !d || k !== hubKeyOf(it)) return it;
    const stored = known.get(k);
    let own: boolean;
    if (stored) own = isKnownBadLine(d, it.exchange.source, stored);
    else {
      // In one batch only a line that names the file is taken for the passage that brings that file.
      const holding = holders.get(k) ?? [];
      own =
        (holding.length === 0 || (namesFile(d) && holding.every((h) => correctsBadLine(d, h)))) &&
        (claimed.get(k) ?? d) === d;
      if (own) claimed.set(k, d);
    }
    return own ? it : withKey(it, badLineKey(k, d));
  });
}

/**
 * Whether an item for broken bytes was received as this passage: the same hub id, moment and file, and the
 * same parties where the item has them (a post without them has none). Two messages may share a hub id and
 * moment (another file), so the hub id alone is not enough; without a hub id the bytes are part of what names
 * an exchange, and nothing else certainly does.
 */
/** The `#<digest>` `withContentKeys` gives a hub key that other bytes had taken. */
const CONTENT_KEY_SUFFIX = /#[0-9a-f]{16}$/;

const samePassage = (q: ContentProblem, e: ExchangeMeta): boolean =>
  q.hub_id !== null &&
  q.hub_id === e.hub_id &&
  q.moment === e.moment &&
  q.source === e.source &&
  (q.verzender === null || q.verzender === e.verzender) &&
  (q.ontvanger === null || q.ontvanger === e.ontvanger);

/**
 * Settles open content-problem items (the bytes came in unusable: cut off, empty, invalid) of the passages this
 * batch brought again with bytes that ended in a message: such a passage has another exchange key (`…#<digest>`,
 * see `withContentKeys`), and the item is found under the key its hub id and moment give (`hub:<id>`, or
 * `hub:<id>@<moment>`). Resolved with the message's seq. An item dismissed meanwhile stays dismissed.
 */
async function settleContentProblems(
  port: BatchPort,
  items: readonly PreparedExchange[],
  seqOf: readonly (number | undefined)[],
  settling: Set<number>,
  at: string,
): Promise<void> {
  const passages = items.flatMap((it, i) => {
    // Only a passage whose key other bytes had taken can bring a broken one again: it got `#<digest>`.
    const taken = CONTENT_KEY_SUFFIX.exec(it.exchange.exchange_key);
    const seq = seqOf[i];
    if (it.kind !== 'message' || !hubKeyOf(it) || !taken || seq === undefined || it.exchange.moment === '')
      return [];
    return [{ exchange: it.exchange, seq, keys: [it.exchange.exchange_key.slice(0, taken.index)] }];
  });
  if (passages.length === 0) return;
  const open = await port.openContentProblems([...new Set(passages.flatMap((p) => p.keys))]);
  if (open.size === 0) return;
  for (const p of passages)
    for (const k of p.keys) {
      const item = open.get(k);
      if (item && !settling.has(item.id) && samePassage(item, p.exchange)) {
        settling.add(item.id);
        await port.resolveContentProblem(item.id, p.seq, at);
      }
    }
}

/**
 * The keys of open items this exchange settles when its input is usable: those it `settles`, and a bad line it
 * corrects that was kept under a key of its own (`correctedLineKey`).
 */
const settleKeys = (it: PreparedExchange): readonly string[] => {
  const given = it.settles === undefined ? [] : typeof it.settles === 'string' ? [it.settles] : it.settles;
  const corrected = correctedLineKey(it);
  return corrected === undefined ? given : [...given, corrected];
};

async function planAndWrite(
  port: BatchPort,
  batchItems: readonly PreparedExchange[],
  o: BatchOptions,
): Promise<BatchResult> {
  const retry = o.retryIds;
  const lookup = new Set<string>();
  if (!retry)
    for (const it of batchItems) {
      lookup.add(it.exchange.exchange_key);
      for (const k of settleKeys(it)) lookup.add(k);
    }
  let known: KnownExchanges = lookup.size ? await port.existingExchanges([...lookup]) : new Map();
  let items: readonly PreparedExchange[] = batchItems;
  if (!retry) {
    // The keys given to reused hub ids, looked up after each step: a re-run finds them stored, and step two
    // compares with what was stored under the key of step one.
    const lookUpChanged = async (before: readonly PreparedExchange[], after: readonly PreparedExchange[]) => {
      const changed = after.flatMap((it, i) => (it === before[i] ? [] : [it.exchange.exchange_key]));
      if (changed.length > 0) known = new Map([...known, ...(await port.existingExchanges(changed))]);
    };
    const byMoment = withMomentKeys(batchItems, known);
    await lookUpChanged(batchItems, byMoment);
    const byContent = withContentKeys(byMoment, known);
    await lookUpChanged(byMoment, byContent);
    items = withBadLineKeys(byContent, known);
    await lookUpChanged(byContent, items);
  }
  const delta = emptyDelta();
  delta.received = retry ? 0 : items.length;
  const outcomes: ExchangeOutcome[] = new Array(items.length);
  const seqOf: (number | undefined)[] = new Array(items.length).fill(undefined);
  const reasons: (string | undefined)[] = new Array(items.length).fill(undefined);
  const quarantineIdOf: (number | undefined)[] = new Array(items.length).fill(undefined);
  // An earlier version of a conflict: a stored seq, or a new message of this batch by its index.
  const earlierOf = new Map<number, { seq?: number; newIndex?: number }>();

  const messages = items.flatMap((i) => (i.kind === 'message' ? [i.message] : []));
  const bySeq = await port.seqsByBerichtId([...new Set(messages.map((m) => m.bericht_id))]);
  const byKey = await port.byKeyHash([...new Set(messages.map((m) => m.key_hash))]);

  // In-batch state: new messages by BerichtId (index into newMessages), versions per key hash.
  const newMessages: PlannedMessage[] = [];
  const newByBerichtId = new Map<string, number>();
  const newByKey = new Map<string, number[]>();
  const bumps = new Map<number, PassageBump>();
  const conflictSeqs = new Set<number>();
  const seenKeys = new Set<string>();
  // Exchanges pointing at a message: an existing seq, or a new message by its index.
  const exchangeTargets: { item: number; seq?: number; newIndex?: number }[] = [];
  const quarantines: { item: number; row: Omit<QuarantineRow, 'raw_id'>; raw: EncryptedRaw | number }[] = [];
  // Open input-problem items this batch settles: by the exchange itself, come again under the same key (its
  // exchange row exists and is kept), or by the same file read at last under a key of its own.
  const reopened = new Map<number, number>();
  const settled: [number, number][] = [];
  const settling = new Set<number>();

  const isUsable = (it: PreparedExchange) =>
    it.kind === 'message' || !(INPUT_PROBLEM_CODES.has(it.reason_code) || it.reason_code === ALREADY_STORED);
  // An exchange named twice in a batch, first with an input problem (a missing file) and then with usable
  // input: the usable one is the exchange, whichever comes first, as when they come in two batches.
  const usableKeys = new Set<string>();
  for (const it of items) if (isUsable(it)) usableKeys.add(it.exchange.exchange_key);
  items.forEach((it, i) => {
    const ek = it.exchange.exchange_key;
    const usable = isUsable(it);
    const pending = known.get(ek)?.pendingQuarantineId ?? null;
    if (
      seenKeys.has(ek) ||
      (!usable && usableKeys.has(ek)) ||
      (known.has(ek) && (pending === null || !usable))
    ) {
      outcomes[i] = 'skipped';
      delta.skipped++;
      return;
    }
    seenKeys.add(ek);
    if (pending !== null) {
      reopened.set(i, pending);
      settling.add(pending);
    }
    // Also beside its own item: a line fixed at last names a file whose `ingest.not_in_manifest` item is open.
    if (usable) {
      for (const k of settleKeys(it)) {
        const twin = known.get(k)?.pendingQuarantineId ?? null;
        if (twin !== null && !settling.has(twin)) {
          settled.push([i, twin]);
          settling.add(twin);
        }
      }
    }
    if (it.kind === 'quarantine') {
      outcomes[i] = 'quarantined';
      reasons[i] = it.reason_code;
      delta.quarantined++;
      quarantines.push({
        item: i,
        raw: it.raw,
        row: {
          exchange_key: ek,
          source: it.exchange.source,
          hub_id: it.exchange.hub_id,
          moment: it.received.moment,
          verzender: it.received.verzender,
          ontvanger: it.received.ontvanger,
          reason_code: it.reason_code,
          reason: it.reason,
          received_at: o.now,
        },
      });
      return;
    }
    const m = it.message;
    const existingSeq = bySeq.get(m.bericht_id);
    if (existingSeq !== undefined) {
      outcomes[i] = 'duplicate';
      delta.duplicates++;
      const bump = bumps.get(existingSeq) ?? { n: 0, earliest: undefined };
      bump.n++;
      bump.earliest = earlierPassage(bump.earliest, it.exchange);
      bumps.set(existingSeq, bump);
      seqOf[i] = existingSeq;
      exchangeTargets.push({ item: i, seq: existingSeq });
      return;
    }
    const inBatch = newByBerichtId.get(m.bericht_id);
    if (inBatch !== undefined) {
      outcomes[i] = 'duplicate';
      delta.duplicates++;
      const planned = newMessages[inBatch]!;
      planned.passages++;
      planned.exchange = earlierPassage(planned.exchange, it.exchange) ?? planned.exchange;
      exchangeTargets.push({ item: i, newIndex: inBatch });
      return;
    }
    const olderVersions = byKey.get(m.key_hash) ?? [];
    const batchVersions = newByKey.get(m.key_hash) ?? [];
    const conflict = olderVersions.length > 0 || batchVersions.length > 0;
    if (conflict) {
      for (const v of olderVersions) if (!v.conflict) conflictSeqs.add(v.seq);
      for (const idx of batchVersions) newMessages[idx]!.conflict = 1;
      earlierOf.set(
        i,
        batchVersions.length > 0
          ? { newIndex: batchVersions[batchVersions.length - 1]! }
          : { seq: Math.max(...olderVersions.map((v) => v.seq)) },
      );
      delta.conflicts++;
      outcomes[i] = 'conflict';
    } else {
      outcomes[i] = 'stored';
    }
    delta.stored++;
    const index = newMessages.length;
    newMessages.push({
      item: i,
      message: m,
      exchange: it.exchange,
      raw: it.raw,
      conflict: conflict ? 1 : 0,
      passages: 1,
    });
    newByBerichtId.set(m.bericht_id, index);
    newByKey.set(m.key_hash, [...batchVersions, index]);
    exchangeTargets.push({ item: i, newIndex: index });
  });

  // Raw rows for new messages and quarantines (a retry reuses the quarantined raw row).
  const toEncrypt: EncryptedRaw[] = [];
  const rawSlots: { kind: 'm' | 'q'; index: number }[] = [];
  newMessages.forEach((n, index) => {
    if (typeof n.raw !== 'number') {
      toEncrypt.push(n.raw);
      rawSlots.push({ kind: 'm', index });
    }
  });
  quarantines.forEach((q, index) => {
    if (typeof q.raw !== 'number') {
      toEncrypt.push(q.raw);
      rawSlots.push({ kind: 'q', index });
    }
  });
  const rawIds = toEncrypt.length ? await port.insertRaws(toEncrypt) : [];
  const messageRaw = newMessages.map((n) => (typeof n.raw === 'number' ? n.raw : 0));
  const quarantineRaw = quarantines.map((q) => (typeof q.raw === 'number' ? q.raw : 0));
  rawSlots.forEach((slot, k) => {
    if (slot.kind === 'm') messageRaw[slot.index] = rawIds[k]!;
    else quarantineRaw[slot.index] = rawIds[k]!;
  });

  const newSeqs = newMessages.length
    ? await port.insertMessages(newMessages.map((n, k) => messageRow(n, messageRaw[k]!, o)))
    : [];
  for (const t of exchangeTargets) {
    if (t.newIndex !== undefined) seqOf[t.item] = newSeqs[t.newIndex];
  }
  const conflictWith: (number | undefined)[] = new Array(items.length).fill(undefined);
  for (const [i, e] of earlierOf) conflictWith[i] = e.newIndex !== undefined ? newSeqs[e.newIndex] : e.seq;

  const requarantined: { id: number; item: number; row: Omit<QuarantineRow, 'raw_id'>; rawId: number }[] = [];
  if (retry) {
    for (const t of exchangeTargets) {
      const resolved = await port.resolveQuarantine(
        retry[t.item]!,
        items[t.item]!.exchange,
        seqOf[t.item]!,
        o.now,
      );
      // Dismissed (or resolved) by another operator while this retry ran: its decision stands.
      if (!resolved) throw closedMeanwhile(retry[t.item]!);
    }
    quarantines.forEach((q, k) => {
      requarantined.push({ id: retry[q.item]!, item: q.item, row: q.row, rawId: quarantineRaw[k]! });
      quarantineIdOf[q.item] = retry[q.item];
    });
    for (const r of requarantined) await port.requarantine(r.id, r.row.reason_code, r.row.reason, r.rawId);
  } else {
    const newQuarantines = quarantines.flatMap((q, k) =>
      reopened.has(q.item) ? [] : [{ item: q.item, row: { ...q.row, raw_id: quarantineRaw[k]! } }],
    );
    const quarantineIds = newQuarantines.length
      ? await port.insertQuarantines(newQuarantines.map((q) => q.row))
      : [];
    const exchangeRows: ExchangeRow[] = [];
    const qIdByItem = new Map(newQuarantines.map((q, k) => [q.item, quarantineIds[k]!]));
    for (const [i, id] of qIdByItem) quarantineIdOf[i] = id;
    items.forEach((it, i) => {
      if (outcomes[i] === 'skipped' || reopened.has(i)) return;
      const e = it.exchange;
      exchangeRows.push({
        exchange_key: e.exchange_key,
        hub_id: e.hub_id,
        moment: e.moment,
        verzender: e.verzender,
        ontvanger: e.ontvanger,
        source: e.source,
        content_digest: e.content_digest,
        message_seq: seqOf[i] ?? null,
        quarantine_id: qIdByItem.get(i) ?? null,
        ingest_run_id: o.runId,
      });
    });
    if (exchangeRows.length) await port.insertExchanges(exchangeRows);
    // The conditional updates make one of two concurrent batches settling the same item run again.
    for (const [i, id] of reopened) {
      const seq = seqOf[i];
      if (seq !== undefined) {
        if (!(await port.resolveInputProblem(id, seq, o.now))) throw settledConcurrently(id);
        await port.setExchangePassage(items[i]!.exchange, seq);
      }
    }
    quarantines.forEach((q, k) => {
      const id = reopened.get(q.item);
      if (id !== undefined) {
        requarantined.push({ id, item: q.item, row: q.row, rawId: quarantineRaw[k]! });
        quarantineIdOf[q.item] = id;
      }
    });
    for (const r of requarantined) {
      if (!(await port.requarantineInputProblem(r.id, r.row.reason_code, r.row.reason, r.rawId)))
        throw settledConcurrently(r.id);
      await port.setExchangePassage(items[r.item]!.exchange, null);
    }
    for (const [i, id] of settled)
      if (!(await port.resolveInputProblem(id, seqOf[i] ?? null, o.now))) throw settledConcurrently(id);
    await settleContentProblems(port, items, seqOf, settling, o.now);
  }
  if (bumps.size) await port.addPassages(bumps);
  if (conflictSeqs.size) await port.markConflict([...conflictSeqs]);
  await port.updateRun(o.runId, delta, o.now);
  return { outcomes, seqs: seqOf, quarantineReasons: reasons, quarantineIds: quarantineIdOf, conflictWith };
}

/** The `message` columns ingest writes (all but `seq`); the delivery bench clones rows with the same list. */
export const MESSAGE_COLUMNS = [
  'bericht_id',
  'standard',
  'code',
  'gemeente',
  'afzender',
  'ontvanger',
  'identificatie',
  'dagtekening',
  'identificatie_retour',
  'dagtekening_retour',
  'key_hash',
  'content_hash',
  'conflict',
  'first_moment',
  'hub_id',
  'verzender',
  'ontvanger_hub',
  'passages',
  'rows',
  'raw_id',
  'ingest_run_id',
  'ingested_at',
] as const satisfies readonly (keyof NewMessageRow)[];

const RAW_COLUMNS = [
  'key_id',
  'nonce',
  'tag',
  'ciphertext',
] as const satisfies readonly (keyof EncryptedRaw)[];

const QUARANTINE_COLUMNS = [
  'exchange_key',
  'source',
  'hub_id',
  'moment',
  'verzender',
  'ontvanger',
  'reason_code',
  'reason',
  'raw_id',
  'received_at',
] as const satisfies readonly (keyof QuarantineRow)[];

const EXCHANGE_COLUMNS = [
  'exchange_key',
  'message_seq',
  'quarantine_id',
  'hub_id',
  'moment',
  'verzender',
  'ontvanger',
  'source',
  'ingest_run_id',
  'content_digest',
] as const satisfies readonly (keyof ExchangeRow)[];

// last_batch_at: a run that stopped without `finishRun` (killed) is told from one going on by it.
const RUN_UPDATE = `UPDATE ingest_run SET received = received + $1, stored = stored + $2, duplicates = duplicates + $3,
  conflicts = conflicts + $4, quarantined = quarantined + $5, skipped = skipped + $6, last_batch_at = $7 WHERE id = $8`;
const runArgs = (runId: number, d: RunDelta, at: string) => [
  d.received,
  d.stored,
  d.duplicates,
  d.conflicts,
  d.quarantined,
  d.skipped,
  at,
  runId,
];

type SqliteDb = import('better-sqlite3').Database;

// Rows per INSERT statement: one statement per few dozen rows instead of one per row (far below SQLite's
// 32,766 bound parameters), so a batch crosses into SQLite a few dozen times, not thousands.
const SQLITE_ROWS_PER_INSERT = 50;

/**
 * A multi-row INSERT of `cols` that answers the new rowids in row order. Inside the write transaction
 * (BEGIN IMMEDIATE: the only writer) SQLite gives each row of a multi-row VALUES max(rowid) + 1 in turn,
 * so one statement's rows have consecutive ids ending at its last insert rowid.
 */
function sqliteBulkInsert(db: SqliteDb, table: string, cols: readonly string[]) {
  const statements = new Map<number, import('better-sqlite3').Statement>();
  const statementFor = (rows: number) => {
    let st = statements.get(rows);
    if (!st) {
      const tuple = `(${cols.map(() => '?').join(', ')})`;
      st = db.prepare(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`,
      );
      statements.set(rows, st);
    }
    return st;
  };
  return (rows: readonly object[]): number[] => {
    const ids: number[] = [];
    for (let start = 0; start < rows.length; start += SQLITE_ROWS_PER_INSERT) {
      const part = rows.slice(start, start + SQLITE_ROWS_PER_INSERT) as readonly Record<string, unknown>[];
      const args: unknown[] = [];
      for (const r of part) for (const c of cols) args.push(r[c]);
      const last = Number(statementFor(part.length).run(args).lastInsertRowid);
      for (let i = part.length - 1; i >= 0; i--) ids.push(last - i);
    }
    return ids;
  };
}

// One port per connection: its statements are prepared once, not per batch.
const sqlitePorts = new WeakMap<SqliteDb, BatchPort>();
function sqlitePortOf(db: SqliteDb): BatchPort {
  let port = sqlitePorts.get(db);
  if (!port) {
    port = sqlitePort(db);
    sqlitePorts.set(db, port);
  }
  return port;
}

function sqlitePort(db: SqliteDb): BatchPort {
  const exchangeKey = db.prepare(`${PENDING_SQL} WHERE e.exchange_key = ?`);
  const seqByBerichtId = db.prepare('SELECT seq FROM message WHERE bericht_id = ?').pluck();
  const versions = db.prepare('SELECT seq, bericht_id, conflict FROM message WHERE key_hash = ?');
  const insertRaws = sqliteBulkInsert(db, 'raw_message', RAW_COLUMNS);
  const insertMessages = sqliteBulkInsert(db, 'message', MESSAGE_COLUMNS);
  const insertQuarantines = sqliteBulkInsert(db, 'quarantine', QUARANTINE_COLUMNS);
  const insertExchanges = sqliteBulkInsert(db, 'exchange', EXCHANGE_COLUMNS);
  const addPassages = db.prepare(
    `UPDATE message SET passages = passages + @n, ${earlierPassageSet('', (a) => `@${a}`)} WHERE seq = @seq`,
  );
  const markConflict = db.prepare('UPDATE message SET conflict = 1 WHERE seq = ?');
  const updateRun = db.prepare(RUN_UPDATE.replace(/\$\d/g, '?'));
  const resolveInputProblem = db.prepare(
    `UPDATE quarantine SET status = 'resolved', resolved_at = ?, resolved_message_seq = ? WHERE id = ? AND ${OPEN_INPUT_PROBLEM}`,
  );
  const requarantineInputProblem = db.prepare(
    `UPDATE quarantine SET reason_code = ?, reason = ?, raw_id = ? WHERE id = ? AND ${OPEN_INPUT_PROBLEM}`,
  );
  const setExchangePassage = db.prepare(
    `UPDATE exchange SET message_seq = ?, content_digest = ?, ${FILL_PASSAGE} WHERE exchange_key = ?`,
  );
  const resolveQuarantine = db.prepare(
    "UPDATE quarantine SET status = 'resolved', resolved_at = ?, resolved_message_seq = ? WHERE id = ? AND status = 'open'",
  );
  const setRetriedExchange = db.prepare(
    `UPDATE exchange SET message_seq = ?, ${RETRY_FILL} WHERE exchange_key = ?`,
  );
  const requarantine = db.prepare(
    'UPDATE quarantine SET reason_code = ?, reason = ?, raw_id = ? WHERE id = ?',
  );
  const openContentProblem = db.prepare(`${CONTENT_PROBLEM_SQL} AND exchange_key = ?`);
  const resolveContentProblem = db.prepare(
    `UPDATE quarantine SET status = 'resolved', resolved_at = ?, resolved_message_seq = ? WHERE id = ? AND ${OPEN_CONTENT_PROBLEM}`,
  );
  return {
    existingExchanges: async (keys) => {
      const out: KnownExchanges = new Map();
      for (const k of keys) {
        const row = exchangeKey.get(k) as
          | { k: string; q: number | null; m: string; d: string | null; s: string }
          | undefined;
        if (row)
          out.set(k, {
            pendingQuarantineId: row.q === null ? null : Number(row.q),
            moment: row.m,
            digest: row.d,
            source: row.s,
          });
      }
      return out;
    },
    seqsByBerichtId: async (ids) => {
      const out = new Map<string, number>();
      for (const id of ids) {
        const seq = seqByBerichtId.get(id) as number | undefined;
        if (seq !== undefined) out.set(id, seq);
      }
      return out;
    },
    byKeyHash: async (hashes) => {
      const out = new Map<string, ExistingByKey[]>();
      for (const h of hashes) {
        const rows = versions.all(h) as ExistingByKey[];
        if (rows.length) out.set(h, rows);
      }
      return out;
    },
    insertRaws: async (raws) => insertRaws(raws),
    insertMessages: async (rows) => insertMessages(rows),
    insertQuarantines: async (rows) => insertQuarantines(rows),
    insertExchanges: async (rows) => {
      insertExchanges(rows);
    },
    addPassages: async (bumps) => {
      for (const [seq, b] of bumps) addPassages.run({ seq, n: b.n, ...earlierArgs(b) });
    },
    markConflict: async (seqs) => {
      for (const s of seqs) markConflict.run(s);
    },
    updateRun: async (runId, d, at) => {
      updateRun.run(...runArgs(runId, d, at));
    },
    resolveQuarantine: async (id, e, seq, at) => {
      if (resolveQuarantine.run(at, seq, id).changes !== 1) return false;
      setRetriedExchange.run(seq, e.verzender, e.ontvanger, e.content_digest, e.exchange_key);
      return true;
    },
    requarantine: async (id, code, reason, rawId) => {
      requarantine.run(code, reason, rawId, id);
    },
    resolveInputProblem: async (id, seq, at) => resolveInputProblem.run(at, seq, id).changes === 1,
    requarantineInputProblem: async (id, code, reason, rawId) =>
      requarantineInputProblem.run(code, reason, rawId, id).changes === 1,
    setExchangePassage: async (e, seq) => {
      setExchangePassage.run(seq, e.content_digest, e.moment, e.verzender, e.ontvanger, e.exchange_key);
    },
    openContentProblems: async (keys) => {
      const out = new Map<string, ContentProblem>();
      for (const k of keys) {
        const row = openContentProblem.get(k) as ContentProblem | undefined;
        if (row) out.set(k, { ...row, id: Number(row.id) });
      }
      return out;
    },
    resolveContentProblem: async (id, seq, at) => resolveContentProblem.run(at, seq, id).changes === 1,
  };
}

type PgClient = Extract<IngestTx, { dialect: 'postgres' }>['client'];

function postgresPort(client: PgClient): BatchPort {
  const nextIds = async (table: string, column: string, n: number): Promise<number[]> => {
    const { rows } = await client.query<{ id: number }>(
      `SELECT nextval(pg_get_serial_sequence('${table}', '${column}')) AS id FROM generate_series(1, $1)`,
      [n],
    );
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  };
  // One COPY per batch and table. Binding whole columns as arrays (unnest) cost more client CPU than the
  // parse: every JSON `rows` cell was escaped into an array literal and the bind buffer regrown per batch.
  const bulkInsert = (
    table: string,
    cols: readonly string[],
    rows: readonly object[],
    ids?: { readonly column: string; readonly values: readonly number[] },
  ) =>
    pipeline(
      Readable.from(copyChunks(cols, rows as readonly Record<string, unknown>[], ids?.values)),
      client.query(copyFrom(`COPY ${table} (${ids ? `${ids.column}, ` : ''}${cols.join(', ')}) FROM STDIN`)),
    );
  // Ids first (from the sequence), then one COPY: the ids are the batch's answer to the caller.
  const insertWithIds = async (
    table: string,
    idColumn: string,
    cols: readonly string[],
    rows: readonly object[],
  ): Promise<number[]> => {
    const ids = await nextIds(table, idColumn, rows.length);
    await bulkInsert(table, cols, rows, { column: idColumn, values: ids });
    return ids;
  };
  return {
    existingExchanges: async (keys) => {
      const { rows } = await client.query<{
        k: string;
        q: string | number | null;
        m: string;
        d: string | null;
        s: string;
      }>(`${PENDING_SQL} WHERE e.exchange_key = ANY($1::text[])`, [keys]);
      return new Map(
        rows.map((r) => [
          r.k,
          {
            pendingQuarantineId: r.q === null ? null : Number(r.q),
            moment: r.m,
            digest: r.d,
            source: r.s,
          },
        ]),
      );
    },
    seqsByBerichtId: async (ids) => {
      const { rows } = await client.query<{ seq: number; bericht_id: string }>(
        'SELECT seq, bericht_id FROM message WHERE bericht_id = ANY($1::text[])',
        [ids],
      );
      return new Map(rows.map((r) => [r.bericht_id, Number(r.seq)]));
    },
    byKeyHash: async (hashes) => {
      const { rows } = await client.query<ExistingByKey & { key_hash: string }>(
        'SELECT seq, bericht_id, conflict, key_hash FROM message WHERE key_hash = ANY($1::text[]) ORDER BY seq',
        [hashes],
      );
      const out = new Map<string, ExistingByKey[]>();
      for (const r of rows)
        out.set(r.key_hash, [...(out.get(r.key_hash) ?? []), { ...r, seq: Number(r.seq) }]);
      return out;
    },
    insertRaws: (raws) => insertWithIds('raw_message', 'id', RAW_COLUMNS, raws),
    insertMessages: (rows) => insertWithIds('message', 'seq', MESSAGE_COLUMNS, rows),
    insertQuarantines: (rows) => insertWithIds('quarantine', 'id', QUARANTINE_COLUMNS, rows),
    insertExchanges: (rows) => bulkInsert('exchange', EXCHANGE_COLUMNS, rows),
    addPassages: async (bumps) => {
      const args = [...bumps.values()].map(earlierArgs);
      await client.query(
        `UPDATE message m SET passages = m.passages + b.n, ${earlierPassageSet('m.', (a) => `b.${a}`)}
         FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[])
           AS b(seq, n, moment, hub_id, verzender, ontvanger)
         WHERE m.seq = b.seq`,
        [
          [...bumps.keys()],
          [...bumps.values()].map((b) => b.n),
          args.map((a) => a.moment),
          args.map((a) => a.hub_id),
          args.map((a) => a.verzender),
          args.map((a) => a.ontvanger),
        ],
      );
    },
    markConflict: async (seqs) => {
      await client.query('UPDATE message SET conflict = 1 WHERE seq = ANY($1::bigint[])', [seqs]);
    },
    updateRun: async (runId, d, at) => {
      await client.query(RUN_UPDATE, runArgs(runId, d, at));
    },
    resolveQuarantine: async (id, e, seq, at) => {
      const r = await client.query(
        "UPDATE quarantine SET status = 'resolved', resolved_at = $1, resolved_message_seq = $2 WHERE id = $3 AND status = 'open'",
        [at, seq, id],
      );
      if (r.rowCount !== 1) return false;
      await client.query(
        `UPDATE exchange SET message_seq = $1, ${numbered(RETRY_FILL, 2)} WHERE exchange_key = $5`,
        [seq, e.verzender, e.ontvanger, e.content_digest, e.exchange_key],
      );
      return true;
    },
    requarantine: async (id, code, reason, rawId) => {
      await client.query('UPDATE quarantine SET reason_code = $1, reason = $2, raw_id = $3 WHERE id = $4', [
        code,
        reason,
        rawId,
        id,
      ]);
    },
    resolveInputProblem: async (id, seq, at) =>
      (
        await client.query(
          `UPDATE quarantine SET status = 'resolved', resolved_at = $1, resolved_message_seq = $2 WHERE id = $3 AND ${OPEN_INPUT_PROBLEM}`,
          [at, seq, id],
        )
      ).rowCount === 1,
    requarantineInputProblem: async (id, code, reason, rawId) =>
      (
        await client.query(
          `UPDATE quarantine SET reason_code = $1, reason = $2, raw_id = $3 WHERE id = $4 AND ${OPEN_INPUT_PROBLEM}`,
          [code, reason, rawId, id],
        )
      ).rowCount === 1,
    openContentProblems: async (keys) => {
      const { rows } = await client.query<ContentProblem>(
        `${CONTENT_PROBLEM_SQL} AND exchange_key = ANY($1::text[])`,
        [keys],
      );
      return new Map(rows.map((r) => [r.exchange_key, { ...r, id: Number(r.id) }]));
    },
    resolveContentProblem: async (id, seq, at) =>
      (
        await client.query(
          `UPDATE quarantine SET status = 'resolved', resolved_at = $1, resolved_message_seq = $2 WHERE id = $3 AND ${OPEN_CONTENT_PROBLEM}`,
          [at, seq, id],
        )
      ).rowCount === 1,
    setExchangePassage: async (e, seq) => {
      await client.query(
        `UPDATE exchange SET message_seq = $1, content_digest = $2, ${numbered(FILL_PASSAGE, 3)} WHERE exchange_key = $6`,
        [seq, e.content_digest, e.moment, e.verzender, e.ontvanger, e.exchange_key],
      );
    },
  };
}

// COPY text format: NULL as \N; backslash, newline, carriage return and tab escaped; bytea as hex.
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const NEEDS_ESCAPE = /[\\\n\r\t]/;

function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  const s = String(v);
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!) : s;
}

/** COPY data in chunks of a few hundred rows (one CopyData message each, not one per row); `ids` first if given. */
export function* copyChunks(
  cols: readonly string[],
  rows: readonly Record<string, unknown>[],
  ids?: readonly number[],
): Generator<string> {
  const CHUNK = 256;
  for (let start = 0; start < rows.length; start += CHUNK) {
    let text = '';
    for (let i = start; i < Math.min(start + CHUNK, rows.length); i++) {
      const r = rows[i]!;
      let line = ids ? `${ids[i]}\t` : '';
      for (let c = 0; c < cols.length; c++) line += (c ? '\t' : '') + copyField(r[cols[c]!]);
      text += `${line}\n`;
    }
    yield text;
  }
}

/**
 * COPY data of rows handed over one at a time as their cells in column order (`run`), kept as bytes in chunks
 * of a few hundred rows: no array or string per row outlives its call.
 */
export class CopyCells {
  readonly chunks: Buffer[] = [];
  #text = '';
  #rows = 0;

  run(...cells: unknown[]): void {
    let line = copyField(cells[0]);
    for (let c = 1; c < cells.length; c++) line += `\t${copyField(cells[c])}`;
    this.#text += `${line}\n`;
    if (++this.#rows === 256) this.#seal();
  }

  /** The chunks, the last one included. */
  done(): Buffer[] {
    if (this.#rows > 0) this.#seal();
    return this.chunks;
  }

  #seal(): void {
    this.chunks.push(Buffer.from(this.#text));
    this.#text = '';
    this.#rows = 0;
  }
}

/** Starts a run row (its counts grow with every committed batch, so a killed run still shows what it did). */
export async function startRun(store: Store, source: string, now: string): Promise<number> {
  const row = await store.db
    .insertInto('ingest_run')
    .values({
      source,
      started_at: now,
      finished_at: null,
      last_batch_at: null,
      received: 0,
      stored: 0,
      duplicates: 0,
      conflicts: 0,
      quarantined: 0,
      skipped: 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function finishRun(store: Store, runId: number, now: string): Promise<void> {
  await store.db.updateTable('ingest_run').set({ finished_at: now }).where('id', '=', runId).execute();
}

/** What the store knows of an exchange key: whether all it holds is an open input problem, and its moment. */
export interface KnownExchange {
  /** Its only record is an open input-problem item (see `INPUT_PROBLEM_CODES`). */
  readonly onlyInputProblem: boolean;
  readonly moment: string;
  /** `exchange.content_digest`: null without a hub id, and for exchanges stored before migration 0012. */
  readonly digest: string | null;
  /** The file (a bad line: `<manifest>#<line>`) as its source named it. */
  readonly source: string;
}

/** Exchange keys already stored, for skipping the parse of a re-ingested exchange (the batch checks again). */
export async function knownExchangeKeys(
  store: Store,
  keys: readonly string[],
): Promise<Map<string, KnownExchange>> {
  const known = new Map<string, KnownExchange>();
  // In slices: one bound parameter per key, and a batch of tens of thousands of exchanges (--batch-size) would
  // pass the limit of SQLite (32,766) or PostgreSQL (65,535).
  for (let i = 0; i < keys.length; i += KNOWN_KEYS_SLICE) {
    const { rows } = await sql<{
      k: string;
      q: number | null;
      m: string;
      d: string | null;
      s: string;
    }>`${sql.raw(PENDING_SQL)} WHERE e.exchange_key IN (${sql.join(keys.slice(i, i + KNOWN_KEYS_SLICE))})`.execute(
      store.db,
    );
    for (const r of rows)
      known.set(r.k, { onlyInputProblem: r.q !== null, moment: r.m, digest: r.d, source: r.s });
  }
  return known;
}

const KNOWN_KEYS_SLICE = 10_000;

/**
 * Settles the open input-problem items of folders a run has read (they could not be read, or were links that
 * were refused): resolved without a message, as the folder's files came as exchanges of their own. Only items
 * recorded before the run began (`before`, so not one a concurrent run made since the listing), by a run of
 * the same source (`source`: a folder of the same name elsewhere settles nothing). The item and its exchange
 * row get a key of their own, so the folder failing again later is a new item, not "already ingested".
 * Returns how many were settled.
 */
export async function settleFolderProblems(
  store: Store,
  input: {
    readonly exchangeKeys: readonly string[];
    readonly source: string;
    readonly before: string;
    readonly at: string;
  },
): Promise<number> {
  let settled = 0;
  // In slices: one bound parameter per key.
  for (let i = 0; i < input.exchangeKeys.length; i += 500) {
    const open = await store.db
      .selectFrom('quarantine as q')
      .innerJoin('exchange as e', 'e.quarantine_id', 'q.id')
      .innerJoin('ingest_run as r', 'r.id', 'e.ingest_run_id')
      .select(['q.id', 'q.exchange_key'])
      .where('q.exchange_key', 'in', input.exchangeKeys.slice(i, i + 500))
      .where('q.status', '=', 'open')
      .where('q.reason_code', 'in', [...INPUT_PROBLEM_CODES])
      .where('q.received_at', '<=', input.before)
      .where('r.source', '=', input.source)
      .execute();
    for (const item of open) {
      const settledKey = `${item.exchange_key}#settled:${input.at}`;
      await store.db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('quarantine')
          .set({
            status: 'resolved',
            resolved_at: input.at,
            resolved_message_seq: null,
            exchange_key: settledKey,
          })
          .where('id', '=', item.id)
          .where('status', '=', 'open')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return; // settled or dismissed meanwhile
        await trx
          .updateTable('exchange')
          .set({ exchange_key: settledKey })
          .where('quarantine_id', '=', item.id)
          .execute();
        settled++;
      });
    }
  }
  return settled;
}
