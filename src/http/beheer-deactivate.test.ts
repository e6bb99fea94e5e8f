import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { listAudit } from '../store/audit.js';
import { findOrganisation, requestHistory } from '../usecases/organisations.js';

describe.each(DIALECTS)('Beheer: deactivating an organisation asks first, on %s', (dialect) => {
  let h: Awaited<ReturnType<typeof portalHarness>>;

  beforeAll(async () => {
    h = await portalHarness(dialect);
    await h.seed();
  });
  afterAll(async () => h.drop());

  const login = async (email: string) => {
    const b = new Browser(h.app);
    expect((await b.login(email)).status).toBe(303);
    return b;
  };

  it('stops the deliveries of an organisation after "Ja, deactiveren", tells its users, and activates it again', async () => {
    // A weekly made, and a history request pending.
    expect((await h.deliver(new Date('2026-03-01T06:30:00Z'))).made.length).toBeGreaterThan(0);
    h.clock.now = new Date('2026-03-02T08:00:00Z');
    await requestHistory(h.store, { code: 'REGIO01', actor: 'cor@regio.example', now: h.clock.now });
    const op = await login('beheer@example');

    // In the list, Deactiveren is a link to the question, not a form that deactivates at once.
    const list = (await op.page('/beheer')).html;
    expect(list).toContain('href="/beheer?deactiveren=REGIO01#deactiveren-bevestigen"');
    expect(list).toContain('aria-label="Deactiveren Regio Een"');
    expect(list).not.toContain('action="/beheer/organisaties/REGIO01/deactiveren"');
    expect(list).not.toContain('Ja, deactiveren');

    const question = await op.page('/beheer?deactiveren=REGIO01');
    expect(question.res.status).toBe(200);
    expect(question.html).toContain('id="deactiveren-bevestigen"');
    expect(question.html).toContain(
      'Weet u zeker dat u Regio Een (REGIO01) wilt deactiveren? Er worden dan geen nieuwe leveringen meer voor deze organisatie gemaakt.',
    );
    expect(question.html).toContain(
      'De aanvraag voor een totaalbestand die nog openstaat, wordt ingetrokken.',
    );
    expect(question.html).toMatch(
      /<form method="post" action="\/beheer\/organisaties\/REGIO01\/deactiveren"[^>]*><input type="hidden" name="_csrf" value="[^"]+"\/>/,
    );
    expect(question.html).toContain('<a class="utrecht-link" href="/beheer">Annuleren</a>');
    // Asking changed nothing; no question for an unknown code.
    expect((await findOrganisation(h.store, 'REGIO01'))?.active).toBe(true);
    expect(await listAudit(h.store.db, { actionPrefix: 'organisation.deactivate' })).toEqual([]);
    expect((await op.page('/beheer?deactiveren=NOPE')).html).not.toContain('Ja, deactiveren');

    const yes = await op.post('/beheer/organisaties/REGIO01/deactiveren', { _csrf: question.csrf! });
    expect(yes.status).toBe(303);
    expect(yes.headers.get('Location')).toBe('/beheer?melding=gedeactiveerd-historie&code=REGIO01');
    const after = (await op.page(yes.headers.get('Location')!)).html;
    expect(after).toContain(
      'Organisatie Regio Een (REGIO01) is gedeactiveerd: er worden geen nieuwe leveringen meer voor haar gemaakt. Leveringen die al zijn gemaakt, blijven te downloaden tot ze na 60 dagen worden verwijderd. Haar aanvraag voor een totaalbestand is ingetrokken.',
    );
    expect(after).toMatch(/REGIO01<\/td>(?:(?!<\/tr>).)*Gedeactiveerd sinds 2 mrt 2026/);
    expect(after).toContain('aria-label="Activeren Regio Een"');
    expect(after).not.toContain('aria-label="Deactiveren Regio Een"');
    const org = await findOrganisation(h.store, 'REGIO01');
    expect(org).toMatchObject({ active: false, historyRequested: false });
    expect(await listAudit(h.store.db, { actionPrefix: 'organisation.deactivate' })).toMatchObject([
      { actor: 'beheer@example', organisation: 'REGIO01' },
    ]);
    const auditlog = (await op.page('/beheer/audit')).html;
    expect(auditlog).toContain('Organisatie gedeactiveerd (geen nieuwe leveringen meer)');
    expect(auditlog).toContain('aanvraag historie ingetrokken, aangevraagd op: 2 mrt 2026');

    // Its users are told plainly; what was made stays downloadable.
    const cor = await login('cor@regio.example');
    const ophalen = (await cor.page('/ophalen')).html;
    expect(ophalen).toContain(
      'Uw organisatie is niet meer actief; er worden geen nieuwe leveringen gemaakt.',
    );
    expect(ophalen).not.toContain('nog niet geactiveerd');
    // Every page of its users says the same (they shared the "nog niet geactiveerd" notice).
    for (const path of ['/historie', '/dashboard']) {
      const html = (await cor.page(path)).html;
      expect(html, path).toContain('Uw organisatie is niet meer actief');
      expect(html, path).not.toContain('nog niet geactiveerd');
    }
    expect(ophalen).not.toContain('Elke maandagochtend staat er een nieuwe wekelijkse levering klaar.');
    const link = /href="(\/ophalen\/\d+\/bestand)"/.exec(ophalen)?.[1];
    expect(link).toBeDefined();
    const file = await cor.fetch(link!);
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);
    // An active organisation's users read nothing of it.
    expect((await login('ana@0363.example').then((a) => a.page('/ophalen'))).html).not.toContain(
      'niet meer actief',
    );

    // The Sunday run makes nothing for it; the others go on.
    const sunday = await h.deliver(new Date('2026-03-08T06:30:00Z'));
    expect(sunday.made.map((m) => m.organisation).sort()).toEqual(['0363', '0599']);

    // Refused a second time: the page at once, with the code.
    const again = await op.post('/beheer/organisaties/REGIO01/deactiveren', { _csrf: question.csrf! });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain(
      'Niet gelukt: deze organisatie is niet actief; er is niets te deactiveren. (foutcode organisation.not_active)',
    );
    expect((await op.page('/beheer?deactiveren=REGIO01')).html).not.toContain('Ja, deactiveren');

    const back = await op.post('/beheer/organisaties/REGIO01/activeren', { _csrf: question.csrf! });
    expect(back.status).toBe(303);
    expect(back.headers.get('Location')).toBe('/beheer?melding=heractiveerd&code=REGIO01');
    expect((await op.page(back.headers.get('Location')!)).html).toContain(
      'Organisatie Regio Een (REGIO01) is weer geactiveerd: de volgende wekelijkse levering komt zondag',
    );
    expect((await findOrganisation(h.store, 'REGIO01'))?.weeklySeq).toBe(org?.weeklySeq);
  });
});
