import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { listAudit } from '../store/audit.js';
import { findUserByEmail } from '../store/users.js';
import { findOrganisation } from '../usecases/organisations.js';
import { MAX_CORRECTED_BYTES } from './portal/beheer.js';

const USERS = '/beheer/gebruikers';
const QUARANTINE = '/beheer/quarantaine';

describe.each(DIALECTS)('Beheer: forms redirect, blocking asks first, on %s', (dialect) => {
  let h: Awaited<ReturnType<typeof portalHarness>>;

  beforeAll(async () => {
    h = await portalHarness(dialect);
    await h.seed();
  });
  afterAll(async () => h.drop());

  const operator = async () => {
    const op = new Browser(h.app);
    expect((await op.login('beheer@example')).status).toBe(303);
    return op;
  };

  /** A broken message posted by the hub feed under `hubId`: its quarantine item's id. */
  const quarantinedViaFeed = async (hubId: string): Promise<number> => {
    const token = await h.apiToken(null, 'kapot');
    const res = await h.app.request(`/api/v1/exchanges?moment=2026-02-23T08:00:00Z&hubId=${hubId}`, {
      method: 'POST',
      body: '<Bericht><niet-af>',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/xml' },
    });
    expect(res.status).toBe(202);
    const { id } = await h.store.db
      .selectFrom('quarantine')
      .select('id')
      .where('hub_id', '=', hubId)
      .executeTakeFirstOrThrow();
    return id;
  };

  it('asks before blocking: the question blocks nothing, "Ja, blokkeren" does, and says so once', async () => {
    const bas = new Browser(h.app);
    expect((await bas.login('bas@0599.example')).status).toBe(303);
    const op = await operator();
    const basId = (await findUserByEmail(h.store.db, 'bas@0599.example'))!.id;

    // In the list, Blokkeren is a link to the question, not a form that blocks at once.
    const list = (await op.page(USERS)).html;
    const link = `href="/beheer/gebruikers?blokkeren=${basId}#blokkeren-bevestigen"`;
    expect(list).toContain(link);
    expect(list).not.toContain('action="/beheer/gebruikers/blokkeren"');
    expect(list).not.toContain('Ja, blokkeren');

    const question = await op.page(`${USERS}?blokkeren=${basId}`);
    expect(question.res.status).toBe(200);
    expect(question.html).toContain('id="blokkeren-bevestigen"');
    expect(question.html).toContain(
      'Weet u zeker dat u bas@0599.example wilt blokkeren? De gebruiker wordt direct overal uitgelogd.',
    );
    expect(question.html).toMatch(
      /<form method="post" action="\/beheer\/gebruikers\/blokkeren"[^>]*><input type="hidden" name="_csrf" value="[^"]+"\/><input type="hidden" name="email" value="bas@0599\.example"\/>/,
    );
    expect(question.html).toContain('Ja, blokkeren');
    expect(question.html).toContain('<a class="utrecht-link" href="/beheer/gebruikers">Annuleren</a>');
    // Asking blocked nothing: Bas is still in, and no audit line was written.
    expect((await findUserByEmail(h.store.db, 'bas@0599.example'))!.disabled_at).toBeNull();
    expect((await bas.page('/ophalen')).res.status).toBe(200);
    expect(await listAudit(h.store.db, { actionPrefix: 'user.disable' })).toEqual([]);
    // The e-mail address asks the same question; no question for oneself or for someone unknown.
    expect((await op.page(`${USERS}?blokkeren=Bas@0599.example`)).html).toContain('Ja, blokkeren');
    const ownId = (await findUserByEmail(h.store.db, 'beheer@example'))!.id;
    expect((await op.page(`${USERS}?blokkeren=${ownId}`)).html).not.toContain('Ja, blokkeren');
    expect((await op.page(`${USERS}?blokkeren=999999`)).html).not.toContain('Ja, blokkeren');

    // Another session of the same operator does not get the message meant for this one.
    const other = await operator();
    const yes = await op.post('/beheer/gebruikers/blokkeren', {
      _csrf: question.csrf!,
      email: 'bas@0599.example',
    });
    expect(yes.status).toBe(303);
    expect(yes.headers.get('Location')).toBe(USERS);
    const message = 'Account van bas@0599.example is geblokkeerd.';
    expect((await other.page(USERS)).html).not.toContain(message);
    // A HEAD (a link checker, a prefetch) does not use up the one showing.
    expect((await op.fetch(USERS, { method: 'HEAD' })).status).toBe(200);
    const shown = (await op.page(USERS)).html;
    expect(shown).toContain(message);
    expect(shown).toMatch(/bas@0599\.example<\/td>(?:(?!<\/tr>).)*Geblokkeerd sinds/);
    expect(shown).toContain('aria-label="Deblokkeren bas@0599.example"');
    // A reload is a GET of the page: no form sent again, and the message is gone.
    expect((await op.page(USERS)).html).not.toContain(message);
    expect((await bas.fetch('/ophalen')).headers.get('Location')).toBe('/inloggen');
    expect(await listAudit(h.store.db, { actionPrefix: 'user.disable' })).toMatchObject([
      { actor: 'beheer@example', organisation: '0599' },
    ]);
    // A blocked user gets no question; unblocking needs none and redirects as well.
    expect((await op.page(`${USERS}?blokkeren=${basId}`)).html).not.toContain('Ja, blokkeren');
    const unblocked = await op.post('/beheer/gebruikers/deblokkeren', {
      _csrf: question.csrf!,
      email: 'bas@0599.example',
    });
    expect(unblocked.status).toBe(303);
    expect(unblocked.headers.get('Location')).toBe(USERS);
    expect((await op.page(USERS)).html).toContain('Account van bas@0599.example is weer actief.');
    expect((await op.page(USERS)).html).not.toContain('is weer actief');
  });

  it("lets the operator leave personal data out of an organisation's deliveries, and fill it again", async () => {
    const op = await operator();
    const page = await op.page('/beheer');
    expect(page.html).toContain('aria-label="Leeg laten: persoonsgegevens van Rotterdam"');
    const leave = await op.post('/beheer/organisaties/0599/persoonsgegevens', {
      _csrf: page.csrf!,
      keuze: 'weglaten',
    });
    expect(leave.status).toBe(303);
    expect(leave.headers.get('Location')).toBe('/beheer?melding=persoonsgegevens&code=0599');
    expect((await findOrganisation(h.store, '0599'))?.leavesOutPersonalData).toBe(true);
    const after = (await op.page('/beheer?melding=persoonsgegevens&code=0599')).html;
    expect(after).toContain(
      'Vanaf de volgende levering zijn de persoonsgegevens in de leveringen van Rotterdam (0599) leeg (van een geboortedatum blijft het jaar, van een postcode de 4 cijfers).',
    );
    expect(after).toContain('aria-label="Weer leveren: persoonsgegevens van Rotterdam"');
    const auditlog = (await op.page('/beheer/audit')).html;
    expect(auditlog).toContain('Keuze persoonsgegevens gewijzigd');
    expect(auditlog).toContain('persoonsgegevens: leeg laten');
    // The organisation's users read it where they fetch their deliveries.
    const bas = new Browser(h.app);
    expect((await bas.login('bas@0599.example')).status).toBe(303);
    const told = 'Op verzoek van uw organisatie laten de leveringen persoonsgegevens leeg';
    expect((await bas.page('/ophalen')).html).toContain(told);
    // A delivery made now is listed as such.
    const before = h.clock.now;
    await h.deliver(new Date('2026-03-01T06:30:00Z'));
    h.clock.now = new Date('2026-03-02T08:00:00Z');
    expect((await bas.login('bas@0599.example')).status).toBe(303);
    expect((await bas.page('/ophalen')).html).toContain('zonder persoonsgegevens');
    h.clock.now = before;
    // Back to names and addresses in clear: asked first, as deactivating is.
    const ask = await op.post('/beheer/organisaties/0599/persoonsgegevens', {
      _csrf: page.csrf!,
      keuze: 'leveren',
    });
    expect(ask.headers.get('Location')).toBe('/beheer?persoonsgegevens=0599#persoonsgegevens-bevestigen');
    expect((await findOrganisation(h.store, '0599'))?.leavesOutPersonalData).toBe(true);
    const question = (await op.page('/beheer?persoonsgegevens=0599')).html;
    expect(question).toContain('Weet u zeker dat Rotterdam (0599) de persoonsgegevens weer krijgt?');
    expect(question).toContain('<input type="hidden" name="bevestigd" value="ja"/>');
    await op.post('/beheer/organisaties/0599/persoonsgegevens', {
      _csrf: page.csrf!,
      keuze: 'leveren',
      bevestigd: 'ja',
    });
    expect((await findOrganisation(h.store, '0599'))?.leavesOutPersonalData).toBe(false);
    expect((await bas.page('/ophalen')).html).not.toContain(told);
    // A choice the form does not offer changes nothing.
    await op.post('/beheer/organisaties/0599/persoonsgegevens', { _csrf: page.csrf!, keuze: 'ja' });
    expect((await findOrganisation(h.store, '0599'))?.leavesOutPersonalData).toBe(false);
    // Chosen at registration too.
    await op.post('/beheer/organisaties', {
      _csrf: page.csrf!,
      code: '0384',
      name: 'Diemen',
      persoonsgegevens: 'weglaten',
    });
    expect((await findOrganisation(h.store, '0384'))?.leavesOutPersonalData).toBe(true);
  });

  it('answers a refused block with the page at once (400), not a redirect', async () => {
    const op = await operator();
    const { csrf } = await op.page(USERS);
    const self = await op.post('/beheer/gebruikers/blokkeren', { _csrf: csrf!, email: 'beheer@example' });
    expect(self.status).toBe(400);
    expect(await self.text()).toContain('U kunt uw eigen account niet blokkeren.');
  });

  it('redirects after a quarantine action and shows its outcome once', async () => {
    const id = await quarantinedViaFeed('FLOW1');
    const op = await operator();
    const { csrf } = await op.page(QUARANTINE);

    const retried = await op.post('/beheer/quarantaine/opnieuw', { _csrf: csrf!, ids: String(id) });
    expect(retried.status).toBe(303);
    expect(retried.headers.get('Location')).toBe(QUARANTINE);
    const retryMessage =
      '1 opnieuw geprobeerd: 0 opgelost, 1 nog in quarantaine (ingest.unknown_type; de reden staat hieronder bij het bericht).';
    expect((await op.page(QUARANTINE)).html).toContain(retryMessage);
    expect((await op.page(QUARANTINE)).html).not.toContain(retryMessage);

    // A missing note is the form again, at once, with a 400: nothing to redirect to.
    const noNote = await op.post('/beheer/quarantaine/afhandelen', { _csrf: csrf!, ids: String(id) });
    expect(noNote.status).toBe(400);
    expect(await noNote.text()).toContain('Geef een toelichting');

    const dismissed = await op.post('/beheer/quarantaine/afhandelen', {
      _csrf: csrf!,
      ids: String(id),
      toelichting: 'Nieuw bericht ontvangen, bsn 111222333',
    });
    expect(dismissed.status).toBe(303);
    expect(dismissed.headers.get('Location')).toBe(QUARANTINE);
    const first = (await op.page(QUARANTINE)).html;
    expect(first).toContain('1 bericht afgehandeld zonder opslaan.');
    // The note as the audit log keeps it: the BSN masked.
    expect(first).toContain('De toelichting is opgeslagen als „Nieuw bericht ontvangen, bsn *********”');
    expect(first).not.toContain('111222333');
    // No longer among the open items; listed under Afgehandeld.
    const [open, handled] = first.split('<h2 class="utrecht-heading-2">Afgehandeld</h2>');
    expect(open).not.toContain('FLOW1');
    expect(handled).toContain('FLOW1');
    expect((await op.page(QUARANTINE)).html).not.toContain('afgehandeld zonder opslaan.');
    expect(await listAudit(h.store.db, { actionPrefix: 'quarantine.' })).toHaveLength(2);
  });

  it('shows the temporary passwords as visible text, and the own password hidden', async () => {
    const op = await operator();
    const { html } = await op.page(USERS);
    for (const id of ['u-ww', 'w-ww']) {
      const input = new RegExp(`<input [^>]*id="${id}"[^>]*>`).exec(html)?.[0];
      expect(input, id).toBeDefined();
      expect(input).toContain('type="text"');
      expect(input).toContain('autocomplete="off"');
      expect(input).toContain('spellcheck="false"');
      expect(input).toContain(`aria-describedby="${id}-uitleg"`);
      expect(html).toMatch(new RegExp(`id="${id}-uitleg">[^<]*Zichtbaar, zodat u het kunt doorgeven\\.`));
    }
    expect(html).toContain('Nieuw tijdelijk wachtwoord');
    expect(html).toContain('Tijdelijk wachtwoord');
    for (const id of ['u-eigen', 'w-eigen']) {
      const input = new RegExp(`<input [^>]*id="${id}"[^>]*>`).exec(html)?.[0];
      expect(input, id).toContain('type="password"');
      expect(input, id).toContain('autocomplete="current-password"');
    }
  });

  it('ties a wrong own password to the field of the form it was typed in, of the two on the page', async () => {
    const forms = [
      {
        action: `${USERS}/wachtwoord`,
        form: 'Wachtwoord opnieuw instellen',
        at: 'w-eigen',
        other: 'u-eigen',
      },
      { action: USERS, form: 'Gebruiker toevoegen', at: 'u-eigen', other: 'w-eigen' },
    ];
    for (const f of forms) {
      const op = await operator();
      const { csrf } = await op.page(USERS);
      const res = await op.post(f.action, {
        _csrf: csrf!,
        email: 'bas@0599.example',
        name: 'Bas',
        organisation: '0599',
        password: 'een tijdelijk wachtwoord',
        own_password: 'niet mijn wachtwoord',
      });
      expect(res.status, f.form).toBe(400);
      const html = await res.text();
      // A screen reader hears first that the page is about a refused form.
      expect(html).toContain('<title>Fout: Gebruikers — Ketendata iWmo en iJw</title>');
      const input = new RegExp(`<input [^>]*id="${f.at}"[^>]*>`).exec(html)?.[0] ?? '';
      expect(input, f.form).toContain('aria-invalid="true"');
      expect(/aria-describedby="([^"]*)"/.exec(input)?.[1]?.split(' ')).toEqual([
        `${f.at}-uitleg`,
        `${f.at}-fout`,
      ]);
      // The error is said in the field's block, before its input.
      const said = html.indexOf(`<p id="${f.at}-fout"`);
      expect(said, f.form).toBeGreaterThan(html.indexOf(`for="${f.at}"`));
      expect(said).toBeLessThan(html.indexOf(input));
      expect(html).toMatch(
        new RegExp(`<p id="${f.at}-fout" class="[^"]*--invalid">Fout: Uw eigen wachtwoord is onjuist\\.</p>`),
      );
      // The summary at the top names the form and leads to the field, 1300 px further down.
      expect(html).toContain(
        `<a class="utrecht-link" href="#${f.at}">${f.form}: uw eigen wachtwoord is onjuist.</a>`,
      );
      expect(new RegExp(`<input [^>]*id="${f.other}"[^>]*>`).exec(html)?.[0]).not.toContain('aria-invalid');
    }
  });

  /** The input (or textarea) with this id, and what a refusal at it must show. */
  const refusedAt = (html: string, id: string) => {
    const input = new RegExp(`<(?:input|textarea) [^>]*id="${id}"[^>]*>`).exec(html)?.[0] ?? '';
    expect(input, id).toContain('aria-invalid="true"');
    expect(/aria-describedby="([^"]*)"/.exec(input)?.[1]?.split(' '), id).toContain(`${id}-fout`);
    // Said before the input, after its label.
    const said = html.indexOf(`<p id="${id}-fout"`);
    expect(said, id).toBeGreaterThan(html.indexOf(`for="${id}"`));
    expect(said, id).toBeLessThan(html.indexOf(input));
    return input;
  };
  const invalidInputs = (html: string) =>
    [...html.matchAll(/<(?:input|textarea) [^>]*id="([^"]+)"[^>]*aria-invalid="true"/g)].map((m) => m[1]);

  it('ties a refused "Organisatie registreren" to its field and keeps what was typed', async () => {
    const op = await operator();
    const { csrf } = await op.page('/beheer');
    const cases = [
      { code: '0014', name: '', members: '', at: 'org-naam', says: 'Vul een naam in.' },
      { code: '0363', name: 'Amsterdam', members: '', at: 'org-code', says: 'Deze code is al geregistreerd' },
      // A head organisation's code without its municipalities: the list is what is missing.
      {
        code: 'REGIO02',
        name: 'Regio Twee',
        members: '',
        at: 'org-leden',
        says: 'Een hoofdorganisatie heeft gemeenten: vul hun CBS-codes in',
      },
      // A municipality's code with members: the code is what is wrong.
      { code: '0014', name: 'Groningen', members: '0363', at: 'org-code', says: 'Een gemeente wordt' },
      {
        code: 'REGIO02',
        name: 'Regio Twee',
        members: '0363, 9999',
        at: 'org-leden',
        says: 'De gemeenten moeten CBS-codes',
        names: 'Niet herkend: 9999.',
      },
    ];
    for (const t of cases) {
      const res = await op.post('/beheer/organisaties', {
        _csrf: csrf!,
        code: t.code,
        name: t.name,
        members: t.members,
        persoonsgegevens: 'weglaten',
      });
      expect(res.status, t.at).toBe(400);
      const html = await res.text();
      expect(html).toContain('<title>Fout: Organisaties — Ketendata iWmo en iJw</title>');
      refusedAt(html, t.at);
      expect(invalidInputs(html), t.code).toEqual([t.at]);
      expect(html).toContain(
        `<p id="${t.at}-fout" class="utrecht-form-field-description utrecht-form-field-description--invalid">Fout: ${t.says}`,
      );
      // The summary names the form, leads to the field and keeps the code for support.
      expect(html).toMatch(
        new RegExp(
          `<a class="utrecht-link" href="#${t.at}">Organisatie registreren: ${t.says.charAt(0).toLowerCase()}${t.says.slice(1)}[^<]*</a> \\(foutcode organisation\\.[a-z_]+\\)`,
        ),
      );
      // What was typed is there again, the choice about personal data too.
      expect(/<input [^>]*id="org-code"[^>]*>/.exec(html)?.[0]).toContain(`value="${t.code}"`);
      expect(/<input [^>]*id="org-naam"[^>]*>/.exec(html)?.[0]).toContain(`value="${t.name}"`);
      expect(/<input [^>]*id="org-leden"[^>]*>/.exec(html)?.[0]).toContain(`value="${t.members}"`);
      expect(/<input [^>]*id="org-persoonsgegevens"[^>]*>/.exec(html)?.[0]).toContain('checked');
      if ('names' in t) expect(html).toContain(`${t.names}</p>`);
    }
    expect(await findOrganisation(h.store, 'REGIO02')).toBeUndefined();
    // A page without a refusal says none.
    const clean = (await op.page('/beheer')).html;
    expect(clean).toContain('<title>Organisaties — Ketendata iWmo en iJw</title>');
    expect(invalidInputs(clean)).toEqual([]);
  });

  it("ties refused members to that head organisation's field and keeps the list typed", async () => {
    const op = await operator();
    const { csrf } = await op.page('/beheer');
    const res = await op.post('/beheer/organisaties/REGIO01/gemeenten', {
      _csrf: csrf!,
      members: '0363, 9999',
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<title>Fout: Organisaties — Ketendata iWmo en iJw</title>');
    expect(refusedAt(html, 'leden-REGIO01')).toContain('value="0363, 9999"');
    expect(invalidInputs(html)).toEqual(['leden-REGIO01']);
    expect(html).toContain(
      '<p id="leden-REGIO01-fout" class="utrecht-form-field-description utrecht-form-field-description--invalid">Fout: De gemeenten moeten',
    );
    expect(html).toMatch(
      /<a class="utrecht-link" href="#leden-REGIO01">Gemeenten van Regio Een: de gemeenten moeten [^<]*<\/a> \(foutcode organisation\.invalid_members\)/,
    );
    expect((await findOrganisation(h.store, 'REGIO01'))?.members).not.toContain('9999');
  });

  it('ties a missing note and a file too large to their quarantine fields, and keeps the selection and number', async () => {
    const id = await quarantinedViaFeed('FOUT1');
    const op = await operator();
    const { csrf } = await op.page(QUARANTINE);

    const noNote = await op.post('/beheer/quarantaine/afhandelen', { _csrf: csrf!, ids: String(id) });
    expect(noNote.status).toBe(400);
    const html = await noNote.text();
    expect(html).toContain('<title>Fout: Quarantaine — Ketendata iWmo en iJw</title>');
    refusedAt(html, 'afhandel-toelichting');
    expect(invalidInputs(html)).toEqual(['afhandel-toelichting']);
    expect(html).toContain(
      '<a class="utrecht-link" href="#afhandel-toelichting">Afhandelen zonder opslaan: geef een toelichting: waarom worden deze berichten afgehandeld?</a>',
    );
    expect(new RegExp(`<input [^>]*value="${id}"[^>]*>`).exec(html)?.[0]).toContain('checked');

    const form = new FormData();
    form.set('_csrf', csrf!);
    form.set('id', String(id));
    // Past one message, within what the server reads of a form.
    form.set('bestand', new Blob([new Uint8Array(MAX_CORRECTED_BYTES + 1)]), 'groot.xml');
    const large = await op.fetch('/beheer/quarantaine/vervangen', { method: 'POST', body: form });
    expect(large.status).toBe(400);
    const page = await large.text();
    expect(page).toContain('<title>Fout: Quarantaine — Ketendata iWmo en iJw</title>');
    refusedAt(page, 'vervang-bestand');
    expect(invalidInputs(page)).toEqual(['vervang-bestand']);
    expect(page).toContain(
      '<a class="utrecht-link" href="#vervang-bestand">Vervangen door een gecorrigeerd bericht: het bestand is te groot voor één bericht.</a>',
    );
    expect(/<input [^>]*id="vervang-id"[^>]*>/.exec(page)?.[0]).toContain(`value="${id}"`);
  });
});
