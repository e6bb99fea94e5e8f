import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { audit } from '../store/audit.js';

describe('Beheer → Auditlog', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    // 450 lines: three pages of 200, of two actors and two kinds.
    for (let i = 0; i < 450; i++) {
      await audit(h.store, {
        at: new Date(Date.parse('2026-02-01T08:00:00Z') + i * 60_000),
        actor: i % 3 === 0 ? 'ana@0363.example' : 'cli:root',
        organisation: i % 2 === 0 ? '0363' : '0599',
        action: i % 5 === 0 ? 'delivery.download' : 'organisation.members',
        detail: { n: i },
      });
    }
  }, 60_000);
  afterAll(async () => h.drop());

  const rows = (html: string) =>
    [...html.matchAll(/&quot;n&quot;:(\d+)|n: (\d+)/g)].map((m) => Number(m[1] ?? m[2]));

  it('filters by who, organisation and kind, as a link that can be kept, and pages to older lines', async () => {
    const op = new Browser(h.app);
    await op.login('beheer@example');
    const all = (await op.page('/beheer/audit')).html;
    expect(all).toContain(
      '<option value="delivery.">Leveringen: downloads, verwijderingen, mislukte</option>',
    );
    // The newest 200: the operator's login and lines 449 to 251.
    const first = rows(all);
    expect(first).toHaveLength(199);
    expect(first[0]).toBe(449);
    const older = /href="(\/beheer\/audit\?voor=\d+)">Oudere regels/.exec(all)?.[1];
    expect(older).toBeDefined();
    expect(rows((await op.page(older!.replaceAll('&amp;', '&'))).html)[0]).toBe(250);

    const filtered = (await op.page('/beheer/audit?wie=ANA%400363.example&organisatie=0363&soort=delivery.'))
      .html;
    const expected = [...Array(450).keys()]
      .filter((i) => i % 3 === 0 && i % 2 === 0 && i % 5 === 0)
      .reverse();
    expect(rows(filtered)).toEqual(expected);
    expect(filtered).toContain('value="ANA@0363.example"'); // as typed; matched without case
    expect(filtered).toMatch(/<option value="delivery\." selected="">/);
    expect(filtered).not.toContain('Oudere regels');
    // A kind the form does not offer filters nothing away; a stranger's name finds nothing.
    expect(rows((await op.page('/beheer/audit?soort=%25')).html)).toHaveLength(199);
    expect((await op.page('/beheer/audit?wie=niemand%40example')).html).toContain(
      'Geen regels met deze filters.',
    );
  });
});
