import { describe, expect, it } from 'vitest';
import { formatCount, formatList, formatPeriod, formatSize, weeklyScope } from './format.js';

describe('formatPeriod', () => {
  it('shows an instant as its day in Amsterdam (the history start 2020-12-31T23:00Z is 1 January 2021), with its time unless midnight', () => {
    expect(formatPeriod('2020-12-31T23:00:00.000Z', '2021-01-03T05:00:00.000Z')).toBe(
      '1 jan 2021 – 3 jan 2021 06:00',
    );
    // A week from Sunday 06:00 to Sunday 06:00, across the change to summer time: no overlap to be seen.
    expect(formatPeriod('2024-03-24T05:00:00.000Z', '2024-03-31T04:00:00.000Z')).toBe(
      '24 mrt 2024 06:00 – 31 mrt 2024 06:00',
    );
  });

  it('still shows a bare date as that calendar day', () => {
    expect(formatPeriod('2021-01-01', '2021-01-03T05:00:00.000Z')).toBe('1 jan 2021 – 3 jan 2021 06:00');
  });
});

describe('formatSize', () => {
  it('shows bytes whole and kB, MB and GB always with one decimal, so a column does not mix "139 kB" and "138,9 kB"', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1024)).toBe('1,0 kB');
    expect(formatSize(139 * 1024)).toBe('139,0 kB');
    expect(formatSize(Math.round(138.9 * 1024))).toBe('138,9 kB');
    expect(formatSize(1000 * 1024)).toBe('1.000,0 kB');
    expect(formatSize(1.5 * 1024 * 1024)).toBe('1,5 MB');
    expect(formatSize(3 * 1024 ** 3)).toBe('3,0 GB');
  });

  it('moves to the next unit when the rounded value reaches 1024', () => {
    expect(formatSize(1024 * 1024 - 1)).toBe('1,0 MB');
    expect(formatSize(1024 * 1024)).toBe('1,0 MB');
  });

  it('stays in GB beyond it', () => {
    expect(formatSize(2048 * 1024 ** 3)).toBe('2.048,0 GB');
  });
});

describe('formatCount', () => {
  it('groups thousands with a point, as Dutch readers do', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(12345)).toBe('12.345');
  });
});

describe('weeklyScope', () => {
  const week = {
    kind: 'weekly' as const,
    periodFrom: '2026-03-01T05:00:00.000Z',
    periodTo: '2026-03-08T05:00:00.000Z',
    firstWeekly: false,
    catchUp: [] as string[],
  };
  it('names several members caught up, a former municipality as such, and says nothing for a history', () => {
    expect(formatList(['a', 'b', 'c'])).toBe('a, b en c');
    expect(weeklyScope({ ...week, catchUp: ['0599', '0457'] })).toEqual([
      'Bevat ook alle gegevens tot nu toe van Rotterdam (0599) en 0457 (voormalige gemeente): die gemeenten zijn sinds de vorige wekelijkse levering toegevoegd.',
    ]);
    expect(weeklyScope({ ...week, kind: 'history', firstWeekly: true, catchUp: ['0599'] })).toEqual([]);
    // A week across the change to summer time is one week, not two.
    expect(
      weeklyScope({ ...week, periodFrom: '2026-03-22T05:00:00.000Z', periodTo: '2026-03-29T04:00:00.000Z' }),
    ).toEqual([]);
  });
});
