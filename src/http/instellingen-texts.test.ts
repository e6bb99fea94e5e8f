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
    expect(html).toContain('Token ‘Power BI’ is niet aangemaakt. Uw huidige wachtwoord is onjuist.');
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
});
