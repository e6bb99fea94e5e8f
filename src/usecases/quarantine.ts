import type { Keys } from '../pseudonymise/keys.js';
import { decryptRaw, type RawKeyRing, rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { schemaSet } from '../schema/releases.js';
import { audit } from '../store/audit.js';
import {
  finishRun,
  INPUT_PROBLEM_CODES,
  type PreparedExchange,
  startRun,
  writeExchangeBatch,
} from '../store/ingest-repository.js';
import type { Store } from '../store/open.js';
import type { QuarantineTable } from '../store/tables/ingest.js';
import {
  addResult,
  emptySummary,
  type IngestSummary,
  type ItemReports,
  reportItems,
} from './ingest-exchanges.js';
import { type Parse, prepareExchange, scrubReason } from './ingest-prepare.js';
import { linkInBatch } from './link-batch.js';

export interface QuarantineEntry {
  readonly id: number;
  /** The file, as the source names it: relative to its folder or manifest, or `<zip>!<entry>`. */
  readonly source: string;
  /**
   * What the item came in through, as named to `ingest` (a folder, manifest or ZIP), `http:<account>`: with
   * `source` it says where the file is. Null for an item whose exchange is not on record.
   */
  readonly ingestSource: string | null;
  readonly hubId: string | null;
  readonly moment: string | null;
  readonly reasonCode: string;
  readonly reason: string;
  readonly status: QuarantineTable['status'];
  readonly receivedAt: string;
  readonly resolvedAt: string | null;
  readonly resolvedMessageSeq: number | null;
}

/**
 * The reason as a listing shows it beside the file and the code: the stored reason is the whole error line
 * (`<file>: … (<code>)`, as ingest printed it), so those two are left off.
 */
export function reasonDetail(e: Pick<QuarantineEntry, 'source' | 'reason' | 'reasonCode'>): string {
  let text = e.reason;
  if (text.startsWith(`${e.source}: `)) text = text.slice(e.source.length + 2);
  const code = ` (${e.reasonCode})`;
  if (text.endsWith(code)) text = text.slice(0, -code.length);
  return text;
}

export async function listQuarantine(
  store: Store,
  options: { all?: boolean } = {},
): Promise<QuarantineEntry[]> {
  let q = store.db
    .selectFrom('quarantine as q')
    .selectAll('q')
    // The run of the item's first exchange: the one that made it (index exchange_quarantine).
    .select((eb) =>
      eb
        .selectFrom('exchange as e')
        .innerJoin('ingest_run as r', 'r.id', 'e.ingest_run_id')
        .select('r.source')
        .whereRef('e.quarantine_id', '=', 'q.id')
        .orderBy('e.id')
        .limit(1)
        .as('ingest_source'),
    )
    .orderBy('q.id');
  if (!options.all) q = q.where('q.status', '=', 'open');
  const rows = await q.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    source: r.source,
    ingestSource: r.ingest_source ?? null,
    hubId: r.hub_id,
    moment: r.moment,
    reasonCode: r.reason_code,
    reason: r.reason,
    status: r.status,
    receivedAt: r.received_at,
    resolvedAt: r.resolved_at,
    resolvedMessageSeq: r.resolved_message_seq === null ? null : Number(r.resolved_message_seq),
  }));
}

// These reasons are about the input, not the message: there is nothing stored to parse again. Ingesting the
// fixed input again settles the item (see `writeExchangeBatch`).
const NOT_RETRYABLE = INPUT_PROBLEM_CODES;

export interface RetryDeps {
  readonly store: Store;
  readonly keys: Keys;
  readonly now: () => Date;
  readonly parse?: Parse;
  /** Keys of earlier secrets, to read raw messages encrypted before a rotation. */
  readonly previousRawKeys?: readonly Buffer[];
}

/** Whether an item of this reason code kept the message it received (an input problem read none). */
export const keptMessage = (reasonCode: string): boolean => !INPUT_PROBLEM_CODES.has(reasonCode);

