import { createHash, createHmac } from 'node:crypto';
import { posix } from 'node:path';
import { maskBsns } from '../domain/bsn.js';
import {
  berichtId,
  capNames,
  type FlatMessage,
  messageKeyString,
  type ParseOutcome,
  parseMessage,
  pseudonymiseRows,
} from '../ingest/index.js';
import type { Keys } from '../pseudonymise/keys.js';
import { keyedPseudonym } from '../pseudonymise/pseudonym.js';
import { encryptRaw } from '../pseudonymise/raw-encryption.js';
import type { ExchangeMeta, PreparedExchange, PreparedMessage } from '../store/ingest-repository.js';

/** What arrives: bytes plus whatever hub metadata the input gave. */
export interface ReceivedExchange {
  readonly source: string;
  /** Part of the exchange's identity instead of `source` when set (see `ExchangeRef.identity`). */
  readonly identity?: string;
  /** See `ExchangeRef.place`: names the exchange's input problem, and the key that settles one. */
  readonly place?: string | undefined;
  /** See `ExchangeRef.unlisted`: names the key that settles the file's `ingest.not_in_manifest` item. */
  readonly unlisted?: { readonly name: string; readonly place: string } | undefined;
  readonly bytes: Buffer;
  readonly moment: string | null;
  readonly verzender: string | null;
  readonly ontvanger: string | null;
  readonly hubId: string | null;
  /** Set when the input itself is unusable (bad manifest line, missing file). */
  readonly problem?: { readonly code: string; readonly reason: string };
  /**
   * A bad manifest line: the file it names, its content where it could be read, and (once `badLineDigest`
   * is known, before it is prepared) that digest, which tells this line's exchange from another.
   */
  readonly badLine?: {
    readonly file: string | null;
    readonly content?: Buffer | null;
    readonly digest?: string;
  };
}

export type Parse = (xml: Buffer, source: { file: string }) => ParseOutcome;

const GEMEENTE = /^\d{4}$/;

// Defence in depth: a reason is shown to operators and kept; no run of 9+ digits (a BSN) may survive in it,
// nor a BSN in groups as people write one (999 435 978, 9994.35.978, 999-43-5978).
// Except in the exchange's own file name, which the listing shows beside it anyway: masked there it hid
// which file the reason is about (a hub id, GGKCF400100001422.xml).
// Any other run of 300+ non-blank characters is cut (a manifest field or name of megabytes, quoted).
export function scrubReason(reason: string, source?: string): string {
  // Grouped, only a BSN (11-test): people group other numbers too (dates, tickets, counts).
  const mask = (text: string) =>
    maskBsns(capNames(text, 300).replace(/\d{9,}/g, (d) => '*'.repeat(d.length)));
  return source ? reason.split(source).map(mask).join(source) : mask(reason);
}

/**
 * The identity of one passage: the hub's id, else a keyed digest of where and when it came and what it held.
 * `place` (a plain folder's or ZIP's, see `ExchangeRef.place`) is given for an input problem and the key that
 * settles it.
 */
export function exchangeKey(keys: Keys, ex: ReceivedExchange, place?: string): string {
  if (ex.hubId) return `hub:${ex.hubId}`;
  const content = createHash('sha256').update(ex.bytes).digest('hex');
  const h = createHmac('sha256', keys.berichtId);
  for (const part of [
    'exchange',
    ex.identity ?? ex.source,
    ...(place === undefined ? [] : [place]),
    ex.moment ?? '',
    ex.verzender ?? '',
    ex.ontvanger ?? '',
    content,
    // A bad line is its line and its file's content (two extracts with that line hold other files).
    ...(ex.badLine?.digest === undefined ? [] : [ex.badLine.digest]),
  ])
    h.update(part).update('\u001f');
  return `src:${h.digest('hex').slice(0, 40)}`;
}

/**
 * What tells a bad manifest line's exchange from another under its hub id: `bad:<file>:<content>`, the file's
 * name as a keyed tag (`-`: the line names none) and the keyed digest of the file's bytes as `exchangeDigest`
 * gives it; where the file cannot be read, `l` and a digest of the line's bytes, its line in its manifest and
 * that manifest's folder or ZIP. Kept as the exchange's `content_digest`: a later line is that exchange's
 * corrected form only with the same file (and content, where it was read), see `correctsBadLine`.
 */
export function badLineDigest(keys: Keys, ex: ReceivedExchange): string {
  const file = ex.badLine?.file;
  const content = ex.badLine?.content;
  const tag = file ? fileTag(keys, file) : '-';
  if (content) return `bad:${tag}:${keyedHex(keys.berichtId, 'exchange-content', content)}`;
  const h = createHmac('sha256', keys.berichtId);
  for (const part of ['bad-line', ex.place ?? '', ex.identity ?? ex.source, ex.bytes])
    h.update(part).update('\u001f');
  return `bad:${tag}:l${h.digest('hex').slice(0, 16)}`;
}

