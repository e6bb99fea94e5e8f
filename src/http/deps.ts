import type { Readable } from 'node:stream';
import type { TotpKeys } from '../pseudonymise/keys.js';
import type { AuditFilter } from '../store/audit.js';
import type { Store } from '../store/open.js';
import type { ConflictingVersion } from '../usecases/conflicts.js';
import type { ByteRange } from '../usecases/download.js';
import type { IndicatorSnapshot } from '../usecases/indicators.js';
import type { TrustedProxies } from './client-address.js';

/**
 * What the HTTP layer needs from the rest of the service, as small ports. `wiring.ts` builds them from the
 * use cases; the app itself never reaches into the store for deliveries, organisations or jobs.
 */
export interface AppDeps {
  readonly store: Store;
  readonly clock: () => Date;
  readonly options: AppOptions;
  readonly deliveries: DeliveriesPort;
  readonly operator: OperatorPort;
  readonly audit: AuditPort;
  readonly indicators: IndicatorsPort;
  /** The users' TOTP secrets are kept encrypted under this key (docs/keys.md). */
  readonly totpKeys: TotpKeys;
  /** What the portal shows once after a redirect is kept encrypted under this key (`flashKeyOf`, docs/keys.md). */
  readonly flashKey: Buffer;
  /** The hub feed (`POST /api/v1/exchanges`, the ingest use case's sub-app); given the token check. */
  readonly exchangesApi?: (tokenScope: import('./api/exchanges.js').TokenScopeOf) => import('hono').Hono;
}

export interface AppOptions {
  /** Secure + __Host- cookies; off only for the demo on plain http://127.0.0.1. */
  readonly secureCookies: boolean;
  /** Shown in the page header, e.g. "demo". */
  readonly environmentLabel?: string;
  /** The reverse proxies whose X-Forwarded-For names the client; none: the socket's address is the client. */
  readonly trustedProxies?: TrustedProxies;
}

