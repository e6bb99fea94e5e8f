import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { INFO_SEP, keyspaceOf, type LinkEntry } from '../links/entries.js';
import { linkId, type PlannedLink } from '../links/match.js';
import type { Database } from './database.js';
import { CopyCells } from './ingest-repository.js';
import type { IngestTx } from './watermark.js';

/**
 * The link repository. It works on the raw driver handle of the ingest transaction (`IngestTx`) so linking
 * can run inside an ingest batch, and so link seqs obey the same watermark rule as message seqs.
 */

/** Advisory lock that serialises linking transactions on PostgreSQL (the ingest lock is shared). */
export const LINK_LOCK_ID = 4243;

const sqliteStatements = new WeakMap<object, Map<string, import('better-sqlite3').Statement>>();

async function exec(
  tx: IngestTx,
  text: string,
  params: readonly unknown[],
): Promise<Record<string, unknown>[]> {
  if (tx.dialect === 'postgres') {
    const result = await tx.client.query(pgText(text), params as unknown[]);
    return result.rows as Record<string, unknown>[];
  }
  const stmt = sqliteStatement(tx, text);
  if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
  stmt.run(...params);
  return [];
}

/** `?` placeholders as PostgreSQL's `$n`. */
function pgText(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * A query's rows as arrays of cells in select order: no object per row with a property per column (the
 * key lookup reads tens of thousands of rows per ingest run).
 */
async function execCells(tx: IngestTx, text: string, params: readonly unknown[]): Promise<unknown[][]> {
  if (tx.dialect === 'postgres') {
    const result = await tx.client.query({
      text: pgText(text),
      values: params as unknown[],
      rowMode: 'array',
    });
    return result.rows as unknown[][];
  }
  const stmt = sqliteStatement(tx, text, true);
  return stmt.all(...params) as unknown[][];
}

function sqliteStatement(
  tx: IngestTx & { dialect: 'sqlite' },
  text: string,
  raw = false,
): import('better-sqlite3').Statement {
  let cache = sqliteStatements.get(tx.sqlite);
  if (!cache) {
    cache = new Map();
    sqliteStatements.set(tx.sqlite, cache);
  }
  const id = raw ? `raw:${text}` : text;
  let stmt = cache.get(id);
  if (!stmt) {
    stmt = tx.sqlite.prepare(text);
    if (raw) stmt.raw(true);
    cache.set(id, stmt);
  }
  return stmt;
}

/** Hands one row's cells, in the table's column order, to `out.run` as its arguments. */
type RowCells<T> = (out: { run(...cells: unknown[]): unknown }, item: T) => void;

/**
 * Appends a row per item: one prepared single-row statement per row on SQLite (fastest there), its cells
 * bound as arguments with no array per row in between (tens of thousands of rows per ingest run); one COPY
 * on PostgreSQL (no bind parameters to encode, no statement to plan).
 */
