import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { count } from '../domain/plural.js';
import type { Keys } from '../pseudonymise/keys.js';
import { decryptRaw, type EncryptedRaw, type RawKeyRing } from '../pseudonymise/raw-encryption.js';
import { openTotpSecret, sealTotpSecret } from '../pseudonymise/totp-secret.js';
import {
  countRows,
  finishRun,
  INPUT_PROBLEM_CODES,
  type PreparedExchange,
  startRun,
  writeExchangeBatch,
} from '../store/ingest-repository.js';
import { openStore, type Store, type StoreOptions, withDefaultUser } from '../store/open.js';
import { readStoreSecret } from '../store/store-secret.js';
import type { IngestTx } from '../store/watermark.js';
import { addResult, emptySummary, type IngestSummary } from './ingest-exchanges.js';
import { prepareExchange, type ReceivedExchange } from './ingest-prepare.js';
import { linkInBatch } from './link-batch.js';
import { SecretMismatchError, secretFingerprint } from './store-secret.js';

/**
 * `ketendata reprocess`: step 3 of a rotation after a leaked secret (docs/keys.md, "Rotation"). Every exchange
 * the old store kept is ingested again from its raw XML, decrypted with the old secret's keys, into a fresh
 * store under the new secret, through the path of `ketendata ingest` (prepareExchange, writeExchangeBatch,
 * linking in the batch's transaction); what is not pseudonymised (organisations, users, API tokens, the audit
 * log) is carried over. The old store is only read.
 */

/** A refusal before anything is written; the CLI prints `<code>: <text>` with this exit code. */
export class ReprocessRefused extends Error {
  override readonly name = 'ReprocessRefused';
  constructor(
    readonly code: string,
    text: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(`${code}: ${text}`);
  }
}

/** Where the old store is: as `openStore` takes it (a data folder, or a PostgreSQL URL). */
export type OldStoreOptions = Pick<StoreOptions, 'databaseUrl' | 'dataDir'>;

/**
 * Opens the old store, refusing a folder without a store or a PostgreSQL database without ketendata's tables:
 * opening would make an empty store there (and the reprocess would copy nothing, silently).
 */
