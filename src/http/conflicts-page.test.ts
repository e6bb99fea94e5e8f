import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { EXAMPLES } from '../../test/support/exchange-fixtures.js';

const jw305 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW305.xml'), 'utf8');
/** The JW305 again with another Begindatum: same message key, other content. */
const changed = jw305.replace(
  /(<(?:[a-z0-9]+:)?Begindatum>)(\d{4})-/,
  (_m, tag, y) => `${tag}${Number(y) - 1}-`,
);

describe.each(DIALECTS)('Beheer, Inlezen: conflicts on %s', (dialect) => {
  it('shows every version of a message that came again with other content, with its file', async () => {
    const h = await portalHarness(dialect);
    try {
      await h.seed();
      const op = new Browser(h.app);
      await op.login('beheer@example');
      expect((await op.page('/beheer/inlezen')).html).toContain(
        'Er zijn geen berichten met afwijkende versies.',
      );

      const token = await h.apiToken(null);
      for (const [hubId, xml] of [
        ['GGK1', jw305],
        ['GGK2', changed],
      ] as const) {
        const res = await h.app.request(`/api/v1/exchanges?hubId=${hubId}&moment=2026-03-02T07:00:00Z`, {
          method: 'POST',
          body: xml,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/xml' },
        });
        expect(res.status, hubId).toBe(201);
      }
      const { html } = await op.page('/beheer/inlezen');
      expect(html).toContain('2 versies van 1 bericht');
      const table = html.slice(html.indexOf('id="conflicten-tabel-bijschrift"'));
      const body = table.slice(table.indexOf('<tbody'), table.indexOf('</tbody>'));
      const rows = body.split('<tr class="utrecht-table__row">').slice(1);
      expect(rows).toHaveLength(2);
      const ids = rows.map((r) => /<code>([0-9a-f]{32})<\/code>/.exec(r)?.[1]);
      expect(ids[0]).toBeDefined();
      expect(ids[1]).toBeDefined();
      expect(ids[0]).not.toBe(ids[1]);
      for (const r of rows) {
        expect(r).toContain('JW305');
        expect(r).toContain('0363');
        expect(r).toMatch(/ingelezen uit http:/);
      }
    } finally {
      await h.drop();
    }
  });
});
