import { type Kysely, sql } from 'kysely';
import { HISTORY_START_INSTANT } from '../domain/delivery-week.js';
import type { Database } from './database.js';
import { inForceSql, LINK_EVENT_COLUMNS } from './links.js';
import type { Store } from './open.js';
import type { DeliveryKind, DeliveryTable } from './tables/deliveries.js';

export interface Delivery {
  readonly id: number;
  readonly organisation: string;
  readonly kind: DeliveryKind;
  readonly slot: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly seqFrom: number;
  readonly seqTo: number;
  readonly linkSeqFrom: number;
  readonly linkSeqTo: number;
  readonly messageCount: number;
  /** Made with the columns of personal data in clear left empty (the organisation's choice then). */
  readonly personalDataLeftOut: boolean;
  /**
   * A weekly's members sent from the start (all their data so far: added to a head organisation since the
   * weekly before); null when not recorded (made before migration 0025) and for a history.
   */
  readonly catchUp: readonly string[] | null;
  /** The organisation's first weekly: all its data so far (its period starts where a history's does, or earlier). */
  readonly firstWeekly: boolean;
  readonly madeAt: string;
  readonly availableAt: string;
  readonly expiresAt: string;
  readonly file: string;
  readonly fileName: string;
  readonly size: number;
  readonly sha256: string;
  readonly firstDownloadedAt: string | null;
  readonly firstDownloadedBy: string | null;
  readonly downloadCount: number;
  readonly deletedAt: string | null;
  readonly deletedBy: string | null;
}

type DeliveryRow = Omit<DeliveryTable, 'id'> & { id: number };

function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: Number(r.id),
    organisation: r.organisation,
    kind: r.kind,
    slot: r.slot,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    seqFrom: Number(r.seq_from),
    seqTo: Number(r.seq_to),
    linkSeqFrom: Number(r.link_seq_from),
    linkSeqTo: Number(r.link_seq_to),
    messageCount: Number(r.message_count),
    personalDataLeftOut: Number(r.personal_data_left_out) === 1,
    catchUp: r.catch_up === null || r.catch_up === undefined ? null : r.catch_up.split(',').filter(Boolean),
    // As deliver decides it: a weekly from cursor 0 holds all data so far.
    firstWeekly: r.kind === 'weekly' && Number(r.seq_from) === 0,
    madeAt: r.made_at,
    availableAt: r.available_at,
    expiresAt: r.expires_at,
    file: r.file,
    fileName: r.file_name,
    size: Number(r.size),
    sha256: r.sha256,
    firstDownloadedAt: r.first_downloaded_at,
    firstDownloadedBy: r.first_downloaded_by,
    downloadCount: Number(r.download_count),
    deletedAt: r.deleted_at,
    deletedBy: r.deleted_by,
  };
}

export type NewDelivery = Omit<
  DeliveryTable,
  | 'id'
  | 'first_downloaded_at'
  | 'first_downloaded_by'
  | 'download_count'
  | 'deleted_at'
  | 'deleted_by'
  | 'catch_up'
> & { readonly catch_up?: string | null };

