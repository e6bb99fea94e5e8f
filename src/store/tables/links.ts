import type { Generated } from 'kysely';

/** Link tables (migrations 0003_links, 0005_link_bookkeeping). Keys are stored pseudonyms, never clear identifiers. */
export interface LinkTables {
  link: LinkTable;
  link_key: LinkKeyTable;
  link_done: LinkDoneTable;
  link_replan: LinkReplanTable;
}

/**
 * One link event of the koppeltabel. Add-only: a lapsed link gets a later row with mutatie 'vervallen'; the
 * last event of a pair (by seq) says whether it holds.
 */
export interface LinkTable {
  /** Monotonic; deliveries cover seq ranges like messages. */
  seq: Generated<number>;
  type: string;
  mutatie: 'toegevoegd' | 'vervallen';
  /** CBS code; both sides belong to it. */
  gemeente: string;
  from_table: string;
  from_bericht_id: string;
  /** Ordinals joined by '.'; '' for the message itself. */
  from_row: string;
  to_table: string;
  to_bericht_id: string;
  to_row: string;
  /** ISO-8601 UTC */
  created_at: string;
}

/** The key index: what each linked message offers, so a new message is matched by lookup, not scan. */
export interface LinkKeyTable {
  keyspace: string;
  /** `<keyspace>|<scope…>|<value…>` (see src/links/entries.ts). */
  k: string;
  tag: string;
  gemeente: string;
  bericht_id: string;
  tbl: string;
  row: string;
  dagtekening: string;
  ord: string;
  info: string;
  /** The `msg|…` key of the heen message ('' for others). */
  msg: string;
}

/** Messages whose entries are in the index (makes linking a message idempotent); migration 0005. */
export interface LinkDoneTable {
  /** The message's seq: linking after a crash resumes above the highest. */
  seq: number;
}

/**
 * A replan of the recomputed links is due (migration 0022): its one row (id 1) is there from an upgrade
 * until the weekly run has replanned (`replanLinks`), so links made by older rules are corrected once.
 */
export interface LinkReplanTable {
  id: number;
  /** ISO-8601 UTC: when the upgrade found it due. */
  due_since: string;
}
