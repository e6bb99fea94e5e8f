import { dayFromIso, isoDay, isWorkingDay } from '../domain/calendar.js';

/**
 * The day `count` working days before `day`, for the orphan deadlines (OP090: retour ≤ 3, OP090x4: 325 ≤ 10).
 * Working days as the Algemene termijnenwet counts them: Monday to Friday, not on a Dutch public holiday.
 */
export function subtractWorkingDays(day: string, count: number): string {
  let d = dayFromIso(day);
  let left = count;
  while (left > 0) {
    d--;
    if (isWorkingDay(d)) left--;
  }
  return isoDay(d);
}
