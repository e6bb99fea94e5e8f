import type { Generated } from 'kysely';

/**
 * Ingest tables (migration 0001_ingest). Identifier fields are never stored in clear: `rows` holds the
 * flattened tables with hashed cells as stored pseudonyms (see src/pseudonymise), and the raw XML is
 * kept only encrypted.
 */
export interface IngestTables {
  message: MessageTable;
  exchange: ExchangeTable;
  raw_message: RawMessageTable;
  quarantine: QuarantineTable;
  ingest_run: IngestRunTable;
}

export interface MessageTable {
  /** Monotonic ingest order; deliveries cover seq ranges. */
  seq: Generated<number>;
  /** BerichtId: keyed hash of message key + content digest (hex, 32). */
  bericht_id: string;
  standard: string;
  /** JW301 … WMO325 */
  code: string;
  /** The municipality (CBS code) from the header field of type LDT_Gemeente. */
  gemeente: string;
  afzender: string;
  ontvanger: string;
  identificatie: string;
  dagtekening: string;
  identificatie_retour: string | null;
  dagtekening_retour: string | null;
  /** Keyed hash of the message key (without content): equal for conflicting versions. */
  key_hash: string;
  /** Keyed hash of the canonical content. */
  content_hash: string;
  /** 1 when another message with the same key_hash but different content exists. */
  conflict: number;
  /** Hub metadata of the first passage. */
  first_moment: string;
  hub_id: string | null;
  verzender: string;
  ontvanger_hub: string;
  passages: number;
  /** JSON: { [table]: Row[] } with hashed cells pseudonymised; exchange columns left null. */
  rows: string;
  raw_id: number;
  ingest_run_id: number;
  /** ISO-8601 UTC */
  ingested_at: string;
}

export interface ExchangeTable {
  id: Generated<number>;
  /** Identifies one passage: the hub id, or a digest of source + moment + parties + content. */
  exchange_key: string;
  message_seq: number | null;
  quarantine_id: number | null;
  hub_id: string | null;
  moment: string;
  verzender: string;
  ontvanger: string;
  source: string;
  ingest_run_id: number;
  /** Keyed digest of the bytes, for an exchange with a hub id (migration 0012); null before, or without one. */
  content_digest: string | null;
}

export interface RawMessageTable {
  id: Generated<number>;
  key_id: string;
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export interface QuarantineTable {
  id: Generated<number>;
  exchange_key: string;
  source: string;
  hub_id: string | null;
  moment: string | null;
  verzender: string | null;
  ontvanger: string | null;
  /** Stable error code, e.g. ingest.xsd_invalid */
  reason_code: string;
  /** Human-readable reason naming file, message and rule (never a BSN). */
  reason: string;
  raw_id: number;
  /** `dismissed`: closed by an operator without storing (the reason is in the audit log). */
  status: 'open' | 'resolved' | 'dismissed';
  received_at: string;
  resolved_at: string | null;
  resolved_message_seq: number | null;
}

export interface IngestRunTable {
  id: Generated<number>;
  source: string;
  started_at: string;
  finished_at: string | null;
  /** The `now` of the run's last written batch (migration 0023): null before its first, and for older runs. */
  last_batch_at: string | null;
  received: number;
  stored: number;
  duplicates: number;
  conflicts: number;
  quarantined: number;
  /** Exchanges already in the store from an earlier run (re-ingest): nothing added. */
  skipped: number;
}
