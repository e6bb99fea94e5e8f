import type { Generated } from 'kysely';

/**
 * Delivery tables (migration 0002_deliveries): receiving organisations, their deliveries, the audit log
 * and the job claims that make every scheduled slot run once, however many workers there are.
 */
export interface DeliveryTables {
  organisation: OrganisationTable;
  organisation_member: OrganisationMemberTable;
  delivery: DeliveryTable;
  delivery_pending: DeliveryPendingTable;
  audit_log: AuditLogTable;
  job_run: JobRunTable;
}

export type OrganisationKind = 'gemeente' | 'hoofdorganisatie';

export interface OrganisationTable {
  /** A municipality's 4-digit CBS code, or a head organisation's own code. */
  code: string;
  name: string;
  kind: OrganisationKind;
  /** 1 once the operator activated it; only active organisations receive deliveries. */
  active: number;
  created_at: string;
  activated_at: string | null;
  /**
   * Weekly cursor: the highest message seq delivered in a weekly (at activation: the watermark then).
   * The next weekly covers (weekly_seq, watermark], so weeklies never overlap and never leave a gap.
   */
  weekly_seq: number;
  /** The same cursor for link rows (Koppeltabel). */
  weekly_link_seq: number;
  /** ISO instant of the last weekly slot made (at activation: the activation instant). */
  weekly_slot: string | null;
  /** 1 while a history delivery is requested; cleared by the run that makes it. */
  history_requested: number;
  history_requested_at: string | null;
  history_requested_by: string | null;
  /** 1: deliveries leave the columns with personal data in clear empty (migration 0019). */
  leave_out_personal_data: number;
}

export interface OrganisationMemberTable {
  organisation: string;
  /** CBS code of a municipality whose data this organisation receives. */
  gemeente: string;
  /** 1 while the member's data ingested before it joined has not been delivered (the next weekly does). */
  catch_up: Generated<number>;
  /** When a head organisation took it on (null: from its registration). */
  joined_at: string | null;
}

/** A delivery ZIP being written (see migration 0009): what the leftover clean-up may remove. */
export interface DeliveryPendingTable {
  /** Relative to the data folder, as `delivery.file`. */
  file: string;
  started_at: string;
}

export type DeliveryKind = 'weekly' | 'history';

export interface DeliveryTable {
  id: Generated<number>;
  organisation: string;
  kind: DeliveryKind;
  /** ISO instant of the weekly slot that made it; UNIQUE with organisation and kind (a re-run adds nothing). */
  slot: string;
  /** Period the data covers, ISO (weekly: previous slot or activation → slot; history: 2021-01-01 → slot). */
  period_start: string;
  period_end: string;
  /** Message seq range (seq_from, seq_to]. History: (0, seq_to] with first_moment ≥ 2021-01-01. */
  seq_from: number;
  seq_to: number;
  link_seq_from: number;
  link_seq_to: number;
  message_count: number;
  /** 1: made with personal data in clear left out (migration 0020; older deliveries 0). */
  personal_data_left_out: number;
  /** Members a weekly sent from the start, CBS codes joined by `,` ('' none); null: made before migration 0025. */
  catch_up: string | null;
  made_at: string;
  /** Shown as ready from here on (the Monday after the run, 06:00 Amsterdam). */
  available_at: string;
  /** made_at + 60 days: the hourly retention job deletes file and listing within the hour. */
  expires_at: string;
  /** Path of the ZIP relative to the data folder. */
  file: string;
  /** File name offered for download. */
  file_name: string;
  size: number;
  sha256: string;
  first_downloaded_at: string | null;
  first_downloaded_by: string | null;
  download_count: number;
  /** Set when a user deleted the file early; the listing stays until expiry. */
  deleted_at: string | null;
  deleted_by: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  /** Who: a user's login name, `cli:<user>`, or `system` for jobs. Never a client's data. */
  actor: string;
  organisation: string | null;
  /** Dotted action, e.g. `delivery.download`, `delivery.delete`, `organisation.activate`, `auth.login`. */
  action: string;
  /** Short free text or JSON (ids, file names); never a BSN, name or address. */
  detail: string | null;
}

export type JobRunStatus = 'running' | 'done' | 'failed';

export interface JobRunTable {
  /** Job name from src/jobs (e.g. `weekly-delivery`). */
  job: string;
  /** ISO instant of the scheduled slot; (job, slot) is the primary key: one claim per slot. */
  slot: string;
  worker: string;
  status: JobRunStatus;
  claimed_at: string;
  /**
   * Running: the claim holds until then (its worker renews it); one past it belongs to a dead worker. Failed:
   * the slot is not tried again before then.
   */
  lease_until: string;
  finished_at: string | null;
  detail: string | null;
  /** Failures in a row; the wait before the next try grows with it. */
  attempts: Generated<number>;
}
