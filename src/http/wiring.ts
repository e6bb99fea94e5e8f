import { sql } from 'kysely';
import { readyAt } from '../domain/delivery-week.js';
import { JOBS } from '../jobs/jobs.js';
import type { Keys } from '../pseudonymise/keys.js';
import { audit, listAudit } from '../store/audit.js';
import { deliveryOverview, listDeliveryRows } from '../store/deliveries.js';
import { getJobRun, listJobRuns } from '../store/jobs.js';
import type { Store } from '../store/open.js';
import { describeActors } from '../usecases/actors.js';
import { listConflicts } from '../usecases/conflicts.js';
import { firstSlotOwed, WEEKLY_JOB } from '../usecases/deliver.js';
import { listDeliveries } from '../usecases/deliveries.js';
import { DeliveryError } from '../usecases/deliveries-errors.js';
import {
  bundleNotDownloaded,
  deleteDeliveries,
  describeDelivery,
  openDelivery,
} from '../usecases/download.js';
import { indicatorSnapshot } from '../usecases/indicators.js';
import {
  activateOrganisation,
  addOrganisation,
  cancelHistoryRequest,
  deactivateOrganisation,
  findOrganisation,
  listOrganisations,
  requestHistory,
  setMembers,
  setPersonalData,
} from '../usecases/organisations.js';
import {
  dismissQuarantine,
  exportQuarantined,
  listQuarantine,
  reasonDetail,
  retryQuarantine,
} from '../usecases/quarantine.js';
import type {
  AuditPort,
  DeliveriesPort,
  DueDelivery,
  HistoryStatus,
  IndicatorsPort,
  IngestRunView,
  OperatorPort,
} from './deps.js';

/**
 * Builds the HTTP ports from the use cases. Tenant scoping lives in the use cases (every call names the
 * organisation); here a refusal for another organisation's id becomes "not found", never "forbidden".
 */
export interface WiringInput {
  readonly store: Store;
  readonly dataDir: string;
  /** Needed to re-try quarantined exchanges (they are kept encrypted). */
  readonly keys?: Keys;
}

const HIDDEN = new Set([
  'delivery.not_found',
  'delivery.forbidden',
  'delivery.deleted',
  'delivery.not_ready',
  'delivery.not_downloaded',
  'organisation.not_found',
]);

/** Turns the use cases' "not yours / not there" refusals into undefined. */
async function orNothing<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof DeliveryError && HIDDEN.has(err.code)) return undefined;
    throw err;
  }
}

export function auditPort(store: Store): AuditPort {
  return {
    record: (e, now) =>
      audit(store, {
        at: now,
        actor: e.actor,
        organisation: e.organisation,
        action: e.action,
        detail: e.detail ? { ...e.detail } : null,
      }),
  };
}

