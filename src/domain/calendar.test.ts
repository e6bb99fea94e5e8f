import { describe, expect, it } from 'vitest';
import {
  addWorkingDays,
  dayFromIso,
  easter,
  isoDay,
  isWorkingDay,
  publicHolidays,
  workingDaysBetween,
} from '../domain/calendar.js';

describe('calendar', () => {
  it('finds Easter Sunday for known years', () => {
    expect(isoDay(easter(2024))).toBe('2024-03-31');
    expect(isoDay(easter(2025))).toBe('2025-04-20');
    expect(isoDay(easter(2026))).toBe('2026-04-05');
    expect(isoDay(easter(2030))).toBe('2030-04-21');
  });

  it('moves King’s Day to 26 April when the 27th is a Sunday, and knows the Easter-derived holidays', () => {
    const h2025 = [...publicHolidays(2025)].map(isoDay).sort();
    expect(h2025).toEqual([
      '2025-01-01',
      '2025-04-21',
      '2025-04-26',
      '2025-05-05',
      '2025-05-29',
      '2025-06-09',
      '2025-12-25',
      '2025-12-26',
    ]);
    expect(publicHolidays(2024).has(dayFromIso('2024-04-27'))).toBe(true);
  });

  it('counts working days across a weekend and Christmas', () => {
    expect(isWorkingDay(dayFromIso('2025-12-25'))).toBe(false);
    expect(isWorkingDay(dayFromIso('2025-12-27'))).toBe(false);
    expect(isoDay(addWorkingDays(dayFromIso('2025-12-23'), 3))).toBe('2025-12-30');
    expect(isoDay(addWorkingDays(dayFromIso('2025-12-27'), 0))).toBe('2025-12-29');
    expect(workingDaysBetween(dayFromIso('2025-12-23'), dayFromIso('2026-01-02'))).toBe(5);
  });
});