async function appendRows<T>(
  tx: IngestTx,
  into: string,
  columns: readonly string[],
  items: readonly T[],
  cells: RowCells<T>,
): Promise<void> {
  if (items.length === 0) return;
  if (tx.dialect === 'sqlite') {
    const stmt = sqliteStatement(
      tx,
      `INSERT INTO ${into} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    for (const item of items) cells(stmt, item);
    return;
  }
  const copy = new CopyCells();
  for (const item of items) cells(copy, item);
  await pipeline(
    Readable.from(copy.done()),
    tx.client.query(copyFrom(`COPY ${into} (${columns.join(', ')}) FROM STDIN`)),
  );
}

/**
 * A set of values as one bound parameter: a JSON array read by `json_each` on SQLite, an array for
 * `= ANY` on PostgreSQL. One statement text whatever the count, so SQLite prepares it once per
 * connection (a list of `?` per count was prepared again for nearly every batch).
 */
function inSet(tx: IngestTx, values: readonly string[]): { sql: string; param: unknown } | undefined {
  const unique = [...new Set(values)];
  if (unique.length === 0) return undefined;
  return tx.dialect === 'postgres'
    ? { sql: '= ANY(?::text[])', param: unique }
    : { sql: 'IN (SELECT value FROM json_each(?))', param: JSON.stringify(unique) };
}

/** Marks messages as linked; returns the seqs that were not yet (only those must be linked now). */
export async function claimMessages(tx: IngestTx, seqs: readonly number[]): Promise<Set<number>> {
  const unique = [...new Set(seqs)];
  const claimed = new Set<number>();
  if (tx.dialect === 'sqlite') {
    const stmt = sqliteStatement(tx, 'INSERT INTO link_done (seq) VALUES (?) ON CONFLICT DO NOTHING');
    for (const seq of unique) if (stmt.run(seq).changes > 0) claimed.add(seq);
    return claimed;
  }
  const { rows } = await tx.client.query<{ seq: number }>(
    'INSERT INTO link_done (seq) SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING RETURNING seq',
    [unique],
  );
  for (const r of rows) claimed.add(Number(r.seq));
  return claimed;
}

/** Linking is one writer at a time: a batch must see the entries of the batch before it (PostgreSQL). */
export async function lockLinking(tx: IngestTx): Promise<void> {
  if (tx.dialect === 'postgres') await exec(tx, 'SELECT pg_advisory_xact_lock(?)', [LINK_LOCK_ID]);
}

/** Stored messages below `beforeSeq` and above the highest linked seq that are not linked (after a crash). */
/** The `message` columns linking reads of a stored message (its header, seq and rows). */
export const LINKABLE_MESSAGE_COLUMNS = [
  'seq',
  'bericht_id',
  'code',
  'gemeente',
  'afzender',
  'ontvanger',
  'identificatie',
  'dagtekening',
  'rows',
] as const;

export async function unlinkedBefore(
  tx: IngestTx,
  beforeSeq: number,
  limit: number,
): Promise<Record<string, unknown>[]> {
  return exec(
    tx,
    `SELECT ${LINKABLE_MESSAGE_COLUMNS.join(', ')} FROM message m WHERE m.seq > (SELECT COALESCE(MAX(seq), 0) FROM link_done) AND m.seq < ? AND NOT EXISTS (SELECT 1 FROM link_done d WHERE d.seq = m.seq) ORDER BY m.seq LIMIT ?`,
    [beforeSeq, limit],
  );
}

/** `link_key`'s columns, in the order `insertEntries` gives the cells. */
const LINK_KEY_COLUMNS = [
  'keyspace',
  'k',
  'tag',
  'gemeente',
  'bericht_id',
  'tbl',
  'row',
  'dagtekening',
  'ord',
  'info',
  'msg',
];

export async function insertEntries(tx: IngestTx, entries: readonly LinkEntry[]): Promise<void> {
  await appendRows(tx, 'link_key', LINK_KEY_COLUMNS, entries, (out, e) =>
    out.run(
      keyspaceOf(e.key),
      e.key,
      e.tag,
      e.gemeente,
      e.berichtId,
      e.table,
      e.row,
      e.dagtekening,
      e.order,
      e.info,
      e.message,
    ),
  );
}

const ENTRY_COLUMNS = 'k, tag, gemeente, bericht_id, tbl, row, dagtekening, ord, info, msg';

/**
 * Every indexed entry under these keys, grouped by key (added to `into` when given); `withoutDebetsAndStarts`
 * leaves out debet prestaties, starts and stops (for keys whose new entries cannot pair with them, see
 * `ignoresStoredDebetsAndStarts`).
 */
export async function entriesByKey(
  tx: IngestTx,
  keys: readonly string[],
  options: { readonly withoutDebetsAndStarts?: boolean; readonly into?: Map<string, LinkEntry[]> } = {},
): Promise<Map<string, LinkEntry[]>> {
  const out = options.into ?? new Map<string, LinkEntry[]>();
  const set = inSet(tx, keys);
  if (!set) return out;
  // A debet prestatie's info starts `D|` (indexed before INFO_SEP) or `D` + INFO_SEP (a control character
  // written into the literal as it is).
  const filter = options.withoutDebetsAndStarts
    ? ` AND NOT (tag IN ('start', 'stop') OR (tag = 'prestatie' AND substr(info, 1, 2) IN ('D|', 'D${INFO_SEP}')))`
    : '';
  const rows = await execCells(tx, `SELECT ${ENTRY_COLUMNS} FROM link_key WHERE k ${set.sql}${filter}`, [
    set.param,
  ]);
  for (const r of rows) {
    const e: LinkEntry = {
      key: r[0] as string,
      tag: r[1] as string,
      gemeente: r[2] as string,
      berichtId: r[3] as string,
      table: r[4] as string,
      row: r[5] as string,
      dagtekening: r[6] as string,
      order: r[7] as string,
      info: r[8] as string,
      message: r[9] as string,
    };
    const list = out.get(e.key);
    if (list) list.push(e);
    else out.set(e.key, [e]);
  }
  return out;
}

/** The key spaces under which linking recomputes relations (`RECOMPUTED`), and the tag a key needs there. */
export const RECOMPUTED_KEYSPACES = [
  { keyspace: 'start', tag: null },
  { keyspace: 'stop', tag: null },
  // A ToewijzingNummer's version chain: a key with a 301 row.
  { keyspace: 'twn', tag: 'toewijzing' },
] as const;

/**
 * The next `limit` keys of one of those key spaces after `after`, in key order: a cursor in bounded batches.
 * A plain read, outside the linking lock: a key the store gains meanwhile is linked by the rules of now
 * anyway. It starts at the key space's prefix, which sorts before its keys in any collation, so it does
 * not walk the key spaces before it in the index.
 */
export async function recomputedKeysAfter(
  db: Kysely<Database>,
  space: (typeof RECOMPUTED_KEYSPACES)[number],
  after: string,
  limit: number,
): Promise<string[]> {
  const prefix = `${space.keyspace}|`;
  let q = db
    .selectFrom('link_key')
    .select('k')
    .distinct()
    .where('keyspace', '=', space.keyspace)
    .where('k', '>', after > prefix ? after : prefix);
  if (space.tag) q = q.where('tag', '=', space.tag);
  const rows = await q.orderBy('k').limit(limit).execute();
  return rows.map((r) => r.k);
}

/** The stored heen messages these `msg|…` keys name (found by their heen entry), as linking reads them. */
export async function heenMessagesOf(
  tx: IngestTx,
  messageKeys: readonly string[],
): Promise<Record<string, unknown>[]> {
  const set = inSet(tx, messageKeys);
  if (!set) return [];
  return exec(
    tx,
    `SELECT ${LINKABLE_MESSAGE_COLUMNS.join(', ')} FROM message WHERE bericht_id IN (SELECT bericht_id FROM link_key WHERE k ${set.sql} AND tag = 'heen') ORDER BY seq`,
    [set.param],
  );
}

/** Of these heen message keys, the ones a retour rejected. */
export async function rejectedMessageKeys(
  tx: IngestTx,
  messageKeys: readonly string[],
): Promise<Set<string>> {
  const set = inSet(tx, messageKeys);
  if (!set) return new Set();
  const rows = await exec(
    tx,
    `SELECT DISTINCT k FROM link_key WHERE k ${set.sql} AND tag = 'retour' AND info = 'afgewezen'`,
    [set.param],
  );
  return new Set(rows.map((r) => String(r.k)));
}

const toLink = (r: Record<string, unknown>): PlannedLink & { mutatie: string } => ({
  type: String(r.type) as PlannedLink['type'],
  mutatie: String(r.mutatie),
  gemeente: String(r.gemeente),
  fromTable: String(r.from_table),
  fromBerichtId: String(r.from_bericht_id),
  fromRow: String(r.from_row),
  toTable: String(r.to_table),
  toBerichtId: String(r.to_bericht_id),
  toRow: String(r.to_row),
});

/**
 * The relations that can lapse (recomputed, see `RECOMPUTED`), as the SQL predicate of the `link_from_lapsing`
 * index (migration 0014): a query uses that partial index only when it repeats the predicate literally.
 */
export const LAPSING_LINK_TYPES = ['correctie', 'stop-start', 'toewijzing-versie'] as const;
export const lapsingLinkTypesSql = (column = 'type'): string =>
  `(${LAPSING_LINK_TYPES.map((t) => `${column} = '${t}'`).join(' OR ')})`;

/**
 * The link event `alias` is still in force (up to `seqTo`): no later event of its pair. Only relations that
 * can lapse have later events, so only those are looked up, in the partial index that holds them.
 */
export const inForceSql = (alias: string, seqTo?: number): RawBuilder<boolean> => {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  const upTo = seqTo === undefined ? sql`` : sql` and later.seq <= ${seqTo}`;
  return sql<boolean>`not exists (select 1 from link later where ${sql.raw(lapsingLinkTypesSql('later.type'))} and later.from_bericht_id = ${col('from_bericht_id')} and later.from_table = ${col('from_table')} and later.from_row = ${col('from_row')} and later.type = ${col('type')} and later.to_bericht_id = ${col('to_bericht_id')} and later.to_table = ${col('to_table')} and later.to_row = ${col('to_row')} and later.seq > ${col('seq')}${upTo})`;
};

/** The links that can lapse from these messages that are in force: the last event of each pair is an addition. */
export async function activeLapsingLinksFrom(
  tx: IngestTx,
  fromBerichtIds: readonly string[],
): Promise<PlannedLink[]> {
  const set = inSet(tx, fromBerichtIds);
  if (!set) return [];
  const rows = await exec(
    tx,
    `SELECT ${LINK_EVENT_COLUMNS.join(', ')} FROM link WHERE from_bericht_id ${set.sql} AND ${lapsingLinkTypesSql()} ORDER BY seq`,
    [set.param],
  );
  const state = new Map<string, PlannedLink & { mutatie: string }>();
  for (const l of rows.map(toLink)) state.set(linkId(l), l);
  return [...state.values()].filter((l) => l.mutatie === 'toegevoegd');
}

/** A link event's own columns (without `seq` and `created_at`), as every reader and writer of `link` names them. */
export const LINK_EVENT_COLUMNS = [
  'type',
  'mutatie',
  'gemeente',
  'from_table',
  'from_bericht_id',
  'from_row',
  'to_table',
  'to_bericht_id',
  'to_row',
] as const;

/** `link`'s columns, in the order `insertLinks` gives the cells. */
const LINK_COLUMNS = [...LINK_EVENT_COLUMNS, 'created_at'];

/** Appends link events, each with the next seq. */
export async function insertLinks(
  tx: IngestTx,
  links: readonly PlannedLink[],
  mutatie: 'toegevoegd' | 'vervallen',
  now: string,
): Promise<void> {
  await appendRows(tx, 'link', LINK_COLUMNS, links, (out, l) =>
    out.run(
      l.type,
      mutatie,
      l.gemeente,
      l.fromTable,
      l.fromBerichtId,
      l.fromRow,
      l.toTable,
      l.toBerichtId,
      l.toRow,
      now,
    ),
  );
}