export interface AuditEntry {
  /** e-mail of the user, `token:<id>` or `system` */
  readonly actor: string;
  readonly organisation: string | null;
  /** Dotted: auth.login, auth.login_failed, auth.logout, settings.change (own password, second factor), settings.token_create, user.add, … */
  readonly action: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface AuditPort {
  record(entry: AuditEntry, now: Date): Promise<void>;
}

export interface DeliveryView {
  readonly id: number;
  readonly kind: 'weekly' | 'history';
  /** ISO dates of the period covered; null when not known. */
  readonly periodFrom: string | null;
  readonly periodTo: string | null;
  readonly madeAt: string;
  readonly availableAt: string | null;
  readonly sizeBytes: number;
  /** Messages in it: 0 for a week without traffic (the files then hold headers only). */
  readonly messageCount: number;
  /** Made with the columns of personal data in clear left empty (the organisation's choice then). */
  readonly personalDataLeftOut: boolean;
  /** A weekly that is the organisation's first: all its data so far. */
  readonly firstWeekly: boolean;
  /** Members (CBS codes) a weekly holds from the start, as its manifest's `catchUp`; [] when none or not recorded. */
  readonly catchUp: readonly string[];
  readonly fileName: string;
  /** SHA-256 of its ZIP as stored and served, lowercase hex. */
  readonly sha256: string;
  readonly firstDownloadedAt: string | null;
  /** The recorded actor: a login e-mail, `token:<id>`, `cli:<user>`. */
  readonly firstDownloadedBy: string | null;
  /** The same as a person reads it: "API-token ‘BI’", "Ana (ana@…)", "beheerder (command line)". */
  readonly firstDownloadedByName: string | null;
  readonly deletedAt: string | null;
  readonly expiresAt: string | null;
}

export interface FileInfo {
  readonly fileName: string;
  readonly size?: number;
  /**
   * SHA-256 (lowercase hex) of the whole file, when it is one stored delivery file; absent for a bundle made
   * as it is sent. Also given for a range: the digest is the whole file's, not of the bytes sent.
   */
  readonly sha256?: string;
}

export interface FileStream extends FileInfo {
  readonly stream: Readable;
  /** The deliveries a bundle of "all new" holds, in it in this order. */
  readonly deliveryIds?: readonly number[];
  /**
   * Counts the download (first downloader, audit line). The HTTP layer calls it once the whole response has
   * been handed to the operating system, never for a transfer broken off; refused unless `stream` was read
   * to its end.
   */
  recordDownloaded(): Promise<void>;
}

/** When a delivery on its way is listed, or that it is late. */
export interface DueDelivery {
  /** Monday 06:00 after the Sunday run that makes it; null when late (never a day already gone). */
  readonly readyOn: string | null;
  /**
   * The Monday it was due has passed without it: its Sunday run was missed, or failed and waits for a retry.
   * The next delivery run makes it, listed at once.
   */
  readonly late: boolean;
  /** When late because that run failed: from when it is tried again; null when unknown or already due. */
  readonly retryAfter: string | null;
}

export interface HistoryStatus extends DueDelivery {
  /** When the tick was set; null when no request is open. */
  readonly requestedAt: string | null;
  /**
   * When the history delivery will be listed (Monday 06:00): for an open request, and also once the weekly run
   * has made it (the request is then cleared) until it is listed. Null when nothing is on its way, or when an
   * open request is late (`late`).
   */
  readonly readyOn: string | null;
  /** The last history delivery made, if any. */
  readonly lastMadeAt: string | null;
}

/** Every call is scoped to one organisation: an id of another organisation behaves as if it did not exist. */
export interface DeliveriesPort {
  list(organisation: string, now: Date): Promise<readonly DeliveryView[]>;
  /** One delivery's file, or only the bytes of `range` (inclusive; a download resumed). */
  open(
    organisation: string,
    id: number,
    actor: string,
    now: Date,
    range?: ByteRange,
  ): Promise<FileStream | undefined>;
  /** What `open` would send, without opening the file or counting a download (HTTP HEAD). */
  describe(organisation: string, id: number, now: Date): Promise<FileInfo | undefined>;
  /** One ZIP of all deliveries not downloaded before; undefined when there are none. */
  openAllNew(organisation: string, actor: string, now: Date): Promise<FileStream | undefined>;
  /** Deletes those ids that belong to the organisation; returns the ids deleted. */
  remove(organisation: string, ids: readonly number[], actor: string, now: Date): Promise<readonly number[]>;
  historyStatus(organisation: string, now: Date): Promise<HistoryStatus>;
  /**
   * The next weekly to be listed (its first, for a new organisation): one made but not listed yet, else the one
   * owed next. Undefined when none is owed (not active).
   */
  nextWeekly(organisation: string, now: Date): Promise<DueDelivery | undefined>;
  requestHistory(organisation: string, actor: string, now: Date): Promise<HistoryStatus>;
  /** Withdraws a request not yet served. */
  cancelHistory(organisation: string, actor: string, now: Date): Promise<HistoryStatus>;
  /** A head organisation's municipalities (former ones included); a municipality's own code. */
  members(organisation: string): Promise<readonly string[]>;
}

export interface OrganisationView {
  readonly code: string;
  readonly name: string;
  readonly kind: 'gemeente' | 'hoofdorganisatie';
  readonly active: boolean;
  /** While inactive after having been active: when it was deactivated. */
  readonly deactivatedAt: string | null;
  readonly members: readonly string[];
  /** New members whose data so far the next weekly sends (`Organisation.catchUp`). */
  readonly catchUp: readonly string[];
  readonly historyRequestedAt: string | null;
  /** Its deliveries leave the columns with personal data in clear empty. */
  readonly leavesOutPersonalData: boolean;
}

export interface JobRunView {
  readonly job: string;
  readonly slot: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly outcome: string;
}

export interface IngestRunView {
  readonly id: number;
  readonly source: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /**
   * When the run last wrote a batch: with `finishedAt` null, tells a run going on from one that was killed.
   * Null before its first batch and for runs older than migration 0023; absent for the live feed's days.
   */
  readonly lastBatchAt?: string | null;
  readonly received: number;
  readonly stored: number;
  readonly duplicates: number;
  readonly conflicts: number;
  readonly quarantined: number;
  /**
   * The live feed's runs (one per request) of one account on one day (UTC), summed: how many requests. Absent
   * for a run of its own (`ingest`).
   */
  readonly requests?: number;
}

export interface QuarantineView {
  readonly id: number;
  readonly source: string;
  /** The folder, manifest or ZIP the item was read from (`http:…` for the API); null if not on record. */
  readonly ingestSource: string | null;
  readonly moment: string | null;
  readonly code: string;
  readonly reason: string;
  readonly receivedAt: string;
}

/** A quarantine item no longer open: stored (or taken as a copy of a stored message), or dismissed. */
export interface HandledQuarantineView {
  readonly id: number;
  readonly source: string;
  readonly code: string;
  readonly status: 'resolved' | 'dismissed';
  readonly resolvedAt: string | null;
  /** The message it became (resolved): its seq. */
  readonly messageSeq: number | null;
}

export interface AuditView {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly organisation: string | null;
  readonly action: string;
  readonly detail: string | null;
}

export interface OperatorPort {
  /** The audit log, newest first. */
  /** The audit log, newest first, filtered (one organisation, action prefix or actor; older than an id). */
  audit(filter: AuditFilter & { readonly limit: number }): Promise<readonly AuditView[]>;
  organisations(): Promise<readonly OrganisationView[]>;
  /** Per organisation with deliveries in force: when the latest was made, and how many nobody downloaded yet. */
  deliveryOverview(
    now: Date,
  ): Promise<ReadonlyMap<string, { readonly lastMadeAt: string; readonly notDownloaded: number }>>;
  addOrganisation(
    input: { code: string; name: string; members: readonly string[]; leaveOutPersonalData?: boolean },
    actor: string,
    now: Date,
  ): Promise<void>;
  /** Whether the organisation's deliveries from now on leave personal data in clear out. */
  setPersonalData(code: string, leaveOut: boolean, actor: string, now: Date): Promise<void>;
  activateOrganisation(code: string, actor: string, now: Date): Promise<void>;
  /** Stops its weekly deliveries; says whether a pending history request was withdrawn with it. */
  deactivateOrganisation(code: string, actor: string, now: Date): Promise<{ historyWithdrawn: boolean }>;
  /** Replaces a head organisation's member municipalities. */
  setMembers(code: string, members: readonly string[], actor: string, now: Date): Promise<void>;
  jobRuns(limit: number): Promise<readonly JobRunView[]>;
  ingestRuns(limit: number): Promise<readonly IngestRunView[]>;
  quarantine(limit: number): Promise<readonly QuarantineView[]>;
  /** Items handled, most recently handled first. */
  handledQuarantine(limit: number): Promise<readonly HandledQuarantineView[]>;
  /**
   * An item's message as received, to correct it: undefined for an unknown id, null for an item whose file was
   * never read (an input problem). Audited as `quarantine.export`.
   */
  exportQuarantined(id: number, actor: string, now: Date): Promise<Buffer | null | undefined>;
  /** Every stored version of the messages that came again with other content (`listConflicts`). */
  conflicts(): Promise<readonly ConflictingVersion[]>;
  /**
   * Re-tries quarantined exchanges, or one with a corrected message in place of the kept one; returns a
   * short Dutch summary.
   */
  /** What became of them, in Dutch; `refused` when nothing was done (a corrected file of another message). */
  retryQuarantine(
    ids: readonly number[],
    actor: string,
    now: Date,
    replacement?: Buffer,
    /** Take a replacement whose type, parties or Identificatie differ from the item's. */
    otherIdentity?: boolean,
  ): Promise<{ text: string; refused?: boolean }>;
  /** Closes open items without storing them, with the operator's note; returns a short Dutch summary. */
  dismissQuarantine(ids: readonly number[], note: string, actor: string, now: Date): Promise<string>;
}

/** The dashboard's numbers: aggregates only, scoped to one organisation (its member municipalities). */
export interface IndicatorsPort {
  /** The organisation's stored snapshot; computed once when it has none yet. */
  snapshot(organisation: string, now: Date): Promise<IndicatorSnapshot>;
}
