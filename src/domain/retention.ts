import { DELIVERY_TIME_ZONE } from './delivery-week.js';
import { addLocalDays, fromLocal, toLocal } from './zoned-time.js';

/** Delivered files are kept this many days, then deleted (file and listing) by the retention job. */
export const RETENTION_DAYS = 60;
/**
 * The retention job's cron (croner, Europe/Amsterdam): hourly, so a file goes within the hour after it
 * expires (a weekly made Sunday 06:00 expires at 06:00, a catch-up at any time). Cheap: one query on the
 * delivery listing (a few rows per organisation) and a look in the temp folder.
 */
export const RETENTION_CRON = '0 * * * *';

/**
 * When a delivery made at `madeAt` expires: 60 calendar days later at the same Amsterdam clock time, to the
 * millisecond (the wall clock reads whole seconds; its milliseconds are added back).
 */
export function expiresAt(madeAt: Date): Date {
  const atSecond = addLocalDays(madeAt, RETENTION_DAYS, DELIVERY_TIME_ZONE);
  return new Date(atSecond.getTime() + madeAt.getUTCMilliseconds());
}

/** True from the expiry instant on: on day 60 a delivery is gone, on day 59 it is still there. */
export function isExpired(madeAt: Date, now: Date): boolean {
  return now.getTime() >= expiresAt(madeAt).getTime();
}

/** The daily slot (local midnight, Amsterdam) an instant falls in; the retention job claims it once. */
export function dailySlot(instant: Date): Date {
  const l = toLocal(instant, DELIVERY_TIME_ZONE);
  return fromLocal({ year: l.year, month: l.month, day: l.day, hour: 0, minute: 0 }, DELIVERY_TIME_ZONE);
}
