import { describe, expect, it } from 'vitest';
import { formatPeriod } from './format.js';

describe('formatPeriod', () => {
  it('shows an instant as its day in Amsterdam: the history start 2020-12-31T23:00Z is 1 January 2021', () => {
    expect(formatPeriod('2020-12-31T23:00:00.000Z', '2021-01-03T05:00:00.000Z')).toBe(
      '1 jan 2021 – 3 jan 2021',
    );
    expect(formatPeriod('2024-03-31T04:00:00.000Z', '2024-04-07T04:00:00.000Z')).toBe(
      '31 mrt 2024 – 7 apr 2024',
    );
  });

  it('still shows a bare date as that calendar day', () => {
    expect(formatPeriod('2021-01-01', '2021-01-03T05:00:00.000Z')).toBe('1 jan 2021 – 3 jan 2021');
  });
});
