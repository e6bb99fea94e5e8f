import { describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { finishRun, startRun, writeExchangeBatch } from '../store/ingest-repository.js';
import { testBsn, testMessage } from '../usecases/deliveries.fixtures.js';
import { RETRY_RUN } from '../usecases/quarantine.js';

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

describe.each(DIALECTS)('Beheer, Inlezen: a quarantine retry on %s', (dialect) => {
  it('is named in Dutch, and counts nothing as received', async () => {
    const h = await portalHarness(dialect);
    try {
      await h.seed();
      const run = await startRun(h.store, RETRY_RUN, '2026-02-20T20:00:00.000Z');
      await finishRun(h.store, run, '2026-02-20T20:00:01.000Z');
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const html = (await op.page('/beheer/inlezen')).html;
      const table = html.slice(html.indexOf('id="inleesrondes'), html.indexOf('id="conflicten"'));
      const [row] = table.split('<tr class="utrecht-table__row">').slice(2);
      expect(row).toContain('Quarantaine opnieuw geprobeerd (of vervangen)');
      expect(row).not.toContain(RETRY_RUN);
      expect(row).toMatch(/kd-num">\s*(?:<!--[^>]*-->)?\s*—/);
    } finally {
      await h.drop();
    }
  });
});

describe.each(DIALECTS)('Beheer, Inlezen: a run not finished on %s', (dialect) => {
  // A killed run keeps finished_at null forever: it showed "—" under Klaar, as a run going on does.
  it('is "bezig" while it wrote within 15 minutes, else "niet afgerond" with its last activity', async () => {
    const h = await portalHarness(dialect);
    try {
      await h.seed();
      h.clock.now = new Date('2026-02-23T09:00:00Z'); // 10:00 in Amsterdam
      const run = async (source: string, startedAt: string, batchAt?: string) => {
        const id = await startRun(h.store, source, startedAt);
        if (batchAt) await writeExchangeBatch(h.store, [], { runId: id, now: batchAt });
        return id;
      };
      await finishRun(
        h.store,
        await run('/srv/klaar', '2026-02-23T06:00:00.000Z'),
        '2026-02-23T06:30:00.000Z',
      );
      await run('/srv/stil', '2026-02-23T07:00:00.000Z', '2026-02-23T07:10:00.000Z');
      await run('/srv/nooit', '2026-02-23T08:40:00.000Z');
      await run('/srv/loopt', '2026-02-23T08:00:00.000Z', '2026-02-23T08:50:00.000Z');
      await run('/srv/net', '2026-02-23T08:46:00.000Z');
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const klaar = async () => {
        const html = (await op.page('/beheer/inlezen')).html;
        const table = html.slice(html.indexOf('id="inleesrondes'), html.indexOf('id="conflicten"'));
        const rows = table.split('<tr class="utrecht-table__row">').slice(2);
        // Per run (by its source): the text under Klaar, the third cell.
        const cell = (r: string, n: number) =>
          r.split('<td class="utrecht-table__cell">')[n]?.split('</td>')[0];
        return { html, klaar: Object.fromEntries(rows.map((r) => [cell(r, 1), cell(r, 3)])) };
      };
      const first = await klaar();
      expect(first.klaar).toEqual({
        '/srv/net': 'bezig',
        '/srv/loopt': 'bezig (laatste batch 09:50)',
        '/srv/nooit': 'niet afgerond (laatste activiteit 23 feb 2026, 09:40)',
        '/srv/stil': 'niet afgerond (laatste activiteit 23 feb 2026, 08:10)',
        '/srv/klaar': '23 feb 2026, 07:30',
      });
      expect(first.html).toContain('id="niet-afgerond"');
      expect(first.html).toContain(
        '<code>ketendata ingest</code> op dezelfde bron, of <code>ketendata quarantine retry</code>',
      );

      // The page's clock decides: a minute on, the batch of 08:50 is still recent, the start of 08:46 no more.
      h.clock.now = new Date('2026-02-23T09:01:00Z');
      const later = await klaar();
      expect(later.klaar['/srv/net']).toBe('niet afgerond (laatste activiteit 23 feb 2026, 09:46)');
      expect(later.klaar['/srv/loopt']).toBe('bezig (laatste batch 09:50)');
    } finally {
      await h.drop();
    }
  });

  it('says nothing of interrupted runs when there is none', async () => {
    const h = await portalHarness(dialect);
    try {
      await h.seed();
      const id = await startRun(h.store, '/srv/klaar', '2026-02-20T06:00:00.000Z');
      await writeExchangeBatch(h.store, [], { runId: id, now: '2026-02-20T06:10:00.000Z' });
      await finishRun(h.store, id, '2026-02-20T06:30:00.000Z');
      const op = new Browser(h.app);
      await op.login('beheer@example');
      const html = (await op.page('/beheer/inlezen')).html;
      expect(html).toContain('20 feb 2026, 07:30');
      expect(html).not.toContain('niet afgerond');
      expect(html).not.toContain('id="niet-afgerond"');
    } finally {
      await h.drop();
    }
  });
});