/** The source of a retry's ingest run: it receives nothing new, it processes kept items again. */
export const RETRY_RUN = 'quarantine retry';

export interface RetryResult extends IngestSummary {
  /** Entries that were looked at: resolved (stored or duplicate) or still quarantined. */
  readonly tried: number;
  readonly resolved: number;
  readonly notRetryable: readonly number[];
  readonly unknownIds: readonly number[];
  /**
   * A corrected file that is another message than the item's (type, sender, receiver or Identificatie differ):
   * nothing was done. Both described, as `JW301 0363 → 12345678 Identificatie 42`.
   */
  readonly otherMessage?: { readonly item: string; readonly file: string };
}

/** What identifies a message, read leniently from its bytes: a message in quarantine may not even be XML. */
interface MessageIdentity {
  code?: string;
  afzender?: string;
  ontvanger?: string;
  identificatie?: string;
}

const headerField = (name: string) => new RegExp(`<(?:[\\w.-]+:)?${name}>\\s*([^<]*?)\\s*</`);
const IDENTITY_FIELDS = {
  afzender: headerField('Afzender'),
  ontvanger: headerField('Ontvanger'),
  identificatie: headerField('Identificatie'),
} as const;
const MESSAGE_NAMESPACE = /istandaarden\.nl\/i(?:jw|wmo)\/[\d_]+\/(jw|wmo)(\d{3})\/schema/i;

/** The start of a message as text: UTF-16 by its byte order mark, else latin1 (every byte a character). */
function headText(bytes: Buffer): string {
  const head = bytes.subarray(0, 64 * 1024);
  if (head[0] === 0xff && head[1] === 0xfe) return new TextDecoder('utf-16le').decode(head);
  if (head[0] === 0xfe && head[1] === 0xff) return new TextDecoder('utf-16be').decode(head);
  return head.toString('latin1');
}

/** What a header field may hold; a value that does not fit may be the very fault the correction fixes. */
const VALID_IDENTITY: Record<keyof MessageIdentity, (v: string) => boolean> = {
  code: (v) => schemaSet().byCode(v) !== undefined,
  afzender: (v) => /^(\d{4}|\d{8})$/.test(v),
  ontvanger: (v) => /^(\d{4}|\d{8})$/.test(v),
  identificatie: (v) => v.length <= 12,
};

/**
 * The header's fields as far as they can be found (the header comes first, so its fields are the first ones);
 * `validOnly`: only values that fit their field.
 */
function messageIdentity(bytes: Buffer, validOnly = false): MessageIdentity {
  const text = headText(bytes);
  const out: MessageIdentity = {};
  const ns = MESSAGE_NAMESPACE.exec(text);
  if (ns) out.code = `${(ns[1] as string).toUpperCase()}${ns[2]}`;
  for (const [field, re] of Object.entries(IDENTITY_FIELDS)) {
    const m = re.exec(text);
    if (m?.[1]) out[field as keyof typeof IDENTITY_FIELDS] = m[1];
  }
  if (validOnly)
    for (const f of Object.keys(out) as (keyof MessageIdentity)[])
      if (!VALID_IDENTITY[f](out[f] as string)) delete out[f];
  return out;
}

