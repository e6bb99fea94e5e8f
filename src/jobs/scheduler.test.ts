import { Cron } from 'croner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import { expiresAt } from '../domain/retention.js';
import { listDeliveryRows } from '../store/deliveries.js';
import type { Store } from '../store/open.js';
import { ingestAt, testBsn, testKeys } from '../usecases/deliveries.fixtures.js';
import { activateOrganisation, addOrganisation } from '../usecases/organisations.js';
import { JOBS } from './jobs.js';
import { startScheduler } from './scheduler.js';

describe('the in-process scheduler', () => {
  let store: Store;
  let dataDir: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dataDir, drop } = await freshStore('sqlite'));
    await addOrganisation(store, {
      code: '0363',
      name: 'Amsterdam',
      actor: 'op',
      now: new Date('2024-10-01T10:00:00Z'),
    });
    await activateOrganisation(store, { code: '0363', actor: 'op', now: new Date('2024-10-01T10:00:00Z') });
  });
  afterAll(async () => drop());

  it('deletes an expired file within the hour: a weekly of Sunday 06:00 expires at 06:00, a catch-up at any time', () => {
    const retention = JOBS.find((j) => j.name === 'hourly')!;
    const cron = new Cron(retention.cron, { timezone: retention.timeZone });
    for (const made of ['2024-10-06T04:00:00.000Z', '2024-10-27T05:00:00.000Z', '2024-10-30T08:17:42.000Z']) {
      const expiry = expiresAt(new Date(made));
      const firstRunAfter = cron.nextRun(new Date(expiry.getTime() - 1))!;
      expect(firstRunAfter.getTime() - expiry.getTime(), made).toBeGreaterThanOrEqual(0);
      expect(firstRunAfter.getTime() - expiry.getTime(), made).toBeLessThan(60 * 60 * 1000);
    }
    cron.stop();
  });

  it('catches up the Sundays missed while the server was down as soon as it starts', async () => {
    const lines: string[] = [];
    const scheduler = startScheduler({
      store,
      dataDir,
      organisationKey: (c) => testKeys().organisation(c),
      clock: () => new Date('2024-10-30T08:00:00Z'),
      log: (l) => lines.push(l),
      catchUpOnStart: true,
    });
    try {
      // No real hourly run may join in: the catch-up is queued already and idle() still waits for it.
      scheduler.stop();
      await scheduler.idle();
      const slots = (await listDeliveryRows(store.db, '0363')).map((d) => d.slot).reverse();
      expect(slots).toEqual([
        '2024-10-06T04:00:00.000Z',
        '2024-10-13T04:00:00.000Z',
        '2024-10-20T04:00:00.000Z',
        '2024-10-27T05:00:00.000Z',
      ]);
      expect(lines).toEqual(['job weekly-delivery: 4 deliveries made, 0 expired']);
    } finally {
      scheduler.stop();
    }
  });

  it('fires the weekly job on Sunday 06:00 and the hourly one every hour, Amsterdam time', () => {
    const scheduler = startScheduler({ store, dataDir, organisationKey: (c) => testKeys().organisation(c) });
    try {
      const next = scheduler.next();
      const weekly = next['weekly-delivery']!;
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Amsterdam',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      });
      expect(local.format(weekly)).toBe('Sun 06:00');
      expect(local.format(next.hourly!).endsWith(':00')).toBe(true);
      expect(next.hourly!.getTime() - Date.now()).toBeLessThanOrEqual(60 * 60 * 1000);
    } finally {
      scheduler.stop();
    }
  });
});

describe('the scheduler after a Sunday that failed', () => {
  let store: Store;
  let dataDir: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dataDir, drop } = await freshStore('sqlite'));
    const t0 = new Date('2024-10-01T10:00:00Z');
    for (const code of ['0363', '0384']) {
      await addOrganisation(store, { code, name: code, actor: 'op', now: t0 });
      await activateOrganisation(store, { code, actor: 'op', now: t0 });
      await ingestAt(store, new Date('2024-10-02T10:00:00Z'), {
        kind: 'JW301',
        gemeente: code,
        bsn: testBsn(1),
      });
    }
  });
  afterAll(async () => drop());

  it('names the organisation that failed, and the hourly job delivers its Sunday within the hour', async () => {
    const clock = { now: new Date('2024-10-06T04:00:01Z') }; // Sunday 06:00:01 Amsterdam
    let broken = true;
    const lines: string[] = [];
    const deps = {
      store,
      dataDir,
      clock: () => clock.now,
      wallClock: () => clock.now,
      log: (l: string) => lines.push(l),
      organisationKey: (c: string) => {
        if (broken && c === '0384') throw new Error('ECONNRESET');
        return testKeys().organisation(c);
      },
    };
    const scheduler = startScheduler({ ...deps, catchUpOnStart: true });
    // Stopped before a real hourly run can join in; idle() still waits for the queued catch-up.
    scheduler.stop();
    await scheduler.idle();
    expect(lines).toEqual([
      'job weekly-delivery: 1 delivery made, 0 expired, failed: 0384 weekly 2024-10-06T04:00:00.000Z (ECONNRESET)',
    ]);
    expect(await listDeliveryRows(store.db, '0363')).toHaveLength(1);

    // The error was passing; nobody steps in. The next hourly run (07:00) takes it up.
    broken = false;
    const hourly = JOBS.filter((j) => j.cron === '0 * * * *');
    expect(hourly).toHaveLength(1);
    clock.now = new Date('2024-10-06T05:00:00Z');
    expect(await hourly[0]!.run(deps, clock.now)).toBe('1 delivery made, 0 expired');
    expect((await listDeliveryRows(store.db, '0384')).map((d) => d.slot)).toEqual([
      '2024-10-06T04:00:00.000Z',
    ]);
    // An hour with nothing to do is not logged.
    clock.now = new Date('2024-10-06T06:00:00Z');
    expect(await hourly[0]!.run(deps, clock.now)).toBe('');
  });
});