/** Inserts a delivery; undefined when this (organisation, kind, slot) already has one. */
export async function insertDelivery(db: Kysely<Database>, row: NewDelivery): Promise<number | undefined> {
  const r = await db
    .insertInto('delivery')
    .values({
      ...row,
      first_downloaded_at: null,
      first_downloaded_by: null,
      download_count: 0,
      deleted_at: null,
      deleted_by: null,
    })
    .onConflict((oc) => oc.columns(['organisation', 'kind', 'slot']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return r ? Number(r.id) : undefined;
}

export async function findDelivery(
  db: Kysely<Database>,
  key: { organisation: string; kind: DeliveryKind; slot: string },
): Promise<Delivery | undefined> {
  const r = await db
    .selectFrom('delivery')
    .selectAll()
    .where('organisation', '=', key.organisation)
    .where('kind', '=', key.kind)
    .where('slot', '=', key.slot)
    .executeTakeFirst();
  return r ? toDelivery(r as DeliveryRow) : undefined;
}

export async function getDelivery(db: Kysely<Database>, id: number): Promise<Delivery | undefined> {
  const r = await db.selectFrom('delivery').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toDelivery(r as DeliveryRow) : undefined;
}

/** An organisation's deliveries, newest first (weekly before history within one slot). */
export async function listDeliveryRows(db: Kysely<Database>, organisation: string): Promise<Delivery[]> {
  const rows = await db
    .selectFrom('delivery')
    .selectAll()
    .where('organisation', '=', organisation)
    .orderBy('slot', 'desc')
    .orderBy('kind', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((r) => toDelivery(r as DeliveryRow));
}

/**
 * Records one download; the earliest sets who and when. Downloads are recorded when they end, so of two at
 * once the one that started first may end last: its moment (as in its audit line) still wins.
 */
/**
 * Per organisation with deliveries in force at `now`: when the latest was made, and how many nobody has
 * downloaded yet (nor deleted) — what the operator checks after a Sunday.
 */
export async function deliveryOverview(
  db: Kysely<Database>,
  now: Date,
): Promise<Map<string, { readonly lastMadeAt: string; readonly notDownloaded: number }>> {
  const rows = await db
    .selectFrom('delivery')
    .select((eb) => [
      'organisation',
      eb.fn.max('made_at').as('last_made_at'),
      eb.fn
        .sum<number | string>(
          eb
            .case()
            .when(eb.and([eb('first_downloaded_at', 'is', null), eb('deleted_at', 'is', null)]))
            .then(1)
            .else(0)
            .end(),
        )
        .as('not_downloaded'),
    ])
    .where('expires_at', '>', now.toISOString())
    .groupBy('organisation')
    .execute();
  return new Map(
    rows.map((r) => [
      r.organisation,
      { lastMadeAt: String(r.last_made_at), notDownloaded: Number(r.not_downloaded) },
    ]),
  );
}

export async function recordDownload(db: Kysely<Database>, id: number, at: Date, by: string): Promise<void> {
  const iso = at.toISOString();
  const earlier = sql<boolean>`(first_downloaded_at IS NULL OR first_downloaded_at > ${iso})`;
  await db
    .updateTable('delivery')
    .set({
      download_count: sql`download_count + 1`,
      first_downloaded_at: sql`CASE WHEN ${earlier} THEN ${iso} ELSE first_downloaded_at END`,
      first_downloaded_by: sql`CASE WHEN ${earlier} THEN ${by} ELSE first_downloaded_by END`,
    })
    .where('id', '=', id)
    .execute();
}

/** Marks a delivery's file deleted by a user (the listing stays until it expires). */
export async function markDeleted(db: Kysely<Database>, id: number, at: Date, by: string): Promise<boolean> {
  const r = await db
    .updateTable('delivery')
    .set({ deleted_at: at.toISOString(), deleted_by: by })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function expiredDeliveries(db: Kysely<Database>, now: Date): Promise<Delivery[]> {
  const rows = await db
    .selectFrom('delivery')
    .selectAll()
    .where('expires_at', '<=', now.toISOString())
    .orderBy('id')
    .execute();
  return rows.map((r) => toDelivery(r as DeliveryRow));
}

/** Removes a delivery's listing; false when another worker removed it first. */
export async function removeDelivery(db: Kysely<Database>, id: number): Promise<boolean> {
  const r = await db.deleteFrom('delivery').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/** A stored message as a delivery reads it. */
export interface StoredMessage {
  readonly seq: number;
  readonly code: string;
  readonly gemeente: string;
  readonly bericht_id: string;
  readonly first_moment: string;
  readonly verzender: string;
  readonly ontvanger_hub: string;
  readonly hub_id: string | null;
  readonly passages: number;
  readonly conflict: number;
  /** JSON `{ [table]: Row[] }`. */
  readonly rows: string;
}

export interface MessageWindow {
  readonly gemeenten: readonly string[];
  /** Exclusive. */
  readonly seqFrom: number;
  /** Inclusive. */
  readonly seqTo: number;
  /** Only messages whose first passage is at or after this ISO instant/date (history). */
  readonly firstMomentFrom?: string;
  /** Seq span per query (a batch holds at most this many messages). */
  readonly span?: number;
}

const MESSAGE_COLUMNS = [
  'seq',
  'code',
  'gemeente',
  'bericht_id',
  'first_moment',
  'verzender',
  'ontvanger_hub',
  'hub_id',
  'passages',
  'conflict',
  'rows',
] as const;

/**
 * The messages of some municipalities in a seq window, in seq order, in batches of one seq span each:
 * memory stays bounded by one batch however long the history, and every query is an index range scan
 * on (gemeente, seq) on both dialects. On SQLite a prepared statement skips the query builder (hot path).
 */
export async function* messagesInWindow(store: Store, w: MessageWindow): AsyncGenerator<StoredMessage[]> {
  if (w.gemeenten.length === 0 || w.seqTo <= w.seqFrom) return;
  const span = w.span ?? 1000;
  const marks = w.gemeenten.map(() => '?').join(', ');
  const stmt = store.sqlite?.prepare(
    `SELECT ${MESSAGE_COLUMNS.join(', ')} FROM message WHERE gemeente IN (${marks}) AND seq > ? AND seq <= ?` +
      `${w.firstMomentFrom ? ' AND first_moment >= ?' : ''} ORDER BY seq`,
  );
  for (let from = w.seqFrom; from < w.seqTo; from += span) {
    const to = Math.min(w.seqTo, from + span);
    let batch: StoredMessage[];
    if (stmt) {
      const params: (string | number)[] = [...w.gemeenten, from, to];
      if (w.firstMomentFrom) params.push(w.firstMomentFrom);
      batch = stmt.all(...params) as StoredMessage[];
    } else {
      let q = store.db
        .selectFrom('message')
        .select(MESSAGE_COLUMNS)
        .where('gemeente', 'in', w.gemeenten)
        .where('seq', '>', from)
        .where('seq', '<=', to);
      if (w.firstMomentFrom) q = q.where('first_moment', '>=', w.firstMomentFrom);
      batch = (await q.orderBy('seq').execute()) as StoredMessage[];
    }
    if (batch.length > 0) yield batch;
  }
}

/** The highest message seq ingested at or before an instant (splits a catch-up into its missed weeks). */
export async function lastSeqIngestedBy(db: Kysely<Database>, instant: Date): Promise<number> {
  const r = await db
    .selectFrom('message')
    .select((eb) => eb.fn.max('seq').as('m'))
    .where('ingested_at', '<=', instant.toISOString())
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}

export interface StoredLink {
  readonly seq: number;
  readonly type: string;
  readonly mutatie: 'toegevoegd' | 'vervallen';
  readonly gemeente: string;
  readonly from_table: string;
  readonly from_bericht_id: string;
  readonly from_row: string;
  readonly to_table: string;
  readonly to_bericht_id: string;
  readonly to_row: string;
}

/**
 * A link with an end that passed the hub before HISTORY_START_INSTANT: a history leaves it out with that
 * message. The instant is written out, not bound, so it matches the partial index `message_before_history`
 * (nearly always empty); SQLite is told to use it, as it would rather probe the unique BerichtId index and
 * read each message's row.
 */
const endBeforeHistory = (dialect: Store['dialect'], end: 'link.from_bericht_id' | 'link.to_bericht_id') =>
  sql<boolean>`exists (select 1 from message b ${sql.raw(dialect === 'sqlite' ? 'indexed by message_before_history ' : '')}where b.bericht_id = ${sql.ref(end)} and b.first_moment < ${sql.lit(HISTORY_START_INSTANT)})`;

/** The links of some municipalities in a link-seq window, in seq-span batches like `messagesInWindow`. */
export async function* linksInWindow(
  store: Store,
  w: Omit<MessageWindow, 'firstMomentFrom'> & {
    /** Only the links that hold at `seqTo`, one event each (a snapshot), instead of every event. */
    readonly inForce?: boolean;
    /** Leave out links to or from a message before 1-1-2021 (a history, whose files leave those out). */
    readonly fromHistoryStart?: boolean;
  },
): AsyncGenerator<StoredLink[]> {
  if (w.gemeenten.length === 0 || w.seqTo <= w.seqFrom) return;
  const span = w.span ?? 10_000;
  for (let from = w.seqFrom; from < w.seqTo; from += span) {
    const to = Math.min(w.seqTo, from + span);
    let q = store.db
      .selectFrom('link')
      .select(['seq', ...LINK_EVENT_COLUMNS])
      .where('gemeente', 'in', w.gemeenten)
      .where('seq', '>', from)
      .where('seq', '<=', to);
    if (w.inForce) {
      // A pair holds when its last event up to seqTo adds it.
      q = q.where('mutatie', '=', 'toegevoegd').where(inForceSql('link', w.seqTo));
    }
    if (w.fromHistoryStart) {
      q = q.where(({ not, or }) =>
        not(
          or([
            endBeforeHistory(store.dialect, 'link.from_bericht_id'),
            endBeforeHistory(store.dialect, 'link.to_bericht_id'),
          ]),
        ),
      );
    }
    const batch = (await q.orderBy('seq').execute()) as StoredLink[];
    if (batch.length > 0) yield batch;
  }
}

/** The highest link seq created at or before an instant (the link side of a catch-up split). */
export async function lastLinkSeqCreatedBy(db: Kysely<Database>, instant: Date): Promise<number> {
  const r = await db
    .selectFrom('link')
    .select((eb) => eb.fn.max('seq').as('m'))
    .where('created_at', '<=', instant.toISOString())
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}
