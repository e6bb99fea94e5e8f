import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import { weeklySlotsBetween } from '../domain/delivery-week.js';
import { listDeliveryRows } from '../store/deliveries.js';
import { listJobRuns } from '../store/jobs.js';
import { openStore, type Store } from '../store/open.js';
import { type DeliveryDeps, runDue, WEEKLY_JOB } from './deliver.js';
import { ingestAt, testBsn, testKeys } from './deliveries.fixtures.js';
import { activateOrganisation, addOrganisation } from './organisations.js';

const T0 = new Date('2024-09-04T10:00:00Z');
const NOW = new Date('2024-10-29T12:00:00Z'); // eight Sundays later, across the change to winter time
const ORGS = ['0363', '0384', '0599'] as const;

describe('two workers against one PostgreSQL', () => {
  let store: Store;
  let second: Store;
  let dataDir: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshStore('postgres');
    ({ store, dataDir, drop } = fresh);
    second = await openStore({ databaseUrl: fresh.url, dataDir });
    for (const code of ORGS) {
      await addOrganisation(store, { code, name: `Gemeente ${code}`, actor: 'test', now: T0 });
      await activateOrganisation(store, { code, actor: 'test', now: T0 });
    }
    let n = 0;
    for (const sunday of weeklySlotsBetween(T0, NOW)) {
      for (const gemeente of ORGS) {
        await ingestAt(store, new Date(sunday.getTime() - 86_400_000), {
          kind: 'JW301',
          gemeente,
          bsn: testBsn(9000 + n++),
        });
      }
    }
  });
  afterAll(async () => {
    await second.close();
    await drop();
  });

  it('delivers each slot once for each organisation, however the two race', async () => {
    const deps = (s: Store, worker: string): DeliveryDeps => ({
      store: s,
      dataDir,
      organisationKey: (c) => testKeys().organisation(c),
      worker,
    });
    // Both wake up after a long outage and catch up the same eight Sundays at the same moment.
    const [a, b] = await Promise.all([runDue(deps(store, 'a'), NOW), runDue(deps(second, 'b'), NOW)]);
    // A worker that met the other's claim stopped; a later run (the next tick) finishes what is left.
    const c = await runDue(deps(second, 'b'), NOW);
    const made = [...a.made, ...b.made, ...c.made];
    const slots = weeklySlotsBetween(T0, NOW).map((s) => s.toISOString());
    expect(slots).toHaveLength(8);
    expect(made).toHaveLength(slots.length * ORGS.length);
    for (const code of ORGS) {
      const rows = (await listDeliveryRows(store.db, code)).reverse();
      expect(rows.map((d) => d.slot)).toEqual(slots);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.seqFrom).toBe(rows[i - 1]!.seqTo);
      expect(rows.reduce((sum, d) => sum + d.messageCount, 0)).toBe(slots.length);
    }
    const runs = await listJobRuns(store.db, WEEKLY_JOB);
    expect(runs.map((r) => r.slot).sort()).toEqual(slots);
    expect(runs.every((r) => r.status === 'done')).toBe(true);
    // Both workers did some of the work only if they overlapped; either way nothing ran twice.
    expect(new Set(made.map((m) => `${m.organisation}/${m.slot}`)).size).toBe(made.length);
  });
});
