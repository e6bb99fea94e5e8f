import { describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { finishRun, startRun } from '../store/ingest-repository.js';
import { testBsn, testMessage } from '../usecases/deliveries.fixtures.js';

describe.each(DIALECTS)('Beheer, Inlezen: the live feed beside ingest runs on %s', (dialect) => {
  // The feed makes a run per request: a day of a live hub pushed every `ingest` run off the page (200 rows).
  it('sums the feed per account and day, so an ingest run stays in sight', async () => {
    const h = await portalHarness(dialect);
    try {
      await h.seed();
      const folder = await startRun(h.store, '/srv/hub/extract-2026-02-20', '2026-02-20T20:00:00.000Z');
      await finishRun(h.store, folder, '2026-02-20T20:05:00.000Z');
      const token = await h.apiToken(null);
      for (let i = 0; i < 3; i++) {
        const xml = testMessage('JW301', '0363', testBsn(9100 + i));
        const res = await h.app.request(`/api/v1/exchanges?hubId=GGK-${i}&moment=2026-03-02T07:0${i}:00Z`, {
          method: 'POST',
          body: xml.replace(/(<(\w+:)?Identificatie>)\d+/, `$1${9100 + i}`),
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/xml' },
        });
        expect(res.status, String(i)).toBe(201);
      }
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const html = (await op.page('/beheer/inlezen')).html;
      const table = html.slice(html.indexOf('id="inleesrondes'), html.indexOf('id="conflicten"'));
      const rows = table.split('<tr class="utrecht-table__row">').slice(2); // after the header row
      // One row for the three requests (newest first), the folder's run below it.
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatch(/\(live feed: 3 verzoeken op [^)]+, UTC\)/);
      expect(rows[0]!.match(/kd-num">(\d+)</g)?.map((c) => c.replace(/\D/g, ''))).toEqual([
        '3',
        '3',
        '0',
        '0',
        '0',
      ]);
      expect(rows[1]).toContain('/srv/hub/extract-2026-02-20');
      expect(rows[1]).not.toContain('live feed');
    } finally {
      await h.drop();
    }
  });
});
