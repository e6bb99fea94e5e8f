import {
  keyspaceOf,
  type LinkableMessage,
  type LinkEntry,
  linkableMessage,
  linkEntries,
  type StoredMessageHeader,
  type StoredRow,
} from '../links/entries.js';
import {
  ignoresStoredDebetsAndStarts,
  isRecomputedSource,
  needsRecompute,
  type PlannedLink,
  planGroupInto,
} from '../links/match.js';
import type { BatchResult, PreparedExchange } from '../store/ingest-repository.js';
import {
  activeLapsingLinksFrom,
  claimMessages,
  entriesByKey,
  heenMessagesOf,
  insertEntries,
  insertLinks,
  lockLinking,
  rejectedMessageKeys,
  unlinkedBefore,
} from '../store/links.js';
import type { Store } from '../store/open.js';
import { type IngestTx, withIngestLock } from '../store/watermark.js';

/** A stored message as far as linking needs it: the `message` table's columns (`rows` as JSON or parsed). */
export interface StoredMessageForLinks extends StoredMessageHeader {
  readonly rows: string | Readonly<Record<string, readonly StoredRow[]>>;
  /** `message.seq`: marks the message linked, and lets linking resume after a crash. */
  readonly seq: number;
  /** `linkEntries` of the message, when a parse worker computed them already. */
  readonly linkEntries?: readonly LinkEntry[] | undefined;
}

export interface LinkOutcome {
  readonly messages: number;
  readonly added: number;
  readonly lapsed: number;
}

export function toLinkable(m: StoredMessageForLinks): LinkableMessage {
  return linkableMessage(m, typeof m.rows === 'string' ? JSON.parse(m.rows) : m.rows);
}

/**
 * Links a batch of stored messages inside an open ingest transaction: index what they offer, look up the
 * entries under the same keys, and append the links (and lapses) that the new entries make. Idempotent:
 * a message already linked is skipped.
 */
export async function linkMessagesInTx(
  tx: IngestTx,
  batch: readonly StoredMessageForLinks[],
  now: string,
  catchUp = CATCH_UP,
): Promise<LinkOutcome> {
  let total: LinkOutcome = { messages: 0, added: 0, lapsed: 0 };
  if (batch.length === 0) return total; // only duplicates or quarantined: no lock, no round trip
  await lockLinking(tx);
  // A crash between an ingest batch and its linking leaves stored messages unlinked: take them along
  // (in bounded chunks, oldest first).
  const first = Math.min(...batch.map((m) => Number(m.seq)));
  for (;;) {
    const missed = (await unlinkedBefore(tx, first, catchUp)) as unknown as StoredMessageForLinks[];
    if (missed.length < catchUp) return sum(total, await linkClaimed(tx, [...missed, ...batch], now));
    total = sum(total, await linkClaimed(tx, missed, now));
  }
}

/** Messages per chunk when catching up after a crash. */
const CATCH_UP = 2000;

const sum = (a: LinkOutcome, b: LinkOutcome): LinkOutcome => ({
  messages: a.messages + b.messages,
  added: a.added + b.added,
  lapsed: a.lapsed + b.lapsed,
});

