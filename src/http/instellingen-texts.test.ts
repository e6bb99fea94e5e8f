import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { findUserByEmail } from '../store/users.js';

const MONDAY = new Date('2026-03-02T08:00:00Z');

describe('Instellingen: the second factor, tokens and a temporary password, as a user meets them', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    h.clock.now = MONDAY;
  });
  afterAll(async () => h.drop());

  it('says the second factor is off, links the key for a phone, and lets a started setup be cancelled', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    let { html, csrf } = await b.page('/instellingen');
    expect(html).toContain('De tweede factor staat uit.');
    await b.post('/instellingen/tweede-factor/start', { _csrf: csrf!, password: PASSWORD });
    ({ html, csrf } = await b.page('/instellingen'));
    expect(html).toMatch(
      /<a class="utrecht-link" href="otpauth:\/\/totp\/[^"]+">open de sleutel in uw authenticator-app<\/a>/,
    );
    expect(html).toContain('Instellen annuleren');
    const cancelled = await b.post('/instellingen/tweede-factor/annuleren', { _csrf: csrf! });
    expect(cancelled.status).toBe(303);
    const { html: after } = await b.page(cancelled.headers.get('Location')!);
    expect(after).toContain('Het instellen van de tweede factor is gestopt; de tweede factor staat uit.');
    expect(after).toContain('Tweede factor instellen');
    expect(after).not.toContain('otpauth://');
    expect((await findUserByEmail(h.store.db, 'ana@0363.example'))?.totp_secret).toBeNull();
    // Without the form's CSRF token nothing happens.
    expect((await b.post('/instellingen/tweede-factor/annuleren', {})).status).toBe(403);
  });

  it('says which form a wrong password was for, and keeps the token name typed', async () => {
    const b = new Browser(h.app);
    await b.login('bas@0599.example');
    const { csrf } = await b.page('/instellingen');
    const res = await b.post('/instellingen/tokens', {
      _csrf: csrf!,
      name: 'Power BI',
      password: 'niet het wachtwoord',
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain(
      '<a class="utrecht-link" href="#token-wachtwoord">Token ‘Power BI’ aanmaken: uw huidige wachtwoord is onjuist.</a>',
    );
    expect(html).toMatch(/<input [^>]*id="token-wachtwoord"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/id="token-naam"[^>]*value="Power BI"|value="Power BI"[^>]*id="token-naam"/);
  });

  it('suggests a hub link as an operator token name, and names a temporary password as such', async () => {
    const op = new Browser(h.app);
    await op.login('beheer@example');
    expect((await op.page('/instellingen')).html).toContain('Bijvoorbeeld: Hub-koppeling.');
    await h.store.db
      .updateTable('app_user')
      .set({ password_temporary: 1 })
      .where('email', '=', 'cor@regio.example')
      .execute();
    const cor = new Browser(h.app);
    expect((await cor.login('cor@regio.example')).status).toBe(303);
    const { html } = await cor.page('/instellingen');
    expect(html).toContain('Tijdelijk wachtwoord (van de beheerder)');
  });

  it('shows the manual key in groups of four and says what the set-up code looks like', async () => {
    const b = new Browser(h.app);
    await b.login('bas@0599.example');
    const first = await b.page('/instellingen');
    await b.post('/instellingen/tweede-factor/start', { _csrf: first.csrf!, password: PASSWORD });
    const { html, csrf } = await b.page('/instellingen');
    const shown = /Sleutel: <code class="kd-code kd-key">([^<]*)<\/code>/.exec(html)?.[1];
    expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
    const secret = shown!.replaceAll(' ', '');
    // Display only: the link for the phone carries the key whole.
    expect(html).toContain(`secret=${secret}&`);
    // The same hint as the login's code page, tied to the field.
    expect(html).toMatch(
      /<div class="utrecht-form-field-description" id="totp-code-uitleg">Zes cijfers; de code verandert elke 30 seconden.<\/div>/,
    );
    expect(html).toMatch(/id="totp-code"[^>]*aria-describedby="totp-code-uitleg"/);
    // The key as typed from the page turns the factor on.
    const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({
      timestamp: h.clock.now.getTime(),
    });
    const on = await b.post('/instellingen/tweede-factor/bevestigen', {
      _csrf: csrf!,
      code,
      password: PASSWORD,
    });
    expect(on.headers.get('Location')).toBe('/instellingen?melding=tweede-factor-aan');
  });

  it('ties a wrong current password to the field of Wachtwoord wijzigen, and titles the page as an error', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const { csrf } = await b.page('/instellingen');
    const res = await b.post('/instellingen/wachtwoord', {
      _csrf: csrf!,
      current: 'niet het wachtwoord',
      next: 'een heel nieuw wachtwoord',
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<title>Fout: Instellingen — Ketendata iWmo en iJw</title>');
    const input = /<input [^>]*id="huidig"[^>]*>/.exec(html)?.[0] ?? '';
    expect(input).toContain('aria-invalid="true"');
    expect(/aria-describedby="([^"]*)"/.exec(input)?.[1]?.split(' ')).toContain('huidig-fout');
    expect(html).toMatch(
      /<p id="huidig-fout" class="[^"]*--invalid">Fout: Het huidige wachtwoord is onjuist\.<\/p>/,
    );
    expect(html.indexOf('id="huidig-fout"')).toBeLessThan(html.indexOf(input));
    // Of the page's four password fields, the summary names the form and leads to the one meant.
    expect(html).toContain(
      '<a class="utrecht-link" href="#huidig">Wachtwoord wijzigen: het huidige wachtwoord is onjuist.</a>',
    );
    expect(html.match(/aria-invalid="true"/g)).toHaveLength(1);
    // A page without a refused form keeps its own title.
    expect((await b.page('/instellingen')).html).toContain(
      '<title>Instellingen — Ketendata iWmo en iJw</title>',
    );
  });

  it('shows the operator "—" as organisation, not "beheer (geen organisatie)"', async () => {
    const op = new Browser(h.app);
    await op.login('beheer@example');
    const { html } = await op.page('/instellingen');
    expect(html).toMatch(/Organisatie<\/dt><dd[^>]*>— \(beheerder\)<\/dd>/);
    expect(html).not.toContain('geen organisatie');
  });
});
