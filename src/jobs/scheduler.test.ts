import { Cron } from 'croner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import { expiresAt } from '../domain/retention.js';
import { listDeliveryRows } from '../store/deliveries.js';
import type { Store } from '../store/open.js';
import { testKeys } from '../usecases/deliveries.fixtures.js';
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
    const retention = JOBS.find((j) => j.name === 'retention')!;
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

  it('fires the weekly job on Sunday 06:00 and retention every hour, Amsterdam time', () => {
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
      expect(local.format(next.retention!).endsWith(':00')).toBe(true);
      expect(next.retention!.getTime() - Date.now()).toBeLessThanOrEqual(60 * 60 * 1000);
    } finally {
      scheduler.stop();
    }
  });
});