async function linkClaimed(
  tx: IngestTx,
  messages: readonly StoredMessageForLinks[],
  now: string,
): Promise<LinkOutcome> {
  const claimed = await claimMessages(
    tx,
    messages.map((m) => Number(m.seq)),
  );
  const entries: LinkEntry[] = [];
  for (const m of messages) {
    if (!claimed.delete(Number(m.seq))) continue; // a message twice in one batch counts once
    entries.push(...(m.linkEntries ?? linkEntries(toLinkable(m))));
  }
  // The batch's entries are the only new ones (the store has none of a message it had not linked), so an
  // entry is new if it is one of these objects: an identity check, no string hashing per call.
  const fresh = new Set(entries);
  const isNew = (e: LinkEntry) => fresh.has(e);
  // The earlier entries under the new keys are read before the new ones are written: those are in memory.
  // Keys whose new entries all ignore the stored debets, starts and stops under them are read without those.
  const whole = new Map<string, boolean>();
  for (const e of entries) if (!whole.get(e.key)) whole.set(e.key, !ignoresStoredDebetsAndStarts(e));
  const wholeKeys: string[] = [];
  const partKeys: string[] = [];
  whole.forEach((w, key) => {
    (w ? wholeKeys : partKeys).push(key);
  });
  const groups = await entriesByKey(tx, wholeKeys);
  await entriesByKey(tx, partKeys, { withoutDebetsAndStarts: true, into: groups });
  for (const e of entries) {
    const group = groups.get(e.key);
    if (group) group.push(e);
    else groups.set(e.key, [e]);
  }
  await insertEntries(tx, entries);
  // A rejecting retour changes which starts and stops count (OP286): replan the groups of its heen message's
  // rows too. Their keys are derived from the message again (rejections are few), so no index on `msg`
  // has to be kept up for every entry; the heen messages of this batch are at hand already.
  const rejecting = new Set<string>();
  for (const e of entries) if (e.tag === 'retour' && e.info === 'afgewezen') rejecting.add(e.key);
  const touched = new Set<string>();
  if (rejecting.size > 0) {
    const stored = (await heenMessagesOf(tx, [...rejecting])) as unknown as StoredMessageForLinks[];
    for (const e of [...entries, ...stored.flatMap((m) => linkEntries(toLinkable(m)))]) {
      const keyspace = keyspaceOf(e.key);
      if (rejecting.has(e.message) && (keyspace === 'start' || keyspace === 'stop')) touched.add(e.key);
    }
    // A touched key without a new entry has all its entries in the store.
    const onlyTouched = [...touched].filter((key) => !groups.has(key));
    await entriesByKey(tx, onlyTouched, { into: groups });
  }

  const planned = await planGroups(
    tx,
    groups,
    // A new message has no links yet.
    { isNew, linked: (e) => !isNew(e), touched: (key) => touched.has(key) },
    now,
  );
  return { messages: new Set(entries.map((e) => e.berichtId)).size, ...planned };
}

/** How `planGroups` reads a batch's groups. */
export interface GroupsContext {
  /** Entries that pair with the others under their key, and whose arrival makes recomputed relations due. */
  readonly isNew: (e: LinkEntry) => boolean;
  /** Entries that may have links in force: their recomputed links are read to compare with the plan. */
  readonly linked: (e: LinkEntry) => boolean;
  /** Keys a rejecting retour touched (their starts and stops are replanned). */
  readonly touched: (key: string) => boolean;
}

/**
 * Plans the links of these key groups (`planGroupInto`) against the recomputed links in force and appends
 * the differences, lapses first: the second half of linking a batch, and what `replanLinks` runs over
 * every key. Inside a linking transaction (`lockLinking`).
 */
export async function planGroups(
  tx: IngestTx,
  groups: ReadonlyMap<string, LinkEntry[]>,
  ctx: GroupsContext,
  now: string,
): Promise<{ added: number; lapsed: number }> {
  const { isNew, linked } = ctx;
  // What recomputed groups need: which of their messages were rejected, and their links in force.
  const replanned = new Set<string>();
  // Only starts and stops care whether their message was rejected (versions keep rejected 301s).
  const messageKeys: string[] = [];
  // Of a 301's prestaties (most of its group) none is a source.
  const sources: string[] = [];
  groups.forEach((group, key) => {
    if (!needsRecompute(group, isNew, ctx.touched(key))) return;
    replanned.add(key);
    const versions = key.startsWith('twn|');
    for (const e of group) {
      if (!versions && e.message) messageKeys.push(e.message);
      if (linked(e) && isRecomputedSource(e)) sources.push(e.berichtId);
    }
  });
  const rejectedKeys = await rejectedMessageKeys(tx, messageKeys);
  const rejected = new Set<string>();
  if (rejectedKeys.size > 0)
    for (const key of replanned)
      for (const e of groups.get(key) ?? []) if (rejectedKeys.has(e.message)) rejected.add(e.berichtId);
  const active = await activeLapsingLinksFrom(tx, sources);
  const activeByRow = new Map<string, PlannedLink[]>();
  for (const l of active) {
    const k = `${l.fromBerichtId}|${l.fromRow}`;
    activeByRow.set(k, [...(activeByRow.get(k) ?? []), l]);
  }

  const add = new Map<string, PlannedLink>();
  const revoke = new Map<string, PlannedLink>();
  // A group of one entry that is not replanned has nothing to pair with (most keys of a batch).
  const planned: string[] = [];
  groups.forEach((group, key) => {
    if (group.length > 1 || replanned.has(key)) planned.push(key);
  });
  // Groups in key order: a batch's link events get their seqs in the same order on every database.
  planned.sort();
  for (const key of planned) {
    const group = groups.get(key) as LinkEntry[];
    const activeHere = replanned.has(key)
      ? [...new Set(group.flatMap((e) => activeByRow.get(`${e.berichtId}|${e.row}`) ?? []))]
      : [];
    planGroupInto(group, { isNew, active: activeHere, rejected, touched: ctx.touched(key) }, add, revoke);
  }
  // Lapses first, so a pair that lapses and holds again in one batch ends added.
  await insertLinks(tx, [...revoke.values()], 'vervallen', now);
  await insertLinks(tx, [...add.values()], 'toegevoegd', now);
  return { added: add.size, lapsed: revoke.size };
}

