import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { SECRET } from '../../test/support/exchange-fixtures.js';
import { simulatedTraffic } from '../../test/support/simulated-traffic.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { insertOrganisation } from '../store/organisations.js';
import { ALL_MEMBERS, refreshIndicators } from './indicators.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';

// No rejecting retours: then every granted request and every start in the ground truth counts.
const traffic = simulatedTraffic({ errors: 0, clients: 150, seed: 11 });
afterAll(() => rmSync(traffic.dir, { recursive: true, force: true }));
const keys = deriveKeys(SECRET);
const now = new Date('2024-07-01T08:00:00Z');

interface Side {
  readonly message: { code: string };
  readonly table: string;
  readonly row: readonly number[];
}
const truth = readFileSync(join(traffic.dir, 'ground-truth.ndjson'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map(
    (l) =>
      JSON.parse(l) as {
        kind: string;
        type?: string;
        from?: Side;
        status?: string;
        code?: string;
        gemeente?: string;
        journey?: string | null;
      },
  );
const exchanges = truth.filter((t) => t.kind === 'exchange' && t.status === 'message');
const gemeenten = [...new Set(exchanges.map((t) => t.gemeente!))].sort();
/** Requested products (315) with a toewijzing: the from-sides of verzoek-toewijzing relations. */
const granted = new Set(
  truth
    .filter((t) => t.type === 'verzoek-toewijzing' && t.from!.table.endsWith('315_AangevraagdProduct'))
    .map((t) => JSON.stringify(t.from)),
);
/** Requests for a change (317) with a toewijzing. */
const grantedChanges = new Set(
  truth
    .filter((t) => t.type === 'verzoek-toewijzing' && /317$/.test(t.from!.table))
    .map((t) => JSON.stringify(t.from)),
);
const HEEN = /^(JW|WMO)3(01|05|07|15|17|19)$/;
const heenPerCode = new Map<string, number>();
for (const t of exchanges)
  if (HEEN.test(t.code!)) heenPerCode.set(t.code!, (heenPerCode.get(t.code!) ?? 0) + 1);
/** Clients (journeys) that ever sent a start. */
const startedJourneys = new Set(exchanges.filter((t) => /305$/.test(t.code!)).map((t) => t.journey));

describe.each(DIALECTS)('indicators on simulated traffic (%s)', (dialect) => {
  it("agree with the simulator's ground truth", async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await ingestSource({ store, keys, now: () => now }, await openSource(traffic.dir), { batchSize: 250 });
      await insertOrganisation(store.db, {
        code: 'R999',
        name: 'Alle gemeenten',
        kind: 'hoofdorganisatie',
        members: gemeenten,
        createdAt: now,
      });
      const snap = await refreshIndicators(store, 'R999', { now, span: 200 });
      const all = snap.scopes[ALL_MEMBERS]!;

      expect(granted.size).toBeGreaterThan(10);
      expect(all.leadTime.count).toBe(granted.size);
      expect(all.requestOutcome.honoured).toBe(granted.size);
      // The simulator answers most requests within the norm of 5 working days (--late 5%).
      expect(all.leadTime.withinNorm / all.leadTime.count).toBeGreaterThan(0.8);

      expect(grantedChanges.size).toBeGreaterThan(0);
      expect(all.changeRequests!.leadTime.count).toBe(grantedChanges.size);
      expect(all.changeRequests!.requestOutcome.requests).toBe(
        heenPerCode.get('JW317')! + heenPerCode.get('WMO317')!,
      );

      expect(new Map(all.retourErrors.types.map((t) => [t.code, t.heen]))).toEqual(heenPerCode);
      expect(all.retourErrors.types.every((t) => t.rejected === 0)).toBe(true);

      const peak = Math.max(...all.clientsInCare.months.map((m) => m.total));
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(startedJourneys.size);
      expect(all.declarations.months.some((m) => m.prestaties > 0 && m.submittedCents > 0)).toBe(true);
      expect(all.startDelay.count).toBeGreaterThan(0);

      // The members add up to the whole.
      const members = gemeenten.map((g) => snap.scopes[g]!);
      const sum = (f: (v: (typeof members)[number]) => number) => members.reduce((s, v) => s + f(v), 0);
      expect(sum((v) => v.leadTime.count)).toBe(all.leadTime.count);
      expect(sum((v) => v.requestOutcome.requests)).toBe(all.requestOutcome.requests);
      expect(sum((v) => v.startDelay.count)).toBe(all.startDelay.count);
    } finally {
      await drop();
    }
  }, 120_000);
});
