import { describe, expect, it } from 'vitest';
import { dailySlot, expiresAt, isExpired } from './retention.js';

const DAY = 86_400_000;

describe('retention', () => {
  const made = new Date('2024-03-03T05:00:00Z'); // Sunday 06:00 Amsterdam, winter time

  it('keeps a delivery on day 59 and deletes it on day 60', () => {
    expect(isExpired(made, new Date(made.getTime() + 59 * DAY))).toBe(false);
    expect(isExpired(made, expiresAt(made))).toBe(true);
    expect(isExpired(made, new Date(expiresAt(made).getTime() - 1))).toBe(false);
    expect(isExpired(made, new Date(made.getTime() + 61 * DAY))).toBe(true);
  });

  it('counts calendar days in Amsterdam across the change to summer time', () => {
    // 60 days after Sunday 3 March 06:00 CET is Thursday 2 May 06:00 CEST: 04:00Z, one hour less than 60×24 h.
    expect(expiresAt(made).toISOString()).toBe('2024-05-02T04:00:00.000Z');
  });

  it('keeps the milliseconds: a delivery is not deleted early', () => {
    const late = new Date('2024-03-03T04:59:59.999Z');
    expect(expiresAt(late).toISOString()).toBe('2024-05-02T03:59:59.999Z');
    expect(isExpired(late, new Date('2024-05-02T03:59:59.998Z'))).toBe(false);
    expect(expiresAt(new Date('2024-07-07T04:00:00.250Z')).toISOString()).toBe('2024-09-05T04:00:00.250Z');
  });

  it('puts an instant into the Amsterdam day it falls on', () => {
    expect(dailySlot(new Date('2024-07-01T22:30:00Z')).toISOString()).toBe('2024-07-01T22:00:00.000Z');
    expect(dailySlot(new Date('2024-01-01T22:30:00Z')).toISOString()).toBe('2023-12-31T23:00:00.000Z');
  });
});
