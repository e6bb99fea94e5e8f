import { describe, expect, it } from 'vitest';
import { lastTwelveMonths } from './indicators.js';

describe('lastTwelveMonths', () => {
  it('are the twelve months before the current one in Amsterdam', () => {
    expect(lastTwelveMonths(new Date('2026-02-15T12:00:00Z'))).toEqual([
      '2025-02',
      '2025-03',
      '2025-04',
      '2025-05',
      '2025-06',
      '2025-07',
      '2025-08',
      '2025-09',
      '2025-10',
      '2025-11',
      '2025-12',
      '2026-01',
    ]);
    // 1 March 00:30 in Amsterdam is 28 February in UTC: March has begun for the municipality.
    const march = lastTwelveMonths(new Date('2026-02-28T23:30:00Z'));
    expect([march[0], march.at(-1)]).toEqual(['2025-03', '2026-02']);
  });
});
