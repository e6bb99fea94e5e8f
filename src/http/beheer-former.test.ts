import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { ingestAt, testBsn } from '../usecases/deliveries.fixtures.js';
import { findOrganisation } from '../usecases/organisations.js';

describe.each(DIALECTS)(
  "Beheer: a former municipality among a head organisation's members, on %s",
  (dialect) => {
    let h: Awaited<ReturnType<typeof portalHarness>>;

    beforeAll(async () => {
      h = await portalHarness(dialect);
      await h.seed();
    });
    afterAll(async () => h.drop());

    it('takes a former code (Weesp, 0457) in the members field once its messages are stored, and names the rule when refusing', async () => {
      const op = new Browser(h.app);
      expect((await op.login('beheer@example')).status).toBe(303);
      const { csrf } = await op.page('/beheer');
      // No message of 0457 yet: as likely a typo as a former municipality, so refused.
      const early = await op.post('/beheer/organisaties/REGIO01/gemeenten', {
        _csrf: csrf!,
        members: '0363, 0457, 0599',
      });
      expect(early.status).toBe(400);
      expect((await findOrganisation(h.store, 'REGIO01'))?.members).not.toContain('0457');
      await ingestAt(h.store, new Date('2021-06-01T10:00:00Z'), {
        kind: 'JW301',
        gemeente: '0457',
        bsn: testBsn(4570),
      });
      const changed = await op.post('/beheer/organisaties/REGIO01/gemeenten', {
        _csrf: csrf!,
        members: '0363, 0457, 0599',
      });
      expect(changed.status).toBe(303);
      expect((await findOrganisation(h.store, 'REGIO01'))?.members).toEqual(['0363', '0457', '0599']);
      const page = (await op.page('/beheer')).html;
      // The field shows it back, so saving the form again keeps it.
      expect(page).toMatch(/id="leden-REGIO01"[^>]*value="0363, 0457, 0599"/);

      const refused = await op.post('/beheer/organisaties/REGIO01/gemeenten', {
        _csrf: csrf!,
        members: '0363, 457',
      });
      expect(refused.status).toBe(400);
      // The summary names the field's form and leads to it; the code for support follows the link.
      const said = await refused.text();
      expect(said).toContain(
        'van een voormalige gemeente die daar niet meer in staat (bijvoorbeeld Weesp, 0457) en waarvan al berichten zijn ingelezen. Niet herkend: 457.</a> (foutcode organisation.invalid_members)',
      );
      expect(said).toContain(
        '<a class="utrecht-link" href="#leden-REGIO01">Gemeenten van Regio Een: de gemeenten',
      );
      expect(said).toMatch(/id="leden-REGIO01"[^>]*value="0363, 457"/);
      expect((await findOrganisation(h.store, 'REGIO01'))?.members).toEqual(['0363', '0457', '0599']);
    });
  },
);
