import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import { listDeliveryRows } from '../store/deliveries.js';
import type { Store } from '../store/open.js';
import { testKeys } from '../usecases/deliveries.fixtures.js';
import { activateOrganisation, addOrganisation } from '../usecases/organisations.js';
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

  it('fires the weekly job on Sunday 06:00 and retention daily at 03:00, Amsterdam time', () => {
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
      expect(local.format(next.retention!).endsWith('03:00')).toBe(true);
    } finally {
      scheduler.stop();
    }
  });
});