export function deliveriesPort({ store, dataDir }: WiringInput): DeliveriesPort {
  const files = { store, dataDir };
  /**
   * When a delivery owed from `slot` on is listed: the Monday after, unless that has passed without it (the
   * run missed, or failed and waiting): then it is late, and a failed run's retry time is said when known.
   */
  const due = async (slot: Date, now: Date): Promise<DueDelivery> => {
    const ready = readyAt(slot);
    if (ready.getTime() > now.getTime())
      return { readyOn: ready.toISOString(), late: false, retryAfter: null };
    const run = await getJobRun(store.db, WEEKLY_JOB, slot.toISOString());
    const retry =
      run?.status === 'failed' && Date.parse(run.leaseUntil) > now.getTime() ? run.leaseUntil : null;
    return { readyOn: null, late: true, retryAfter: retry };
  };
  const historyStatus = async (organisation: string, now: Date): Promise<HistoryStatus> => {
    const org = await findOrganisation(store, organisation);
    const lastHistory = org
      ? (await listDeliveryRows(store.db, organisation)).find((d) => d.kind === 'history')
      : undefined;
    const requestedAt = org?.historyRequested ? org.historyRequestedAt : null;
    // Made on Sunday, listed from Monday: until then the request is cleared but the file is not there yet.
    const notYetListed =
      lastHistory && Date.parse(lastHistory.availableAt) > now.getTime() ? lastHistory.availableAt : null;
    // Made in the first weekly run after the request (runDue's rule), shown the Monday after.
    const slot = org ? firstSlotOwed(org, 'history') : null;
    return {
      requestedAt,
      ...(requestedAt && slot
        ? await due(slot, now)
        : { readyOn: notYetListed, late: false, retryAfter: null }),
      lastMadeAt: lastHistory?.madeAt ?? null,
    };
  };
  return {
    async list(organisation, now) {
      const list = (await orNothing(() => listDeliveries(store, organisation, { now }))) ?? [];
      const names = await describeActors(
        store.db,
        list.flatMap((d) => (d.firstDownloadedBy ? [d.firstDownloadedBy] : [])),
      );
      return list.map((d) => ({
        id: d.id,
        kind: d.kind,
        periodFrom: d.periodStart,
        periodTo: d.periodEnd,
        madeAt: d.madeAt,
        availableAt: d.availableAt,
        sizeBytes: d.size,
        messageCount: d.messageCount,
        personalDataLeftOut: d.personalDataLeftOut,
        firstWeekly: d.firstWeekly,
        catchUp: d.catchUp ?? [],
        fileName: d.fileName,
        sha256: d.sha256,
        firstDownloadedAt: d.firstDownloadedAt,
        firstDownloadedBy: d.firstDownloadedBy,
        firstDownloadedByName: d.firstDownloadedBy
          ? (names.get(d.firstDownloadedBy) ?? d.firstDownloadedBy)
          : null,
        deletedAt: d.deletedAt,
        expiresAt: d.expiresAt,
      }));
    },
    async open(organisation, id, actor, now, range) {
      const f = await orNothing(() => openDelivery(files, { organisation, actor, now, id, range }));
      return f
        ? {
            fileName: f.fileName,
            size: f.size,
            sha256: f.delivery.sha256,
            stream: f.stream,
            recordDownloaded: f.recordDownloaded,
          }
        : undefined;
    },
    async describe(organisation, id, now) {
      const f = await orNothing(() => describeDelivery(files, { organisation, now, id }));
      return f ? { fileName: f.fileName, size: f.size, sha256: f.delivery.sha256 } : undefined;
    },
    async openAllNew(organisation, actor, now) {
      const b = await orNothing(() => bundleNotDownloaded(files, { organisation, actor, now }));
      for (const d of b?.missing ?? []) {
        console.error(
          `download: delivery ${d.id} of ${organisation} left out of "all new": its file ${d.fileName} is missing on disk (delivery.file_missing)`,
        );
      }
      if (!b || b.deliveries.length === 0) {
        b?.stream.resume();
        return undefined;
      }
      return {
        fileName: b.fileName,
        stream: b.stream,
        recordDownloaded: b.recordDownloaded,
        deliveryIds: b.deliveries.map((d) => d.id),
      };
    },
    async remove(organisation, ids, actor, now) {
      const deleted = await orNothing(() => deleteDeliveries(files, { organisation, actor, now, ids }));
      return (deleted ?? []).map((d) => d.id);
    },
    historyStatus: (organisation, now) => historyStatus(organisation, now),
    async nextWeekly(organisation, now) {
      const org = await findOrganisation(store, organisation);
      const slot = org ? firstSlotOwed(org, 'weekly') : null;
      if (!slot) return undefined;
      // Made on Sunday, listed from Monday: that one comes first (the rows are newest first).
      const made = (await listDeliveryRows(store.db, organisation))
        .filter((d) => d.kind === 'weekly' && Date.parse(d.availableAt) > now.getTime())
        .at(-1);
      return made ? { readyOn: made.availableAt, late: false, retryAfter: null } : due(slot, now);
    },
    async requestHistory(organisation, actor, now) {
      await requestHistory(store, { code: organisation, actor, now });
      return historyStatus(organisation, now);
    },
    async cancelHistory(organisation, actor, now) {
      await cancelHistoryRequest(store, { code: organisation, actor, now });
      return historyStatus(organisation, now);
    },
    async members(organisation) {
      return (await findOrganisation(store, organisation))?.members ?? [];
    },
  };
}

const JOB_STATUS: Record<string, string> = { done: 'Klaar', running: 'Bezig', failed: 'Mislukt' };

/** A job as the operator page names it: its Dutch description. */
function jobLabel(name: string): string {
  const text = JOBS.find((j) => j.name === name)?.description;
  return text ? `${text[0]!.toUpperCase()}${text.slice(1)}` : name;
}