export async function openOldStore(options: OldStoreOptions, where: string): Promise<Store> {
  if (!options.databaseUrl) {
    if (!existsSync(join(options.dataDir, 'ketendata.sqlite')))
      throw new ReprocessRefused(
        'reprocess.no_old_store',
        `${where} holds no store (no ketendata.sqlite): name the data folder of the store to re-process`,
      );
  } else {
    const client = new pg.Client({ connectionString: withDefaultUser(options.databaseUrl) });
    let found = false;
    try {
      await client.connect();
      found = (await client.query(`SELECT to_regclass('exchange') IS NOT NULL AS found`)).rows[0]?.found;
    } catch {
      // Unreachable: openStore says so with its own code (store.unreachable).
      found = true;
    } finally {
      await client.end().catch(() => undefined);
    }
    if (!found)
      throw new ReprocessRefused(
        'reprocess.no_old_store',
        `${where} holds no ketendata store (no table exchange): name the database of the store to re-process`,
      );
  }
  return openStore({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
}

/**
 * Whether two open stores are one: the same SQLite file, or the same PostgreSQL database (the old store's
 * connection is looked for among the new store's server's sessions of its database, so two URLs that name
 * one database in other words are found too).
 */
export async function sameStore(
  old: Store,
  oldOptions: OldStoreOptions,
  store: Store,
  options: OldStoreOptions,
): Promise<boolean> {
  if (old.dialect !== store.dialect) return false;
  if (old.dialect === 'sqlite') {
    const file = (o: OldStoreOptions) => {
      try {
        return realpathSync(join(o.dataDir, 'ketendata.sqlite'));
      } catch {
        return join(o.dataDir, 'ketendata.sqlite');
      }
    };
    return file(oldOptions) === file(options);
  }
  return old.db.connection().execute(async (conn) => {
    const me = await sql<{
      pid: number;
      started: string;
    }>`SELECT pg_backend_pid() AS pid, backend_start::text AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()`.execute(
      conn,
    );
    const row = me.rows[0];
    if (!row) return false;
    const seen = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${row.pid} AND (backend_start IS NULL OR backend_start::text = ${row.started}) AND datname = current_database()`.execute(
      store.db,
    );
    return Number(seen.rows[0]?.n) > 0;
  });
}

/**
 * The old store's secret among the previous-secret file's: its recorded fingerprint, or (a store from before
 * migration 0018) the secret whose raw-encryption key its raw messages are under. A SecretMismatchError
 * (`keys.secret_mismatch`, exit code 1) when none is. Also refused: raw messages under a key none of the
 * secrets provides, which could not be re-processed.
 */
export async function oldStoreSecret(
  old: Store,
  previous: readonly Keys[],
  given: Keys,
  where: string,
): Promise<Keys> {
  const recorded = await readStoreSecret(old.db);
  const keyIds = (await old.db.selectFrom('raw_message').select('key_id').groupBy('key_id').execute()).map(
    (r) => r.key_id,
  );
  const found = recorded
    ? previous.find((k) => secretFingerprint(k) === recorded.keyId)
    : (previous.find((k) => keyIds.includes(k.rawKeyId)) ?? (keyIds.length === 0 ? previous[0] : undefined));
  if (!found)
    throw new SecretMismatchError(
      recorded?.keyId,
      secretFingerprint(given),
      `${where} was built with a master secret that is none of the previous-secret file's (${previous.map(secretFingerprint).join(', ')})${recorded ? `: its fingerprint is ${recorded.keyId}` : ''}. Put the secret the old store was built with in the file (docs/keys.md, "Rotation"). Nothing was written`,
    );
  const readable = new Set(previous.map((k) => k.rawKeyId));
  const unknown = keyIds.filter((id) => !readable.has(id)).sort();
  if (unknown.length)
    throw new ReprocessRefused(
      'keys.unknown_raw_key',
      `${where} holds raw messages under ${unknown.length === 1 ? 'key' : 'keys'} ${unknown.join(', ')}, which none of the secrets in the previous-secret file provides: add the secret they were written with (all of a rotation's secrets may be in the file, one a line). Nothing was written`,
      1,
    );
  return found;
}

/** What a store holds of ingested data, for the summary and the check that the new store is fresh. */
export interface Holdings {
  readonly messages: number;
  readonly exchanges: number;
  readonly quarantine: number;
}

export async function holdings(store: Store): Promise<Holdings> {
  return {
    messages: await countRows(store, 'message'),
    exchanges: await countRows(store, 'exchange'),
    quarantine: await countRows(store, 'quarantine'),
  };
}

/**
 * The new store must hold nothing but what an earlier run of this reprocess wrote (a run again after an
 * interruption continues): no message, exchange or quarantine item of another ingest run, no user or API
 * token that is not the old store's under the same id.
 */
export async function checkFresh(old: Store, store: Store, label: string, where: string): Promise<void> {
  const foreignRun = await store.db
    .selectFrom('ingest_run')
    .select(['source'])
    .where('source', '!=', label)
    .where((eb) =>
      eb.or([
        eb.exists(
          eb.selectFrom('exchange').select('id').whereRef('exchange.ingest_run_id', '=', 'ingest_run.id'),
        ),
        eb.exists(
          eb.selectFrom('message').select('seq').whereRef('message.ingest_run_id', '=', 'ingest_run.id'),
        ),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  // A quarantine item without an exchange of its own is no reprocess's either.
  const strayItem = await store.db
    .selectFrom('quarantine')
    .select('id')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(selectFrom('exchange').select('id').whereRef('exchange.quarantine_id', '=', 'quarantine.id')),
      ),
    )
    .limit(1)
    .executeTakeFirst();
  if (foreignRun || strayItem) {
    const h = await holdings(store);
    throw new ReprocessRefused(
      'reprocess.target_not_fresh',
      `${where} already holds ${count(h.messages, 'message')} and ${count(h.exchanges, 'exchange')}${foreignRun ? ` (ingested from ${foreignRun.source})` : ''} that did not come from re-processing this old store: re-process into a fresh store (an empty data folder or a new database; docs/keys.md, "Rotation"). Nothing was written`,
    );
  }
  const mine = async (
    table: 'app_user' | 'api_token',
    column: 'email' | 'token_hash',
    what: string,
  ): Promise<void> => {
    for (let after = 0; ; ) {
      const rows = await store.db
        .selectFrom(table)
        .select(['id', column])
        .where('id', '>', after)
        .orderBy('id')
        .limit(500)
        .execute();
      if (!rows.length) return;
      after = Number(rows[rows.length - 1]!.id);
      const ids = rows.map((r) => Number(r.id));
      const theirs = new Map(
        (await old.db.selectFrom(table).select(['id', column]).where('id', 'in', ids).execute()).map((r) => [
          Number(r.id),
          (r as Record<string, unknown>)[column],
        ]),
      );
      const stranger = rows.find((r) => theirs.get(Number(r.id)) !== (r as Record<string, unknown>)[column]);
      if (stranger)
        throw new ReprocessRefused(
          'reprocess.target_not_fresh',
          `${where} already holds ${what} ${stranger.id} that is not the old store's: re-process into a fresh store (an empty data folder or a new database; docs/keys.md, "Rotation"). Nothing was written`,
        );
    }
  };
  await mine('app_user', 'email', 'user');
  await mine('api_token', 'token_hash', 'API token');
}

export interface CarriedOver {
  readonly organisations: number;
  readonly members: number;
  readonly users: number;
  /** TOTP secrets opened with the old key and sealed under the new one (bound to the same user id). */
  readonly totpResealed: number;
  /** Users whose TOTP secret none of the old keys opens: copied as it was (they cannot log in until reset). */
  readonly totpUnreadable: readonly number[];
  readonly tokens: number;
  readonly auditEntries: number;
}

/** Sets a PostgreSQL serial after rows were inserted with their own ids, so the next row gets a new one. */
async function catchUpSerial(store: Store, table: 'app_user' | 'api_token' | 'audit_log'): Promise<void> {
  if (store.dialect !== 'postgres') return;
  await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), m) FROM (SELECT max(id) AS m FROM ${sql.table(table)}) t WHERE m IS NOT NULL`.execute(
    store.db,
  );
}

/**
 * What is not pseudonymised, copied as it is (idempotent: what the new store has already is left): the
 * organisations and their members, with the weekly cursors at 0 (the old seqs mean nothing in the new store,
 * so the first weekly re-delivers the whole history in the new hashes); the users under their ids, TOTP
 * secrets re-sealed under the new key; the API tokens (SHA-256 of the token, not keyed); the audit log.
 */
export async function carryOver(
  old: Store,
  store: Store,
  keys: Keys,
  oldTotpRing: RawKeyRing,
): Promise<CarriedOver> {
  const organisations = await old.db.selectFrom('organisation').selectAll().orderBy('code').execute();
  const members = await old.db
    .selectFrom('organisation_member')
    .selectAll()
    .orderBy('organisation')
    .orderBy('gemeente')
    .execute();
  const users = await old.db.selectFrom('app_user').selectAll().orderBy('id').execute();
  const tokens = await old.db.selectFrom('api_token').selectAll().orderBy('id').execute();
  let totpResealed = 0;
  const totpUnreadable: number[] = [];
  const sealed = users.map((u) => {
    if (u.totp_secret === null) return u;
    const id = Number(u.id);
    try {
      const o = openTotpSecret(oldTotpRing, id, u.totp_secret);
      if (o.kind === 'unknown_key') {
        totpUnreadable.push(id);
        return u;
      }
      totpResealed++;
      return { ...u, totp_secret: sealTotpSecret(keys, id, o.secret) };
    } catch {
      totpUnreadable.push(id);
      return u;
    }
  });
  await store.db.transaction().execute(async (trx) => {
    for (const o of organisations)
      await trx
        .insertInto('organisation')
        // Cursors at 0: the next weekly is a first weekly (the whole history, in the new hashes); the slot
        // stays, so no Sunday the old store delivered is owed again.
        .values({ ...o, weekly_seq: 0, weekly_link_seq: 0 })
        .onConflict((oc) => oc.column('code').doNothing())
        .execute();
    for (const m of members)
      await trx
        .insertInto('organisation_member')
        // The first weekly (from seq 0) sends every member from the start: nothing to catch up.
        .values({ ...m, catch_up: 0 })
        .onConflict((oc) => oc.columns(['organisation', 'gemeente']).doNothing())
        .execute();
    for (const u of sealed)
      await trx
        .insertInto('app_user')
        .values(u)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    for (const t of tokens)
      await trx
        .insertInto('api_token')
        .values(t)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
  });
  // The audit log in pages, under its ids (a run again skips what it copied).
  let auditEntries = 0;
  for (let after = 0; ; ) {
    const rows = await old.db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .execute();
    if (!rows.length) break;
    after = Number(rows[rows.length - 1]!.id);
    await store.db
      .insertInto('audit_log')
      .values(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    auditEntries += rows.length;
  }
  for (const t of ['app_user', 'api_token', 'audit_log'] as const) await catchUpSerial(store, t);
  return {
    organisations: organisations.length,
    members: members.length,
    users: users.length,
    totpResealed,
    totpUnreadable,
    tokens: tokens.length,
    auditEntries,
  };
}

/** One exchange of the old store as the loop reads it: its row, where its raw XML is, its item's state. */
interface OldExchange {
  readonly id: number | string;
  readonly hub_id: string | null;
  readonly moment: string;
  readonly verzender: string;
  readonly ontvanger: string;
  readonly source: string;
  readonly message_seq: number | string | null;
  readonly quarantine_id: number | string | null;
  readonly raw_id: number | string | null;
  readonly raw_size: number | string | null;
  readonly first_of_message: number | string | null;
  readonly q_status: string | null;
  readonly q_reason_code: string | null;
  readonly q_reason: string | null;
  readonly q_moment: string | null;
  readonly q_verzender: string | null;
  readonly q_ontvanger: string | null;
  readonly q_resolved_at: string | null;
  readonly q_resolved_seq: number | string | null;
}

async function oldExchangePage(old: Store, after: number, limit: number): Promise<OldExchange[]> {
  return (await old.db
    .selectFrom('exchange as e')
    .leftJoin('message as m', 'm.seq', 'e.message_seq')
    .leftJoin('quarantine as q', 'q.id', 'e.quarantine_id')
    .select([
      'e.id',
      'e.hub_id',
      'e.moment',
      'e.verzender',
      'e.ontvanger',
      'e.source',
      'e.message_seq',
      'e.quarantine_id',
      'q.status as q_status',
      'q.reason_code as q_reason_code',
      'q.reason as q_reason',
      'q.moment as q_moment',
      'q.verzender as q_verzender',
      'q.ontvanger as q_ontvanger',
      'q.resolved_at as q_resolved_at',
      'q.resolved_message_seq as q_resolved_seq',
    ])
    // An exchange in a message has the message's raw XML (a retried item's too); one in quarantine its item's.
    .select((eb) => eb.fn.coalesce('m.raw_id', 'q.raw_id').as('raw_id'))
    .select((eb) =>
      eb
        .selectFrom('raw_message as r')
        .select(sql<number>`length(r.ciphertext)`.as('n'))
        .whereRef('r.id', '=', eb.fn.coalesce('m.raw_id', 'q.raw_id'))
        .as('raw_size'),
    )
    // The message's first exchange is the one its raw XML came with; a later passage's own bytes were not kept.
    .select((eb) =>
      eb
        .selectFrom('exchange as f')
        .select((f) => f.fn.min('f.id').as('f'))
        .whereRef('f.message_seq', '=', 'e.message_seq')
        .as('first_of_message'),
    )
    .where('e.id', '>', after)
    .orderBy('e.id')
    .limit(limit)
    .execute()) as OldExchange[];
}

const DISMISS_ACTION = 'quarantine.dismiss';

/**
 * The notes of the old store's dismissals, by item id, from its audit log (`quarantine dismiss` records the
 * ids and the note there). Only those of dismissed items are kept: as many as the operator dismissed.
 */
async function dismissalNotes(old: Store): Promise<Map<number, { note: string; actor: string }>> {
  const out = new Map<number, { note: string; actor: string }>();
  for (let after = 0; ; ) {
    const rows = await old.db
      .selectFrom('audit_log')
      .select(['id', 'actor', 'detail'])
      .where('action', '=', DISMISS_ACTION)
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .execute();
    if (!rows.length) return out;
    after = Number(rows[rows.length - 1]!.id);
    for (const r of rows) {
      try {
        const d = JSON.parse(r.detail ?? '') as { ids?: unknown; note?: unknown };
        if (!Array.isArray(d.ids) || typeof d.note !== 'string') continue;
        for (const id of d.ids) out.set(Number(id), { note: d.note, actor: r.actor });
      } catch {
        // Not the shape `quarantine dismiss` writes: no note to carry.
      }
    }
  }
}

/** A statement in the ingest transaction, `?` parameters (numbered for PostgreSQL). */
async function runInTx(tx: IngestTx, text: string, params: readonly unknown[]): Promise<void> {
  if (tx.dialect === 'sqlite') {
    tx.sqlite.prepare(text).run(...params);
    return;
  }
  let n = 0;
  await tx.client.query(
    text.replace(/\?/g, () => `$${++n}`),
    [...params],
  );
}

export interface ReprocessSummary extends IngestSummary {
  /** Exchanges of the old store (at the start). */
  readonly total: number;
  /** Items dismissed as in the old store, with their note; `withoutNote`: the old audit log had none for them. */
  dismissed: number;
  dismissedWithoutNote: number;
  /** Items the old store had settled without a message (e.g. a folder read at last): settled here too. */
  settled: number;
}

export interface ReprocessOptions {
  readonly batchSize?: number;
  /** Raw bytes per batch (as ingest's): a batch ends at `batchSize` exchanges or this many bytes. */
  readonly batchBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, summary: Readonly<ReprocessSummary>) => void;
}

export interface ReprocessDeps {
  readonly old: Store;
  /** The old secret's raw-encryption keys (every secret of the file). */
  readonly oldRawRing: RawKeyRing;
  readonly store: Store;
  readonly keys: Keys;
  readonly now: () => Date;
  /** `cli:<user>`: who dismissed items again, in the new audit log. */
  readonly actor: string;
  /** The new store's ingest run label: names the old store, and marks what a reprocess of it wrote. */
  readonly label: string;
}

/**
 * Every exchange of the old store, in its order (exchange id), through ingest's path into the new store: in
 * batches (one transaction each, linked in it), streamed page by page, so memory does not grow with the store.
 * Exchanges written before (a run again) are skipped by their exchange key, as ingest skips them.
 */
export async function reprocessExchanges(
  deps: ReprocessDeps,
  options: ReprocessOptions = {},
): Promise<ReprocessSummary> {
  const batchSize = options.batchSize ?? 500;
  const batchBytes = options.batchBytes ?? 64 * 1024 * 1024;
  const notes = await dismissalNotes(deps.old);
  const total = await countRows(deps.old, 'exchange');
  const runId = await startRun(deps.store, deps.label, deps.now().toISOString());
  const summary: ReprocessSummary = {
    ...emptySummary(runId),
    total,
    dismissed: 0,
    dismissedWithoutNote: 0,
    settled: 0,
  };
  let after = 0;
  let done = 0;
  let decided = { dismissed: 0, withoutNote: 0, settled: 0 };
  const write = async (rows: readonly OldExchange[]) => {
    const rawIds = [...new Set(rows.map((r) => Number(r.raw_id)).filter((id) => id > 0))];
    const raws = new Map<number, EncryptedRaw>(
      rawIds.length
        ? (
            await deps.old.db
              .selectFrom('raw_message')
              .select(['id', 'key_id', 'nonce', 'tag', 'ciphertext'])
              .where('id', 'in', rawIds)
              .execute()
          ).map((r) => [Number(r.id), r])
        : [],
    );
    const prepared = rows.map((r) => prepareOne(deps, r, raws));
    const now = deps.now();
    const link = linkInBatch(prepared, now);
    const at = now.toISOString();
    const result = await writeExchangeBatch(deps.store, prepared, {
      runId,
      now: at,
      inTransaction: async (tx, result) => {
        await link(tx, result);
        // The old store's decisions on its items, in the same transaction: a batch written is a batch decided.
        let dismissed = 0;
        let withoutNote = 0;
        let settled = 0;
        for (const [i, r] of rows.entries()) {
          const id = result.quarantineIds[i];
          if (id === undefined || r.message_seq !== null) continue;
          if (r.q_status === 'dismissed') {
            const kept = notes.get(Number(r.quarantine_id));
            if (!kept) withoutNote++;
            const note =
              kept?.note ?? 'dismissed in the old store; its note was not found in the old audit log';
            await runInTx(
              tx,
              `UPDATE quarantine SET status = 'dismissed', resolved_at = ? WHERE id = ? AND status = 'open'`,
              [r.q_resolved_at ?? at, id],
            );
            await runInTx(
              tx,
              'INSERT INTO audit_log (at, actor, organisation, action, detail) VALUES (?, ?, NULL, ?, ?)',
              [
                at,
                deps.actor,
                DISMISS_ACTION,
                JSON.stringify({
                  ids: [id],
                  note,
                  reprocessed: { item: Number(r.quarantine_id), by: kept?.actor ?? null },
                }),
              ],
            );
            dismissed++;
          } else if (r.q_status === 'resolved' && r.q_resolved_seq === null) {
            await runInTx(
              tx,
              `UPDATE quarantine SET status = 'resolved', resolved_at = ? WHERE id = ? AND status = 'open'`,
              [r.q_resolved_at ?? at, id],
            );
            settled++;
          }
        }
        // Counted once the transaction commits (PostgreSQL may run this again).
        decided = { dismissed, withoutNote, settled };
      },
    });
    summary.dismissed += decided.dismissed;
    summary.dismissedWithoutNote += decided.withoutNote;
    summary.settled += decided.settled;
    addResult(summary, result, true);
    done += rows.length;
    options.onProgress?.(done, summary);
  };
  const stopped = () => options.signal?.aborted === true;
  try {
    while (!stopped()) {
      const page = await oldExchangePage(deps.old, after, batchSize);
      if (!page.length) break;
      after = Number(page[page.length - 1]!.id);
      // A page is cut into batches of at most batchBytes of raw XML (one big message alone at most).
      let batch: OldExchange[] = [];
      let bytes = 0;
      for (const r of page) {
        const size = Number(r.raw_size ?? 0);
        if (batch.length > 0 && bytes + size > batchBytes) {
          await write(batch);
          batch = [];
          bytes = 0;
          if (stopped()) break;
        }
        batch.push(r);
        bytes += size;
      }
      if (stopped()) {
        // The rest of this page is not written: a run again takes it up.
        break;
      }
      if (batch.length) await write(batch);
    }
  } finally {
    await finishRun(deps.store, runId, deps.now().toISOString());
  }
  return summary;
}

/** The exchange as ingest would receive it: its hub metadata and the raw XML it was kept with. */
function prepareOne(
  deps: ReprocessDeps,
  r: OldExchange,
  raws: ReadonlyMap<number, EncryptedRaw>,
): PreparedExchange {
  const raw = raws.get(Number(r.raw_id));
  const bytes = raw ? decryptRaw(deps.oldRawRing, raw) : Buffer.alloc(0);
  const inQuarantine = r.message_seq === null && r.quarantine_id !== null;
  const inputProblem = inQuarantine && INPUT_PROBLEM_CODES.has(r.q_reason_code ?? '');
  const ex: ReceivedExchange = {
    source: r.source,
    bytes,
    moment: r.moment === '' ? null : r.moment,
    // An item keeps the parties as received (null where the input had none, as a plain folder's files); the
    // exchange row took the message header's then.
    verzender: inQuarantine ? r.q_verzender : r.verzender,
    ontvanger: inQuarantine ? r.q_ontvanger : r.ontvanger,
    hubId: r.hub_id,
    ...(inputProblem ? { problem: { code: r.q_reason_code!, reason: r.q_reason ?? '' } } : {}),
  };
  const prepared = prepareExchange(deps.keys, ex);
  // A later passage of a message comes with the first passage's bytes (its own were not kept): its digest
  // would be of other bytes than it had, so it has none, as an exchange stored before digests existed.
  const later =
    r.message_seq !== null && r.first_of_message !== null && Number(r.first_of_message) !== Number(r.id);
  return later && ex.hubId
    ? { ...prepared, exchange: { ...prepared.exchange, content_digest: null } }
    : prepared;
}
