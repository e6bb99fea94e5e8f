import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/** One line of the audit log: downloads, deletions, logins, settings changes. Never client data. */
export interface AuditEntry {
  readonly at: Date;
  /** A login name, `cli:<user>` or `system`. */
  readonly actor: string;
  readonly organisation?: string | null;
  /** Dotted action: `delivery.download`, `delivery.delete`, `delivery.expire`, `auth.login`, … */
  readonly action: string;
  /** Short text or JSON: ids and file names, never a BSN, name or address. */
  readonly detail?: string | Record<string, unknown> | null;
}

export interface AuditRecord {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly organisation: string | null;
  readonly action: string;
  readonly detail: string | null;
}

/** Appends to the audit log; `db` may be a transaction so the entry commits with what it records. */
export async function audit(store: { readonly db: Kysely<Database> } | Kysely<Database>, entry: AuditEntry) {
  const db = 'db' in store ? store.db : store;
  const detail =
    entry.detail == null
      ? null
      : typeof entry.detail === 'string'
        ? entry.detail
        : JSON.stringify(entry.detail);
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at.toISOString(),
      actor: entry.actor,
      organisation: entry.organisation ?? null,
      action: entry.action,
      detail,
    })
    .execute();
}

export interface AuditFilter {
  readonly organisation?: string;
  /** Actions starting with it (`delivery.`); letters, digits, `.` and `_` only. */
  readonly actionPrefix?: string;
  /** Exactly this actor: an e-mail address, `cli:<user>`, `token:<id>`. */
  readonly actor?: string;
  /** Entries older than this one (paging, newest first). */
  readonly beforeId?: number;
  readonly limit?: number;
}

/** The audit log, newest first, optionally of one organisation, one action prefix, one actor. */
export async function listAudit(db: Kysely<Database>, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (filter.organisation) q = q.where('organisation', '=', filter.organisation);
  if (filter.actionPrefix) {
    // A '%' would widen it to anything: only letters, digits, '.' and '_' are taken.
    if (!/^[\w.]+$/.test(filter.actionPrefix)) return [];
    q = q.where('action', 'like', `${filter.actionPrefix}%`);
  }
  if (filter.actor) q = q.where('actor', '=', filter.actor);
  if (filter.beforeId !== undefined) q = q.where('id', '<', filter.beforeId);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 1000)
    .execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
