import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { createUser } from '../usecases/accounts.js';
import { activateOrganisation, addOrganisation } from '../usecases/organisations.js';

/** The page's text as a reader sees it: no tags, whitespace collapsed. */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const intro = (html: string) => /Indicatoren over alle ontvangen berichten van [^.;]*/.exec(text(html))?.[0];
const captions = (html: string) =>
  [...html.matchAll(/<caption[^>]*>([\s\S]*?)<\/caption>/g)].map((m) => text(m[1]!).trim());

describe('the dashboard names whose figures it shows', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    const now = h.clock.now;
    await addOrganisation(h.store, {
      code: 'REGIO02',
      name: 'Regio Twee',
      members: ['0363'],
      actor: 't',
      now,
    });
    await activateOrganisation(h.store, { code: 'REGIO02', actor: 't', now });
    await createUser(
      h.store.db,
      {
        email: 'dia@regio2.example',
        displayName: 'Dia',
        organisationCode: 'REGIO02',
        password: PASSWORD,
        role: 'user',
      },
      now,
    );
  });
  afterAll(async () => h.drop());

  const dashboard = async (email: string, query = '') => {
    const b = new Browser(h.app);
    await b.login(email);
    return (await b.page(`/dashboard${query}`)).html;
  };

  it('names the one member of a head organisation, not the head organisation’s code', async () => {
    const html = await dashboard('dia@regio2.example');
    expect(intro(html)).toBe('Indicatoren over alle ontvangen berichten van gemeente Amsterdam (0363)');
    const all = captions(html);
    expect(all.length).toBeGreaterThan(0);
    for (const c of all) expect(c).toMatch(/, gemeente Amsterdam \(0363\)$/);
    expect(html).not.toContain('gemeente REGIO02');
    // One member: nothing to choose.
    expect(html).not.toContain('name="gemeente"');
  });

  it('keeps the texts of a municipality and of a head organisation with two members', async () => {
    const own = await dashboard('ana@0363.example');
    expect(intro(own)).toBe('Indicatoren over alle ontvangen berichten van gemeente Amsterdam (0363)');
    for (const c of captions(own)) expect(c).toMatch(/, gemeente Amsterdam \(0363\)$/);
    expect(own).not.toContain('name="gemeente"');

    const head = await dashboard('cor@regio.example');
    expect(intro(head)).toBe(
      'Indicatoren over alle ontvangen berichten van de gemeenten Amsterdam (0363), Rotterdam (0599)',
    );
    for (const c of captions(head)) expect(c).toMatch(/, alle gemeenten samen$/);
    expect(head).toContain('name="gemeente"');
    const rotterdam = await dashboard('cor@regio.example', '?gemeente=0599');
    for (const c of captions(rotterdam)) expect(c).toMatch(/, gemeente Rotterdam \(0599\)$/);
  });

  it('defines a removed toewijzing as the indicators count it (RedenWijziging 13, or 01 withdrawing it)', async () => {
    const page = text(await dashboard('ana@0363.example'));
    const removed =
      'verwijderde toewijzing (RedenWijziging 13, of 01 met een Einddatum gelijk aan de Ingangsdatum)';
    // Lead time and start of care.
    expect(page.split(removed).length - 1).toBe(2);
    expect(page).not.toContain('(RedenWijziging 13)');
  });
});
