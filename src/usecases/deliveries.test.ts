import { describe, expect, it } from 'vitest';
import type { Delivery } from '../store/deliveries.js';
import { toView } from './deliveries.js';

describe('toView', () => {
  const row = (periodStart: string) =>
    ({
      periodStart,
      periodEnd: '2021-01-03T05:00:00.000Z',
      availableAt: '2021-01-04T05:00:00.000Z',
      deletedAt: null,
      firstDownloadedAt: null,
    }) as unknown as Delivery;
  const now = new Date('2021-01-05T00:00:00Z');

  it('gives the period start of a delivery stored with a bare date as the instant 1-1-2021 begins in Amsterdam', () => {
    expect(toView(row('2021-01-01'), now).periodStart).toBe('2020-12-31T23:00:00.000Z');
    expect(toView(row('2020-12-27T05:00:00.000Z'), now).periodStart).toBe('2020-12-27T05:00:00.000Z');
  });
});
