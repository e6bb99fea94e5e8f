import { IndicatorAccumulator, type IndicatorValues } from '../indicators/indicators.js';
import { linksInWindow, messagesInWindow } from '../store/deliveries.js';
import { readIndicatorSnapshot, saveIndicatorSnapshot } from '../store/indicators.js';
import type { Store } from '../store/open.js';
import type { Organisation } from '../store/organisations.js';
import { deliveryMarks } from './deliver-links.js';
import { requireOrganisation } from './organisations.js';

export type { IndicatorValues } from '../indicators/indicators.js';

/** The key of the values for all member municipalities together. */
export const ALL_MEMBERS = 'alle';

/** What the dashboard, the API and `ketendata indicators` show: aggregates only, never a pseudonym. */
export interface IndicatorSnapshot {
  /** The version of the definitions it was counted with (SNAPSHOT_VERSION): a script sees when they change. */
  readonly version: number;
  readonly organisation: string;
  readonly members: readonly string[];
  readonly computedAt: string;
  /** Highest message and link seq included. */
  readonly messageSeq: number;
  readonly linkSeq: number;
  /** The latest Dagtekening in the data (how recent the traffic is), null without messages. */
  readonly latestDagtekening: string | null;
  /** `alle` and, for a head organisation, each member CBS code. */
  readonly scopes: Readonly<Record<string, IndicatorValues>>;
}

/**
 * The version of the definitions a stored snapshot was computed with. Raise it when a definition or a field
 * changes: a snapshot of an older version is computed anew when read, so nobody sees figures counted the
 * old way (or a field it lacks). 2: temporary stops end a period, deleted toewijzingen, net prestaties,
 * approved amount. 3: a start on a deleted toewijzing does not count (3); the period each lead time covers.
 * 4: a withdrawal (RedenWijziging 01 with Einddatum = Ingangsdatum) deletes; a rejected version counts for
 * neither side of a deletion; the version current at a start is ordered by date and time.
 * 5: a retour of a message in two versions is charged to one of them (9056 to the later); starts and stops
 * pair per aanbieder; a 317's grant leaves out rows dated before it. 6: a 325 with 9056 answering a 323 in
 * two versions rejects the later version, not the one counted.
 */
export const SNAPSHOT_VERSION = 6;

interface StoredData {
  readonly version: number;
  readonly members: readonly string[];
  readonly latestDagtekening: string | null;
  readonly scopes: Record<string, IndicatorValues>;
}

export interface IndicatorOptions {
  readonly now: Date;
  /** Seq span per store query; default 1000 messages, 10 000 links. */
  readonly span?: number;
}

/**
 * Computes the organisation's indicators in one streaming pass over its links and then its messages, up to
 * the watermarks read first (a consistent cut that concurrent ingests cannot tear).
 */
export async function computeIndicators(
  store: Store,
  org: Organisation,
  opts: IndicatorOptions,
): Promise<IndicatorSnapshot> {
  const { message: messageSeq, link: linkSeq } = await deliveryMarks(store);
  const acc = new IndicatorAccumulator(opts.now);
  const span = opts.span ? { span: opts.span } : {};
  for await (const batch of linksInWindow(store, {
    gemeenten: org.members,
    seqFrom: 0,
    seqTo: linkSeq,
    ...span,
  }))
    for (const l of batch) acc.addLink(l);
  for await (const batch of messagesInWindow(store, {
    gemeenten: org.members,
    seqFrom: 0,
    seqTo: messageSeq,
    ...span,
  }))
    for (const m of batch) acc.addMessage(m);
  const scopes: Record<string, IndicatorValues> = {
    [ALL_MEMBERS]: acc.values(new Set(org.members), opts.now),
  };
  if (org.members.length > 1)
    for (const g of [...org.members].sort()) scopes[g] = acc.values(new Set([g]), opts.now);
  return {
    version: SNAPSHOT_VERSION,
    organisation: org.code,
    members: [...org.members].sort(),
    computedAt: opts.now.toISOString(),
    messageSeq,
    linkSeq,
    latestDagtekening: acc.latestDagtekening ?? null,
    scopes,
  };
}

/** Computes and stores the organisation's snapshot (the weekly run, `ketendata indicators --refresh`). */
export async function refreshIndicators(
  store: Store,
  code: string,
  opts: IndicatorOptions,
): Promise<IndicatorSnapshot> {
  const org = await requireOrganisation(store, code);
  const snap = await computeIndicators(store, org, opts);
  const data: StoredData = {
    version: SNAPSHOT_VERSION,
    members: snap.members,
    latestDagtekening: snap.latestDagtekening,
    scopes: { ...snap.scopes },
  };
  await saveIndicatorSnapshot(store.db, {
    organisation: code,
    computed_at: snap.computedAt,
    message_seq: snap.messageSeq,
    link_seq: snap.linkSeq,
    data: JSON.stringify(data),
  });
  return snap;
}

/**
 * The stored snapshot; computed (and stored) once when the organisation has none yet, when its members
 * changed since (a head organisation must not keep seeing a member it no longer acts for), or when it was
 * computed with older definitions.
 */
export async function indicatorSnapshot(
  store: Store,
  code: string,
  opts: IndicatorOptions,
): Promise<IndicatorSnapshot> {
  const row = await readIndicatorSnapshot(store.db, code);
  if (!row) return refreshIndicators(store, code, opts);
  const data = JSON.parse(row.data) as StoredData;
  if (data.version !== SNAPSHOT_VERSION) return refreshIndicators(store, code, opts);
  const org = await requireOrganisation(store, code);
  if ([...data.members].sort().join(',') !== [...org.members].sort().join(','))
    return refreshIndicators(store, code, opts);
  return {
    version: data.version,
    organisation: code,
    members: data.members,
    computedAt: row.computed_at,
    messageSeq: row.message_seq,
    linkSeq: row.link_seq,
    latestDagtekening: data.latestDagtekening,
    scopes: data.scopes,
  };
}
