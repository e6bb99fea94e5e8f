import { type LinkableMessage, type LinkEntry, linkEntries, type StoredRow } from '../links/entries.js';
import { type PlannedLink, planGroup } from '../links/match.js';
import { activeLinksFrom, claimMessages, entriesByKey, insertEntries, insertLinks } from '../store/links.js';
import type { Store } from '../store/open.js';
import { type IngestTx, withIngestLock } from '../store/watermark.js';

/** A stored message as far as linking needs it: the `message` table's columns (`rows` as JSON or parsed). */
export interface StoredMessageForLinks {
  readonly bericht_id: string;
  readonly code: string;
  readonly gemeente: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
  readonly rows: string | Readonly<Record<string, readonly StoredRow[]>>;
}

export interface LinkOutcome {
  readonly messages: number;
  readonly added: number;
  readonly lapsed: number;
}

export function toLinkable(m: StoredMessageForLinks): LinkableMessage {
  return {
    berichtId: m.bericht_id,
    code: m.code,
    gemeente: m.gemeente,
    afzender: m.afzender,
    ontvanger: m.ontvanger,
    identificatie: m.identificatie,
    dagtekening: m.dagtekening,
    tables: typeof m.rows === 'string' ? JSON.parse(m.rows) : m.rows,
  };
}

/**
 * Links a batch of stored messages inside an open ingest transaction: index what they offer, look up the
 * entries under the same keys, and append the links (and lapses) that the new entries make. Idempotent:
 * a message already linked is skipped.
 */
export async function linkMessagesInTx(
  tx: IngestTx,
  messages: readonly StoredMessageForLinks[],
  now: string,
): Promise<LinkOutcome> {
  const fresh = await claimMessages(
    tx,
    messages.map((m) => m.bericht_id),
    now,
  );
  const entries: LinkEntry[] = [];
  for (const m of messages) {
    if (!fresh.has(m.bericht_id)) continue;
    fresh.delete(m.bericht_id); // a message twice in one batch counts once
    entries.push(...linkEntries(toLinkable(m)));
  }
  const isNew = new Set(entries.map((e) => e.berichtId));
  await insertEntries(tx, entries);
  const groups = await entriesByKey(tx, [...new Set(entries.map((e) => e.key))]);
  // Active version links of the 301 rows in groups that got a new 301 row.
  const versionSources: string[] = [];
  for (const [key, group] of groups) {
    if (!key.startsWith('twn|')) continue;
    if (!group.some((e) => e.tag === 'toewijzing' && isNew.has(e.berichtId))) continue;
    for (const e of group)
      if (e.tag === 'toewijzing' && !isNew.has(e.berichtId)) versionSources.push(e.berichtId);
  }
  const active = await activeLinksFrom(tx, 'toewijzing-versie', versionSources);
  const activeByRow = new Map<string, PlannedLink[]>();
  for (const l of active) {
    const k = `${l.fromBerichtId}|${l.fromRow}`;
    activeByRow.set(k, [...(activeByRow.get(k) ?? []), l]);
  }
  const add: PlannedLink[] = [];
  const revoke: PlannedLink[] = [];
  for (const group of groups.values()) {
    const activeHere = group.flatMap((e) =>
      e.tag === 'toewijzing' ? (activeByRow.get(`${e.berichtId}|${e.row}`) ?? []) : [],
    );
    const plan = planGroup(group, (e) => isNew.has(e.berichtId), activeHere);
    add.push(...plan.add);
    revoke.push(...plan.revoke);
  }
  await insertLinks(tx, add, 'toegevoegd', now);
  await insertLinks(tx, revoke, 'vervallen', now);
  return { messages: isNew.size, added: add.length, lapsed: revoke.length };
}

/** `linkMessagesInTx` in its own ingest-locked transaction (call right after an ingest batch committed). */
export function linkBatch(
  store: Store,
  messages: readonly StoredMessageForLinks[],
  options: { readonly now: Date },
): Promise<LinkOutcome> {
  return withIngestLock(store, (tx) => linkMessagesInTx(tx, messages, options.now.toISOString()));
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
      .leftJoin('link_done', 'link_done.bericht_id', 'message.bericht_id')
      .where('link_done.bericht_id', 'is', null)
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
