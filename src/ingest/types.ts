import type { MessageSchema, Standard } from '../schema/model.js';

/** One row, aligned with `TableDef.columns`. */
export type Row = (string | null)[];
/** Table name → rows. Every table of the message type is present, possibly empty. */
export type Tables = Map<string, Row[]>;

/** What identifies a message (the header), independent of its content. */
export interface MessageKey {
  readonly standard: Standard;
  readonly code: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
  readonly identificatieRetour?: string;
  readonly dagtekeningRetour?: string;
}

export interface FlatMessage {
  readonly schema: MessageSchema;
  readonly key: MessageKey;
  /** Value of the header field `schema.gemeenteField`. */
  readonly gemeente: string;
  /**
   * Canonical serialisation of the content: local names and whitespace-processed values only, so it is
   * the same for prefix, default-namespace, whitespace, CDATA, comment and BOM variants. UTF-8 bytes.
   */
  readonly canonical: Buffer;
  /**
   * Table name → rows. BerichtId and exchange cells are null; hashed cells hold the canonical clear value.
   */
  readonly tables: Tables;
}

export type IngestErrorCode =
  | 'ingest.empty'
  | 'ingest.not_well_formed'
  | 'ingest.doctype_forbidden'
  | 'ingest.unknown_type'
  | 'ingest.xsd_invalid';

export interface IngestError {
  readonly code: IngestErrorCode;
  /** One line: file, message type, element path and the rule broken. Never a BSN, name or address. */
  readonly message: string;
  readonly file: string;
  readonly messageCode?: string;
  /** Element path by local names, `/Bericht/Client/Bsn`. */
  readonly path?: string;
  readonly line?: number;
}

export type ParseOutcome = { ok: true; message: FlatMessage } | { ok: false; error: IngestError };
