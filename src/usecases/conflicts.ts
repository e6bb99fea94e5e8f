import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../store/database.js';
import type { Store } from '../store/open.js';

/**
 * One stored version of a message that came again with other content under the same message key
 * (code, Afzender, Ontvanger, Identificatie, Dagtekening): every version is kept and flagged `conflict`
 * (`Afwijkend = J` in a delivery), none is dropped.
 */
export interface ConflictingVersion {
  /** The message key's number in this listing (1, 2, …): the versions of one message share it. */
  readonly group: number;
  readonly seq: number;
  readonly berichtId: string;
  readonly code: string;
  readonly gemeente: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
  /** When this version first passed the hub, and when it was stored. */
  readonly firstMoment: string;
  readonly ingestedAt: string;
  readonly passages: number;
  /** The file of its first passage as its manifest names it, and what it came in through (as `quarantine list`). */
  readonly source: string | null;
  readonly ingestSource: string | null;
}

const firstPassage = (eb: ExpressionBuilder<Database & { m: Database['message'] }, 'm'>) =>
  eb.selectFrom('exchange as e').whereRef('e.message_seq', '=', 'm.seq').orderBy('e.id').limit(1);

/**
 * Every version of every message stored in more than one version, message by message (in the order their
 * first version was stored), each message's versions in the order they were stored: the last is the
 * latest. Only the given municipalities when `gemeenten` is set. Conflicts are rare, so they are read whole.
 */
export async function listConflicts(
  store: Store,
  options: { readonly gemeenten?: readonly string[] } = {},
): Promise<ConflictingVersion[]> {
  let q = store.db
    .selectFrom('message as m')
    .select([
      'm.seq',
      'm.key_hash',
      'm.bericht_id',
      'm.code',
      'm.gemeente',
      'm.afzender',
      'm.ontvanger',
      'm.identificatie',
      'm.dagtekening',
      'm.first_moment',
      'm.ingested_at',
      'm.passages',
    ])
    // The first passage's file (index exchange_message_seq), and the source of the run that read it.
    .select((eb) => firstPassage(eb).select('e.source').as('source'))
    .select((eb) =>
      firstPassage(eb)
        .innerJoin('ingest_run as r', 'r.id', 'e.ingest_run_id')
        .select('r.source')
        .as('ingest_source'),
    )
    .where('m.conflict', '=', 1)
    .orderBy('m.seq');
  if (options.gemeenten) q = q.where('m.gemeente', 'in', [...options.gemeenten]);
  const rows = await q.execute();
  // Numbered by first appearance: rows come in seq order, so a message's number is that of its first version.
  const groups = new Map<string, number>();
  for (const r of rows) if (!groups.has(r.key_hash)) groups.set(r.key_hash, groups.size + 1);
  const versions = rows.map(
    (r): ConflictingVersion => ({
      group: groups.get(r.key_hash) as number,
      seq: Number(r.seq),
      berichtId: r.bericht_id,
      code: r.code,
      gemeente: r.gemeente,
      afzender: r.afzender,
      ontvanger: r.ontvanger,
      identificatie: r.identificatie,
      dagtekening: r.dagtekening,
      firstMoment: r.first_moment,
      ingestedAt: r.ingested_at,
      passages: Number(r.passages),
      source: r.source ?? null,
      ingestSource: r.ingest_source ?? null,
    }),
  );
  // Stable: within a message the versions stay in seq order.
  return versions.sort((a, b) => a.group - b.group);
}

/** How many messages the versions belong to (they are numbered 1, 2, … in order: the last number). */
export const conflictingMessages = (versions: readonly ConflictingVersion[]): number =>
  versions.at(-1)?.group ?? 0;
