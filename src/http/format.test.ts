import { describe, expect, it } from 'vitest';
import { formatPeriod } from './format.js';

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