/** A file as a manifest line names it (normalised), as a keyed tag: a bad line and its corrected form compare it. */
export function fileTag(keys: Keys, file: string): string {
  return keyedHex(keys.berichtId, 'line-file', posix.normalize(file)).slice(0, 16);
}

/**
 * What an exchange with a hub id held, as a keyed digest: its key (`hub:<id>`) says nothing of the content, so
 * another content under the same hub id and moment is told apart by this. Null without a hub id (the key
 * digests the content) and for an input problem (no content), but for a bad manifest line: `badLineDigest`.
 */
export function exchangeDigest(keys: Keys, ex: ReceivedExchange): string | null {
  if (!ex.hubId) return null;
  if (ex.problem) return ex.badLine ? (ex.badLine.digest ?? badLineDigest(keys, ex)) : null;
  return keyedHex(keys.berichtId, 'exchange-content', ex.bytes);
}

function keyedHex(key: Buffer, purpose: string, value: string | Buffer): string {
  const h = createHmac('sha256', key);
  if (typeof value === 'string') h.update(`${purpose}\n${value}`);
  else h.update(`${purpose}\n`).update(value);
  return h.digest('hex').slice(0, 32);
}

/** The message as the store keeps it: identifiers pseudonymised, BerichtId filled, key and content hashed. */
export function prepareMessage(keys: Keys, msg: FlatMessage): PreparedMessage {
  return prepareMessageAndTables(keys, msg).message;
}

function prepareMessageAndTables(
  keys: Keys,
  msg: FlatMessage,
): { message: PreparedMessage; tables: Record<string, (string | null)[][]> } {
  const id = berichtId(keys.berichtId, msg);
  const tables = pseudonymiseRows(
    msg,
    (element, canonical) => keyedPseudonym(keys.pseudonym, element, canonical),
    id,
  );
  const k = msg.key;
  const object = Object.fromEntries(tables);
  const message: PreparedMessage = {
    bericht_id: id,
    standard: k.standard,
    code: k.code,
    gemeente: msg.gemeente,
    afzender: k.afzender,
    ontvanger: k.ontvanger,
    identificatie: k.identificatie,
    dagtekening: k.dagtekening,
    identificatie_retour: k.identificatieRetour ?? null,
    dagtekening_retour: k.dagtekeningRetour ?? null,
    key_hash: keyedHex(keys.berichtId, 'key', messageKeyString(k)),
    content_hash: keyedHex(keys.berichtId, 'content', msg.canonical),
    rows: JSON.stringify(object),
  };
  return { message, tables: object };
}

/**
 * Parses, validates and pseudonymises one exchange into what the store writes: a message, or a quarantine
 * entry with a stable reason code. Pure apart from the random encryption nonce.
 */
export function prepareExchange(
  keys: Keys,
  ex: ReceivedExchange,
  parse: Parse = parseMessage,
  fixedKey?: string,
  rawId?: number,
): PreparedExchange {
  const key = fixedKey ?? exchangeKey(keys, ex);
  const raw = rawId ?? encryptRaw(keys.rawEncryption, ex.bytes, keys.rawKeyId);
  const quarantine = (
    code: string,
    reason: string,
    header?: { afzender: string; ontvanger: string },
  ): PreparedExchange => ({
    kind: 'quarantine',
    exchange: meta(keys, key, ex, header),
    reason_code: code,
    reason: scrubReason(reason, ex.source),
    raw,
    received: { moment: ex.moment, verzender: ex.verzender, ontvanger: ex.ontvanger },
  });
  if (ex.problem) return quarantine(ex.problem.code, ex.problem.reason);
  const outcome = parse(ex.bytes, { file: ex.source });
  if (!outcome.ok) return quarantine(outcome.error.code, outcome.error.message);
  const msg = outcome.message;
  if (!GEMEENTE.test(msg.gemeente ?? '')) {
    return quarantine(
      'ingest.no_gemeente',
      `${ex.source}: ${msg.schema.code}: header field ${msg.schema.gemeenteField} holds no 4-digit municipality code`,
      msg.key,
    );
  }
  const { message, tables } = prepareMessageAndTables(keys, msg);
  return { kind: 'message', exchange: meta(keys, key, ex, msg.key), message, tables, raw };
}

function meta(
  keys: Keys,
  key: string,
  ex: ReceivedExchange,
  header?: { afzender: string; ontvanger: string },
): ExchangeMeta {
  return {
    exchange_key: key,
    hub_id: ex.hubId,
    moment: ex.moment ?? '',
    verzender: ex.verzender ?? header?.afzender ?? '',
    ontvanger: ex.ontvanger ?? header?.ontvanger ?? '',
    source: ex.source,
    content_digest: exchangeDigest(keys, ex),
    // Whether it corrects a bad line under its hub id is told by its file as the manifest named it.
    file_tag: ex.hubId && !ex.problem ? fileTag(keys, ex.identity ?? ex.source) : null,
  };
}