/**
 * The `inTransaction` step of an ingest batch (`writeExchangeBatch`): links what the batch stored in the
 * batch's own transaction, so a batch is stored and linked or neither, with one commit and one lock.
 */
export function linkInBatch(
  items: readonly PreparedExchange[],
  now: Date,
): (tx: IngestTx, result: BatchResult) => Promise<void> {
  return async (tx, result) => {
    await linkMessagesInTx(tx, storedMessagesOf(items, result), now.toISOString());
  };
}

/** `linkMessagesInTx` in its own ingest-locked transaction (after a batch written without linking). */
export function linkBatch(
  store: Store,
  messages: readonly StoredMessageForLinks[],
  options: { readonly now: Date; readonly catchUp?: number },
): Promise<LinkOutcome> {
  return withIngestLock(store, (tx) =>
    linkMessagesInTx(tx, messages, options.now.toISOString(), options.catchUp),
  );
}

/**
 * Links every stored message not linked yet, in seq order and batches: the catch-up after a restore, or
 * for messages ingested before linking existed (`ketendata links`).
 */
export async function linkPending(
  store: Store,
  options: { readonly now: Date; readonly batchSize?: number },
): Promise<LinkOutcome> {
  const size = options.batchSize ?? 500;
  let after = 0;
  let total = { messages: 0, added: 0, lapsed: 0 };
  for (;;) {
    const batch = await store.db
      .selectFrom('message')
      .leftJoin('link_done', 'link_done.seq', 'message.seq')
      .where('link_done.seq', 'is', null)
      .where('message.seq', '>', after)
      .select([
        'message.seq',
        'message.bericht_id',
        'message.code',
        'message.gemeente',
        'message.afzender',
        'message.ontvanger',
        'message.identificatie',
        'message.dagtekening',
        'message.rows',
      ])
      .orderBy('message.seq')
      .limit(size)
      .execute();
    if (batch.length === 0) return total;
    after = Number(batch[batch.length - 1]!.seq);
    const r = await linkBatch(store, batch, options);
    total = {
      messages: total.messages + r.messages,
      added: total.added + r.added,
      lapsed: total.lapsed + r.lapsed,
    };
  }
}

/** The messages an ingest batch newly stored (new and conflicting versions; not duplicates or quarantined). */
export function storedMessagesOf(
  items: readonly PreparedExchange[],
  result: Pick<BatchResult, 'outcomes' | 'seqs'>,
): StoredMessageForLinks[] {
  const out: StoredMessageForLinks[] = [];
  items.forEach((item, i) => {
    const outcome = result.outcomes[i];
    const seq = result.seqs[i];
    if (item.kind === 'message' && seq !== undefined && (outcome === 'stored' || outcome === 'conflict'))
      out.push({
        ...item.message,
        ...(item.tables ? { rows: item.tables } : {}),
        linkEntries: item.linkEntries,
        seq,
      });
  });
  return out;
}
