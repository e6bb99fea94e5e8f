import { HISTORY_START, HISTORY_START_INSTANT } from '../domain/delivery-week.js';
import { type Delivery, listDeliveryRows } from '../store/deliveries.js';
import type { Store } from '../store/open.js';
import { requireOrganisation } from './organisations.js';

export type { Delivery } from '../store/deliveries.js';

/** A delivery as the portal, the API and `ketendata deliveries` show it. */
export interface DeliveryView extends Delivery {
  /** Shown as ready (available_at has passed) and its file not deleted. */
  readonly ready: boolean;
  readonly downloaded: boolean;
  readonly deleted: boolean;
}

/**
 * Past its expiry a delivery is gone for everyone, also before the retention job has deleted it (that
 * runs hourly): file and listing are deleted automatically after 60 days (the contract).
 */
export function isExpired(d: Pick<Delivery, 'expiresAt'>, now: Date): boolean {
  return Date.parse(d.expiresAt) <= now.getTime();
}

export function toView(d: Delivery, now: Date): DeliveryView {
  return {
    ...d,
    // Deliveries made before period bounds were all instants stored the history start as a date.
    periodStart: d.periodStart === HISTORY_START ? HISTORY_START_INSTANT : d.periodStart,
    ready: d.deletedAt === null && Date.parse(d.availableAt) <= now.getTime(),
    downloaded: d.firstDownloadedAt !== null,
    deleted: d.deletedAt !== null,
  };
}

/**
 * An organisation's deliveries, newest first. By default only those already shown as ready at `now`
 * (a Sunday run appears on Monday morning); `includePending` lists the ones still waiting too.
 */
export async function listDeliveries(
  store: Store,
  organisation: string,
  opts: { readonly now: Date; readonly includePending?: boolean },
): Promise<DeliveryView[]> {
  await requireOrganisation(store, organisation);
  const all = (await listDeliveryRows(store.db, organisation))
    .filter((d) => !isExpired(d, opts.now))
    .map((d) => toView(d, opts.now));
  return opts.includePending ? all : all.filter((d) => Date.parse(d.availableAt) <= opts.now.getTime());
}
