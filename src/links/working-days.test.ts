import { describe, expect, it } from 'vitest';
import { subtractWorkingDays } from './working-days.js';

describe('subtractWorkingDays', () => {
  it('skips weekends', () => {
    expect(subtractWorkingDays('2024-03-08', 3)).toBe('2024-03-05'); // Friday → Tuesday
    expect(subtractWorkingDays('2024-03-11', 1)).toBe('2024-03-08'); // Monday → Friday
  });

  it('skips Dutch public holidays: Christmas, Easter Monday, King’s Day', () => {
    // Friday 27 Dec 2024: Thursday 26 and Wednesday 25 are Christmas, so three working days back is Friday 20.
    expect(subtractWorkingDays('2024-12-27', 3)).toBe('2024-12-20');
    // Wednesday 3 April 2024: Monday 1 April is Easter Monday; Good Friday is no holiday in the termijnenwet.
    expect(subtractWorkingDays('2024-04-03', 2)).toBe('2024-03-29');
    // Monday 28 April 2025: Saturday 26 is King's Day (27 falls on a Sunday), a weekend day anyway.
    expect(subtractWorkingDays('2025-04-28', 1)).toBe('2025-04-25');
  });
});
