import { describe, expect, it } from 'vitest';
import type { IndicatorValues } from '../indicators/indicators.js';
import { indicatorLines } from './indicators.js';

const values = (period: { from: string; to: string } | null): IndicatorValues =>
  ({
    leadTime: { count: 2, median: 6.5, withinNorm: 1, buckets: [], period },
    requestOutcome: {
      requests: 2,
      honoured: 2,
      rejected: 0,
      underInvestigation: 0,
      unanswered: 0,
      rejectionReasons: [],
    },
    startDelay: { count: 1, median: 11, buckets: [], period },
    clientsInCare: { months: [] },
    declarations: { months: [] },
    retourErrors: { types: [] },
  }) as unknown as IndicatorValues;

describe('indicatorLines', () => {
  it('says which days the lead times cover, as the dashboard tiles do', () => {
    const lines = indicatorLines(values({ from: '2024-03-04', to: '2024-04-22' }));
    expect(lines[0]).toBe(
      'lead time 315 -> 301: 2 granted requests, median 6.5 working days, within 5 working days 1 (50.0%) (2024-03-04..2024-04-22)',
    );
    expect(lines).toContain(
      'toewijzing -> start: 1 toewijzingen started, median 11 days (2024-03-04..2024-04-22)',
    );
  });

  it('names no period when nothing was counted', () => {
    expect(indicatorLines(values(null))[0]).toMatch(/\(50\.0%\)$/);
  });
});