const describeIdentity = (m: MessageIdentity): string =>
  [
    m.code ?? 'bericht',
    m.afzender || m.ontvanger ? `${m.afzender ?? '?'} → ${m.ontvanger ?? '?'}` : undefined,
    m.identificatie ? `Identificatie ${m.identificatie}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');

/**
 * Whether a corrected file is another message than the item's: its type, Afzender, Ontvanger or Identificatie
 * differ where the item has a valid value (an invalid one may be what the correction fixes). Both described.
 */
export function otherMessageThan(
  itemBytes: Buffer,
  fileBytes: Buffer,
): { readonly item: string; readonly file: string } | undefined {
  const item = messageIdentity(itemBytes, true);
  const file = messageIdentity(fileBytes);
  const differs = (['code', 'afzender', 'ontvanger', 'identificatie'] as const).some(
    (f) => item[f] !== undefined && file[f] !== undefined && item[f] !== file[f],
  );
  return differs
    ? { item: describeIdentity(messageIdentity(itemBytes)), file: describeIdentity(file) }
    : undefined;
}

/**
 * Parses quarantined exchanges again (after a fix of the software or the schema, or with a corrected file
 * for one entry) and stores those that now pass. A retried exchange that turns out to be a copy of a
 * stored message counts as a passage of it. Entries that fail again stay open with the new reason.
 */
export async function retryQuarantine(
  deps: RetryDeps,
  ids: readonly number[] | undefined,
  options: {
    replacement?: Buffer;
    /** Take a corrected file whose type, parties or Identificatie differ from the item's (an operator's choice). */
    otherIdentity?: boolean;
  } & ItemReports = {},
): Promise<RetryResult> {
  if (options.replacement && ids?.length !== 1)
    throw new Error('quarantine.bad_option: a corrected file replaces exactly one entry');
  let q = deps.store.db.selectFrom('quarantine').selectAll().where('status', '=', 'open').orderBy('id');
  if (ids) q = q.where('id', 'in', ids.length ? ids : [-1]);
  const rows = await q.execute();
  const found = new Set(rows.map((r) => Number(r.id)));
  const unknownIds = (ids ?? []).filter((id) => !found.has(id));
  const notRetryable: number[] = [];
  const ring: RawKeyRing = rawKeyRing(deps.keys.rawEncryption, ...(deps.previousRawKeys ?? []));
  const items: PreparedExchange[] = [];
  const retryIds: number[] = [];
  for (const r of rows) {
    if (NOT_RETRYABLE.has(r.reason_code) && !options.replacement) {
      notRetryable.push(Number(r.id));
      continue;
    }
    let bytes: Buffer;
    let rawId: number | undefined;
    if (options.replacement) {
      bytes = options.replacement;
      // The wrong file (a mistyped item number, another message's correction) would close this item with a
      // message that is not its own: refused, nothing written.
      if (r.raw_id !== null) {
        const raw = await deps.store.db
          .selectFrom('raw_message')
          .selectAll()
          .where('id', '=', r.raw_id)
          .executeTakeFirstOrThrow();
        const other = options.otherIdentity ? undefined : otherMessageThan(decryptRaw(ring, raw), bytes);
        if (other) {
          const none = emptySummary(0);
          return { ...none, tried: 0, resolved: 0, notRetryable, unknownIds, otherMessage: other };
        }
      }
    } else {
      const raw = await deps.store.db
        .selectFrom('raw_message')
        .selectAll()
        .where('id', '=', r.raw_id)
        .executeTakeFirstOrThrow();
      bytes = decryptRaw(ring, raw);
      rawId = Number(r.raw_id);
    }
    const received = {
      source: r.source,
      bytes,
      // A line without a usable moment (ingest.manifest_invalid) gets the moment it reached us, as an
      // exchange posted without one does: every stored message has a moment, and histories select on it.
      moment: r.moment ?? r.received_at,
      verzender: r.verzender,
      ontvanger: r.ontvanger,
      hubId: r.hub_id,
    };
    items.push(prepareExchange(deps.keys, received, deps.parse, r.exchange_key, rawId));
    retryIds.push(Number(r.id));
  }
  const runId = await startRun(deps.store, RETRY_RUN, deps.now().toISOString());
  const summary = emptySummary(runId);
  let resolved = 0;
  for (let i = 0; i < items.length; i += 500) {
    const chunk = items.slice(i, i + 500);
    const now = deps.now();
    const result = await writeExchangeBatch(deps.store, chunk, {
      runId,
      now: now.toISOString(),
      retryIds: retryIds.slice(i, i + 500),
      inTransaction: linkInBatch(chunk, now),
    });
    addResult(summary, result, false);
    reportItems(chunk, result, options);
    resolved += result.outcomes.filter((o) => o !== 'quarantined' && o !== 'skipped').length;
  }
  await finishRun(deps.store, runId, deps.now().toISOString());
  return { ...summary, tried: items.length, resolved, notRetryable, unknownIds };
}

/**
 * Hands `write` the message of a quarantine item as it was received (decrypted), to see what is wrong with it
 * and correct it (`quarantine retry <id> --file`): an exchange posted over HTTP has no other copy here. Personal
 * data in clear, so each export `write` completed is in the audit log. Undefined for an unknown id; `exported`
 * false for an item whose file was never read (an input problem: missing, too large, refused), which has none.
 */
export async function exportQuarantined(
  deps: { readonly store: Store; readonly keys: Keys; readonly previousRawKeys?: readonly Buffer[] },
  input: {
    readonly id: number;
    readonly actor: string;
    readonly now: Date;
    readonly write: (message: Buffer) => void | Promise<void>;
  },
): Promise<{ readonly source: string; readonly reasonCode: string; readonly exported: boolean } | undefined> {
  const item = await deps.store.db
    .selectFrom('quarantine')
    .select(['source', 'reason_code', 'raw_id'])
    .where('id', '=', input.id)
    .executeTakeFirst();
  if (!item) return undefined;
  const found = { source: item.source, reasonCode: item.reason_code };
  if (INPUT_PROBLEM_CODES.has(item.reason_code)) return { ...found, exported: false };
  const raw = await deps.store.db
    .selectFrom('raw_message')
    .selectAll()
    .where('id', '=', item.raw_id)
    .executeTakeFirstOrThrow();
  await input.write(decryptRaw(rawKeyRing(deps.keys.rawEncryption, ...(deps.previousRawKeys ?? [])), raw));
  await audit(deps.store, {
    at: input.now,
    actor: input.actor,
    organisation: null,
    action: 'quarantine.export',
    detail: { ids: [input.id] },
  });
  return { ...found, exported: true };
}

export interface DismissResult {
  readonly dismissed: readonly number[];
  /** Ids that are not open items (unknown, resolved or dismissed before). */
  readonly notOpen: readonly number[];
  /** The note as stored (`storedNote`): the operator is shown it when it differs from what was typed. */
  readonly note: string;
}

/**
 * The note as the audit log keeps it: trimmed, and masked as a quarantine reason is (no run of 9 or more
 * digits, nor a BSN in groups, in clear), since /beheer/audit shows it and the store promises no BSN in clear.
 */
export const storedNote = (note: string): string => scrubReason(note.trim());

/**
 * Closes open items without storing them, with the operator's note, e.g. when the sender delivered a
 * corrected message of its own (a new BerichtIdentificatie): the item stays listed with `--all` and its
 * raw message is kept, and a new ingest of the same exchange is not taken again.
 */
export async function dismissQuarantine(
  store: Store,
  input: {
    readonly ids: readonly number[];
    readonly note: string;
    readonly actor: string;
    readonly now: Date;
  },
): Promise<DismissResult> {
  const note = storedNote(input.note);
  if (!note) throw new Error('quarantine.no_note: say why the items are closed (--note)');
  if (input.ids.length === 0) return { dismissed: [], notOpen: [], note };
  const at = input.now.toISOString();
  const dismissed = await store.db.transaction().execute(async (trx) => {
    const rows = await trx
      .updateTable('quarantine')
      .set({ status: 'dismissed', resolved_at: at })
      .where('id', 'in', input.ids)
      .where('status', '=', 'open')
      .returning('id')
      .execute();
    const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    if (ids.length > 0)
      await audit(trx, {
        at: input.now,
        actor: input.actor,
        organisation: null,
        action: 'quarantine.dismiss',
        detail: { ids, note },
      });
    return ids;
  });
  const closed = new Set(dismissed);
  return { dismissed, notOpen: input.ids.filter((id) => !closed.has(id)), note };
}