export function operatorPort({ store, keys }: WiringInput): OperatorPort {
  return {
    async audit(filter) {
      return (await listAudit(store.db, filter)).map((a) => ({
        id: a.id,
        at: a.at,
        actor: a.actor,
        organisation: a.organisation,
        action: a.action,
        detail: a.detail,
      }));
    },
    deliveryOverview: (now) => deliveryOverview(store.db, now),
    async organisations() {
      return (await listOrganisations(store)).map((o) => ({
        code: o.code,
        name: o.name,
        kind: o.kind,
        active: o.active,
        deactivatedAt: o.deactivatedAt,
        members: o.members,
        catchUp: o.catchUp,
        historyRequestedAt: o.historyRequested ? o.historyRequestedAt : null,
        leavesOutPersonalData: o.leavesOutPersonalData,
      }));
    },
    async setPersonalData(code, leaveOut, actor, now) {
      await setPersonalData(store, { code, leaveOut, actor, now });
    },
    async addOrganisation(input, actor, now) {
      await addOrganisation(store, { ...input, actor, now });
    },
    async activateOrganisation(code, actor, now) {
      await activateOrganisation(store, { code, actor, now });
    },
    async deactivateOrganisation(code, actor, now) {
      const { historyWithdrawn } = await deactivateOrganisation(store, { code, actor, now });
      return { historyWithdrawn: historyWithdrawn !== null };
    },
    async setMembers(code, members, actor, now) {
      await setMembers(store, { code, members, actor, now });
    },
    async jobRuns(limit) {
      return (await listJobRuns(store.db, undefined, limit)).map((r) => ({
        job: jobLabel(r.job),
        slot: r.slot,
        startedAt: r.claimedAt,
        finishedAt: r.finishedAt,
        outcome: `${JOB_STATUS[r.status] ?? r.status}${r.detail ? ` — ${r.detail}` : ''}`,
      }));
    },
    async ingestRuns(limit) {
      // The live feed makes a run per request: thousands a day would push every `ingest` run off the page,
      // so its runs are summed per account and day (UTC).
      const feed = 'http:%';
      const runs = await store.db
        .selectFrom('ingest_run')
        .selectAll()
        .where('source', 'not like', feed)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      const days = await store.db
        .selectFrom('ingest_run')
        .select((eb) => [
          'source',
          sql<string>`substr(started_at, 1, 10)`.as('day'),
          eb.fn.max('id').as('id'),
          eb.fn.min('started_at').as('started_at'),
          eb.fn.max('started_at').as('last_started_at'),
          eb.fn.max('finished_at').as('finished_at'),
          eb.fn.countAll<number>().as('requests'),
          eb.fn.sum<number>('received').as('received'),
          eb.fn.sum<number>('stored').as('stored'),
          eb.fn.sum<number>('duplicates').as('duplicates'),
          eb.fn.sum<number>('conflicts').as('conflicts'),
          eb.fn.sum<number>('quarantined').as('quarantined'),
        ])
        .where('source', 'like', feed)
        .groupBy(['source', sql`substr(started_at, 1, 10)`])
        .orderBy(sql`max(started_at)`, 'desc')
        .limit(limit)
        .execute();
      const views: (IngestRunView & { readonly last: string })[] = [
        ...runs.map((r) => ({
          id: Number(r.id),
          source: r.source,
          startedAt: r.started_at,
          finishedAt: r.finished_at,
          lastBatchAt: r.last_batch_at,
          received: r.received,
          stored: r.stored,
          duplicates: r.duplicates,
          conflicts: r.conflicts,
          quarantined: r.quarantined,
          last: r.started_at,
        })),
        ...days.map((d) => ({
          id: Number(d.id),
          source: d.source,
          startedAt: String(d.started_at),
          finishedAt: d.finished_at === null ? null : String(d.finished_at),
          received: Number(d.received),
          stored: Number(d.stored),
          duplicates: Number(d.duplicates),
          conflicts: Number(d.conflicts),
          quarantined: Number(d.quarantined),
          requests: Number(d.requests),
          last: String(d.last_started_at),
        })),
      ];
      return views
        .sort((a, b) => (a.last < b.last ? 1 : a.last > b.last ? -1 : b.id - a.id))
        .slice(0, limit)
        .map(({ last: _last, ...v }) => v);
    },
    conflicts: () => listConflicts(store),
    async handledQuarantine(limit) {
      return (await listQuarantine(store, { all: true }))
        .filter((q) => q.status !== 'open')
        .sort((a, b) => (b.resolvedAt ?? '').localeCompare(a.resolvedAt ?? '') || b.id - a.id)
        .slice(0, limit)
        .map((q) => ({
          id: q.id,
          source: q.source,
          code: q.reasonCode,
          status: q.status === 'dismissed' ? ('dismissed' as const) : ('resolved' as const),
          resolvedAt: q.resolvedAt,
          messageSeq: q.resolvedMessageSeq,
        }));
    },
    async quarantine(limit) {
      const list = await listQuarantine(store);
      return list
        .slice(-limit)
        .reverse()
        .map((q) => ({
          id: q.id,
          source: q.source,
          ingestSource: q.ingestSource,
          moment: q.moment,
          code: q.reasonCode,
          reason: reasonDetail(q),
          receivedAt: q.receivedAt,
        }));
    },
    async retryQuarantine(ids, actor, now, replacement, otherIdentity) {
      if (ids.length === 0) return { text: 'Selecteer eerst een of meer berichten.', refused: true };
      if (!keys) return { text: 'Opnieuw proberen kan hier niet: de sleutels ontbreken.', refused: true };
      if (replacement && ids.length !== 1)
        return { text: 'Een gecorrigeerd bericht vervangt precies één bericht.', refused: true };
      const r = await retryQuarantine(
        { store, keys, now: () => now },
        ids,
        replacement ? { replacement, otherIdentity: otherIdentity === true } : {},
      );
      if (r.otherMessage) {
        return {
          refused: true,
          text: `Het bestand is een ander bericht (${r.otherMessage.file}) dan quarantainenummer ${ids[0]} (${r.otherMessage.item}): er is niets veranderd. Een gecorrigeerd bericht houdt de soort, afzender, ontvanger en Identificatie van het bericht in quarantaine (waar die geldig waren). Verbetert het bestand juist die, vink dan „Soort, afzender, ontvanger of Identificatie is verbeterd” aan. Is het echt een ander bericht, lees het dan in als nieuw bericht en handel dit nummer af met een toelichting.`,
        };
      }
      await audit(store, {
        at: now,
        actor,
        organisation: null,
        action: replacement ? 'quarantine.replace' : 'quarantine.retry',
        detail: { ids, tried: r.tried, resolved: r.resolved },
      });
      if (r.unknownIds.length > 0 && r.tried === 0)
        return {
          text:
            r.unknownIds.length === 1
              ? `Quarantainenummer ${r.unknownIds[0]} staat niet (meer) open.`
              : `Quarantainenummers ${r.unknownIds.join(', ')} staan niet (meer) open.`,
        };
      // What became of them: a replacement stored as a duplicate, or refused again, and why.
      const still = r.tried - r.resolved;
      const how = r.resolved > 0 ? ` (${r.stored} opgeslagen, ${r.duplicates} als dubbel)` : '';
      const why =
        still > 0
          ? ` (${Object.keys(r.quarantinedByReason).sort().join(', ')}; de reden staat hieronder bij het bericht)`
          : '';
      return {
        text: `${r.tried} opnieuw geprobeerd: ${r.resolved} opgelost${how}, ${still} nog in quarantaine${why}.`,
      };
    },
    async exportQuarantined(id, actor, now) {
      if (!keys) return undefined;
      let message: Buffer | undefined;
      const r = await exportQuarantined(
        { store, keys },
        {
          id,
          actor,
          now,
          write: (m) => {
            message = m;
          },
        },
      );
      if (!r) return undefined;
      return r.exported && message ? message : null;
    },
    async dismissQuarantine(ids, note, actor, now) {
      // The page has checked that there is a selection and a note.
      const r = await dismissQuarantine(store, { ids, note, actor, now });
      const n = r.dismissed.length;
      const notOpen = r.notOpen.length ? ` Niet (meer) open: ${r.notOpen.join(', ')}.` : '';
      // What the audit log keeps, when the use case masked it (and kept it at all).
      const masked =
        n > 0 && r.note !== note.trim()
          ? ` De toelichting is opgeslagen als „${r.note}”: reeksen van 9 of meer cijfers en een BSN in groepjes (999 435 978) worden niet leesbaar bewaard, woorden van meer dan 300 tekens ingekort.`
          : '';
      return `${n} ${n === 1 ? 'bericht' : 'berichten'} afgehandeld zonder opslaan.${notOpen}${masked}`;
    },
  };
}

export function indicatorsPort({ store }: WiringInput): IndicatorsPort {
  return { snapshot: (organisation, now) => indicatorSnapshot(store, organisation, { now }) };
}
