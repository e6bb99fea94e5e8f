import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_TIME_ZONE,
  nextWeeklySlot,
  readyAt,
  WEEKLY_CRON,
  weeklySlotAtOrBefore,
  weeklySlotsBetween,
} from './delivery-week.js';

const iso = (d: Date) => d.toISOString();

describe('weekly delivery slots', () => {
  it('runs at 06:00 Amsterdam: 05:00Z in winter and 04:00Z in summer', () => {
    expect(iso(weeklySlotAtOrBefore(new Date('2024-01-10T12:00:00Z')))).toBe('2024-01-07T05:00:00.000Z');
    expect(iso(weeklySlotAtOrBefore(new Date('2024-07-10T12:00:00Z')))).toBe('2024-07-07T04:00:00.000Z');
  });

  it('keeps 06:00 local on the Sundays the clocks change', () => {
    // 2024-03-31: summer time starts at 02:00 local; 2024-10-27: winter time starts at 03:00 local.
    const slots = weeklySlotsBetween(new Date('2024-03-20T00:00:00Z'), new Date('2024-04-08T00:00:00Z')).map(
      iso,
    );
    expect(slots).toEqual([
      '2024-03-24T05:00:00.000Z',
      '2024-03-31T04:00:00.000Z',
      '2024-04-07T04:00:00.000Z',
    ]);
    const autumn = weeklySlotsBetween(new Date('2024-10-19T00:00:00Z'), new Date('2024-11-04T00:00:00Z')).map(
      iso,
    );
    expect(autumn).toEqual([
      '2024-10-20T04:00:00.000Z',
      '2024-10-27T05:00:00.000Z',
      '2024-11-03T05:00:00.000Z',
    ]);
  });

  it('counts a slot as due exactly at its instant, not a millisecond before', () => {
    const slot = new Date('2024-03-31T04:00:00.000Z');
    expect(iso(weeklySlotAtOrBefore(slot))).toBe(iso(slot));
    expect(iso(weeklySlotAtOrBefore(new Date(slot.getTime() - 1)))).toBe('2024-03-24T05:00:00.000Z');
    expect(weeklySlotsBetween(new Date(slot.getTime() - 1), slot).map(iso)).toEqual([iso(slot)]);
    expect(weeklySlotsBetween(slot, new Date(slot.getTime() + 1))).toEqual([]);
  });

  it('agrees with croner over two years of Sundays', () => {
    const cron = new Cron(WEEKLY_CRON, { timezone: DELIVERY_TIME_ZONE, paused: true });
    let expected = cron.nextRun(new Date('2023-01-01T00:00:00Z'));
    let ours = nextWeeklySlot(new Date('2023-01-01T00:00:00Z'));
    for (let i = 0; i < 104; i++) {
      expect(iso(ours)).toBe(iso(expected!));
      expected = cron.nextRun(expected!);
      ours = nextWeeklySlot(ours);
    }
    cron.stop();
  });

  it('shows a delivery as ready on the Monday after the run, 06:00 local', () => {
    expect(iso(readyAt(new Date('2024-10-27T05:00:00Z')))).toBe('2024-10-28T05:00:00.000Z');
    expect(iso(readyAt(new Date('2024-03-31T04:00:00Z')))).toBe('2024-04-01T04:00:00.000Z');
  });
});
