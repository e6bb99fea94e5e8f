import { fromLocal, toLocal } from './zoned-time.js';

/**
 * The weekly delivery rhythm of the contract: a run every Sunday 06:00 Europe/Amsterdam, shown as
 * ready on Monday morning. A slot is identified by the instant of its run.
 */
export const DELIVERY_TIME_ZONE = 'Europe/Amsterdam';
/** Cron form of the weekly slot (croner, in DELIVERY_TIME_ZONE); the scheduler fires on it. */
export const WEEKLY_CRON = '0 6 * * 0';
const RUN_HOUR = 6;
/** Deliveries become visible on the Monday after the run, at this local hour. */
const READY_HOUR = 6;
/** Deliveries hold data from this day on (history: "alles sinds 1-1-2021"). */
export const HISTORY_START = '2021-01-01';

/** The latest weekly slot at or before `instant`. */
export function weeklySlotAtOrBefore(instant: Date): Date {
  const l = toLocal(instant, DELIVERY_TIME_ZONE);
  const sunday = { year: l.year, month: l.month, day: l.day - l.weekday, hour: RUN_HOUR, minute: 0 };
  const slot = fromLocal(sunday, DELIVERY_TIME_ZONE);
  if (slot.getTime() <= instant.getTime()) return slot;
  return fromLocal({ ...sunday, day: sunday.day - 7 }, DELIVERY_TIME_ZONE);
}

/** The first weekly slot strictly after `instant`. */
export function nextWeeklySlot(instant: Date): Date {
  const l = toLocal(weeklySlotAtOrBefore(instant), DELIVERY_TIME_ZONE);
  return fromLocal(
    { year: l.year, month: l.month, day: l.day + 7, hour: RUN_HOUR, minute: 0 },
    DELIVERY_TIME_ZONE,
  );
}

/** Every weekly slot in (after, until], oldest first. */
export function weeklySlotsBetween(after: Date, until: Date): Date[] {
  const out: Date[] = [];
  for (let s = nextWeeklySlot(after); s.getTime() <= until.getTime(); s = nextWeeklySlot(s)) out.push(s);
  return out;
}

/** When a delivery made in `slot` is shown as ready: the Monday after, 06:00 local. */
export function readyAt(slot: Date): Date {
  const l = toLocal(slot, DELIVERY_TIME_ZONE);
  return fromLocal(
    { year: l.year, month: l.month, day: l.day + 1, hour: READY_HOUR, minute: 0 },
    DELIVERY_TIME_ZONE,
  );
}

/** The instant 1-1-2021 begins in Amsterdam (2020-12-31T23:00Z): a history holds exchanges from then on. */
export const HISTORY_START_INSTANT = fromLocal(
  { year: 2021, month: 1, day: 1, hour: 0, minute: 0 },
  DELIVERY_TIME_ZONE,
).toISOString();
