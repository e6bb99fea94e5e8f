import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { addPortalUser, addPortalUserWithSecondFactor } from '../../test/support/session-cookie.js';
import { localPath } from './portal/layout.js';

/** Logging in and out as the UX audit left it: said, and back where one was going. */
describe('logging in and out, and a form refused', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  let codeAt: (at: Date) => string;
  const TOM = 'tom@0363.example';
  const DEEP = '/dashboard?gemeente=0599';
  const EVIL = [
    '//evil.example',
    'https://evil.example',
    '/\\evil',
    '/\\/evil',
    'javascript:alert(1)',
    'evil',
  ];

  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    codeAt = await addPortalUserWithSecondFactor(h, TOM);
  });
  afterAll(async () => h.drop());

  const loginWith = async (b: Browser, email: string, next: string) => {
    const { csrf } = await b.page(`/inloggen?next=${encodeURIComponent(next)}`);
    return b.post('/inloggen', { _csrf: csrf!, email, password: PASSWORD, next });
  };

  it('ties a wrong password to its field and titles the login page as an error', async () => {
    const b = new Browser(h.app);
    const { csrf } = await b.page('/inloggen');
    const res = await b.post('/inloggen', { _csrf: csrf!, email: 'ana@0363.example', password: 'fout' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<title>Fout: Inloggen — Ketendata iWmo en iJw</title>');
    const input = /<input [^>]*id="wachtwoord"[^>]*>/.exec(html)?.[0] ?? '';
    expect(input).toContain('aria-invalid="true"');
    expect(input).toContain('aria-describedby="wachtwoord-fout"');
    expect(html).toContain(
      '<p id="wachtwoord-fout" class="utrecht-form-field-description utrecht-form-field-description--invalid">Fout: E-mailadres of wachtwoord is onjuist.</p>',
    );
    expect(html).toContain(
      '<a class="utrecht-link" href="#wachtwoord">Inloggen: e-mailadres of wachtwoord is onjuist.</a>',
    );
    expect((await b.page('/inloggen')).html).toContain('<title>Inloggen — Ketendata iWmo en iJw</title>');
  });

  it('says "U bent uitgelogd" after logging out', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const { csrf } = await b.page('/ophalen');
    const out = await b.post('/uitloggen', { _csrf: csrf! });
    expect(out.headers.get('Location')).toBe('/inloggen?melding=uitgelogd');
    expect((await b.page(out.headers.get('Location')!)).html).toMatch(
      /<div class="utrecht-alert utrecht-alert--info" role="status"><p class="utrecht-paragraph">U bent uitgelogd.<\/p>/,
    );
    expect((await b.page('/inloggen')).html).not.toContain('U bent uitgelogd.');
  });

  it('goes to the page asked for before logging in, through the password step', async () => {
    const b = new Browser(h.app);
    const { html } = await b.page(`/inloggen?next=${encodeURIComponent(DEEP)}`);
    expect(html).toContain('<input type="hidden" name="next" value="/dashboard?gemeente=0599"/>');
    const res = await loginWith(b, 'ana@0363.example', DEEP);
    expect(res.headers.get('Location')).toBe(DEEP);
    // Logged in already: straight there.
    expect((await b.fetch(`/inloggen?next=${encodeURIComponent(DEEP)}`)).headers.get('Location')).toBe(DEEP);
  });

  it('refuses a next that leaves the portal: no field, and home after login', async () => {
    for (const next of EVIL) {
      expect(localPath(next), next).toBeUndefined();
      const b = new Browser(h.app);
      const { html, csrf } = await b.page(`/inloggen?next=${encodeURIComponent(next)}`);
      expect(html, next).not.toContain('name="next"');
      const res = await b.post('/inloggen', {
        _csrf: csrf!,
        email: 'ana@0363.example',
        password: PASSWORD,
        next,
      });
      expect(res.headers.get('Location'), next).toBe('/');
    }
    expect(localPath('/ophalen')).toBe('/ophalen');
    expect(localPath(DEEP)).toBe(DEEP);
  });

  it('carries next through the second factor, and tells a used code from a wrong one', async () => {
    const b = new Browser(h.app);
    const res = await loginWith(b, TOM, DEEP);
    expect(res.headers.get('Location')).toBe(`/inloggen/code?next=${encodeURIComponent(DEEP)}`);
    const form = await b.page(res.headers.get('Location')!);
    expect(form.html).toContain('<input type="hidden" name="next" value="/dashboard?gemeente=0599"/>');
    expect(form.html).toContain(
      `<a class="utrecht-link" href="/inloggen?next=${encodeURIComponent(DEEP)}">Terug naar inloggen</a>`,
    );
    expect(form.html).toContain('Telefoon met de tweede factor kwijt? Neem contact op met de beheerder');
    expect(form.html).toMatch(/>Code bevestigen<\/button>/);
    // The code that switched the second factor on, a moment ago: used, not wrong.
    const used = await b.post('/inloggen/code', { _csrf: form.csrf!, code: codeAt(h.clock.now), next: DEEP });
    expect(used.status).toBe(400);
    const usedText = await used.text();
    expect(usedText).toContain('Deze code is al gebruikt; wacht op de volgende code.');
    expect(usedText).not.toContain('De code is onjuist');
    const valid = [-30_000, 0, 30_000].map((d) => codeAt(new Date(h.clock.now.getTime() + d)));
    const wrong = ['000000', '111111', '222222'].find((c) => !valid.includes(c))!;
    const bad = await b.post('/inloggen/code', { _csrf: form.csrf!, code: wrong, next: DEEP });
    expect(await bad.text()).toContain('De code is onjuist. Probeer het opnieuw.');
    h.clock.now = new Date(h.clock.now.getTime() + 30_000);
    const ok = await b.post('/inloggen/code', { _csrf: form.csrf!, code: codeAt(h.clock.now), next: DEEP });
    expect(ok.headers.get('Location')).toBe(DEEP);
  });

  it('sends home, not elsewhere, when the code step is given a foreign next', async () => {
    h.clock.now = new Date(h.clock.now.getTime() + 30_000);
    const b = new Browser(h.app);
    await loginWith(b, TOM, '//evil.example');
    const form = await b.page('/inloggen/code?next=%2F%2Fevil.example');
    expect(form.html).not.toContain('name="next"');
    const ok = await b.post('/inloggen/code', {
      _csrf: form.csrf!,
      code: codeAt(h.clock.now),
      next: 'https://evil.example',
    });
    expect(ok.headers.get('Location')).toBe('/');
  });

  it('goes to a deep link opened while logged out after the login, with the second factor too; not for a form post', async () => {
    const LINK = '/dashboard?gemeente=0310';
    const viaLogin = `/inloggen?next=${encodeURIComponent(LINK)}`;
    const logIn = async (email: string) => {
      const b = new Browser(h.app);
      const asked = await b.fetch(LINK);
      expect(asked.status).toBe(303);
      expect(asked.headers.get('Location')).toBe(viaLogin);
      const { csrf, html } = await b.page(asked.headers.get('Location')!);
      const next = /name="next" value="([^"]+)"/.exec(html)?.[1];
      expect(next).toBe(LINK);
      return { b, res: await b.post('/inloggen', { _csrf: csrf!, email, password: PASSWORD, next: next! }) };
    };
    expect((await logIn('ana@0363.example')).res.headers.get('Location')).toBe(LINK);

    h.clock.now = new Date(h.clock.now.getTime() + 30_000);
    const { b, res } = await logIn(TOM);
    expect(res.headers.get('Location')).toBe(`/inloggen/code?next=${encodeURIComponent(LINK)}`);
    // Half logged in, a deep link waits for the code as well.
    expect((await b.fetch(LINK)).headers.get('Location')).toBe(res.headers.get('Location'));
    const form = await b.page(res.headers.get('Location')!);
    const next = /name="next" value="([^"]+)"/.exec(form.html)?.[1];
    const ok = await b.post('/inloggen/code', { _csrf: form.csrf!, code: codeAt(h.clock.now), next: next! });
    expect(ok.headers.get('Location')).toBe(LINK);
    expect((await b.fetch(LINK)).status).toBe(200);

    // Home needs no next; a form is not sent again after the login.
    const anonymous = new Browser(h.app);
    for (const path of ['/', '/ophalen'])
      expect((await anonymous.fetch(path)).headers.get('Location'), path).toBe('/inloggen');
    // With the login form's CSRF cookie a form post passes the CSRF check and meets the login check.
    const { csrf } = await anonymous.page('/inloggen');
    const posted = await anonymous.post('/historie?x=1', { _csrf: csrf!, totaalbestand: 'ja' });
    expect(posted.headers.get('Location')).toBe('/inloggen');
  });

  it('links on from the forced change of a temporary password: to the deep link asked for, or Ophalen', async () => {
    const LINK = '/dashboard?gemeente=0310';
    const changeTemporary = async (email: string, asked?: string) => {
      await addPortalUser(h, email, { temporaryPassword: true });
      const b = new Browser(h.app);
      const first = asked ? await loginWith(b, email, asked) : await b.login(email);
      expect(first.headers.get('Location')).toBe(asked ?? '/');
      const toSettings = await b.fetch(first.headers.get('Location')!);
      const settings = await b.page(toSettings.headers.get('Location')!);
      const action = /<form method="post" action="([^"]+)"/.exec(
        settings.html.slice(settings.html.indexOf('Wachtwoord wijzigen')),
      )?.[1];
      const done = await b.post(action!.replaceAll('&amp;', '&'), {
        _csrf: settings.csrf!,
        current: PASSWORD,
        next: 'een eigen lang wachtwoord',
      });
      return { b, toSettings, done };
    };

    const deep = await changeTemporary('tara@0363.example', LINK);
    expect(deep.toSettings.headers.get('Location')).toBe(`/instellingen?next=${encodeURIComponent(LINK)}`);
    expect(deep.done.headers.get('Location')).toBe(
      `/instellingen?melding=eigen-wachtwoord&next=${encodeURIComponent(LINK)}`,
    );
    expect((await deep.b.page(deep.done.headers.get('Location')!)).html).toContain(
      'Uw wachtwoord is gewijzigd. <a class="utrecht-link" href="/dashboard?gemeente=0310">Verder naar de opgevraagde pagina</a>',
    );

    const home = await changeTemporary('teun@0363.example');
    expect(home.toSettings.headers.get('Location')).toBe('/instellingen');
    expect(home.done.headers.get('Location')).toBe('/instellingen?melding=eigen-wachtwoord');
    expect((await home.b.page(home.done.headers.get('Location')!)).html).toContain(
      'Uw wachtwoord is gewijzigd. <a class="utrecht-link" href="/ophalen">Verder naar Ophalen</a>',
    );
    // A change of one's own password is no forced one: no link on.
    expect((await home.b.page('/instellingen?melding=wachtwoord')).html).toContain(
      '<p class="utrecht-paragraph">Uw wachtwoord is gewijzigd.</p>',
    );
  });

  it('shows a refused form in the portal layout, with a way back to the page of the form', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const post = (referer?: string) =>
      b.fetch('/historie', {
        method: 'POST',
        body: new URLSearchParams({ _csrf: 'wrong', totaalbestand: 'ja' }),
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          ...(referer ? { Referer: referer } : {}),
        },
      });
    const res = await post('https://localhost/historie');
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    expect(html).toContain('<title>Formulier verlopen — Ketendata iWmo en iJw</title>');
    expect(html).toContain('aria-label="Hoofdmenu"');
    expect(html).toContain('<a class="utrecht-link" href="/historie">Terug naar het formulier</a>');
    expect(await (await post('https://localhost/dashboard?gemeente=0599')).text()).toContain(
      'href="/dashboard?gemeente=0599">Terug naar het formulier',
    );
    for (const referer of [
      undefined,
      'https://evil.example/historie',
      'https://localhost//evil.example',
      'https://localhost/api/v1/x',
    ])
      expect(await (await post(referer)).text(), referer).toContain(
        'href="/ophalen">Terug naar het formulier',
      );
  });
});
