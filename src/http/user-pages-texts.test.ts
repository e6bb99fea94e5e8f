import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';

/** The texts of the municipality users' pages that say what there is (or is not) to do. */
describe('the user pages say plainly what there is', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
  });
  afterAll(async () => h.drop());

  const downloadAll = /<button[^>]*>\s*Alle nieuwe leveringen downloaden \((\d+)\)/;

  it('offers "download all new" only when there is something new, and says when everything was downloaded', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const empty = (await b.page('/ophalen')).html;
    expect(empty).toContain('Er zijn nog geen leveringen.');
    expect(empty).not.toContain('/ophalen/alle-nieuwe');
    expect(empty).not.toContain('Er zijn geen nieuwe leveringen');

    const run = await h.deliver(new Date('2026-03-01T06:30:00Z'));
    const id = run.made.find((d) => d.organisation === '0363')!.id;
    h.clock.now = new Date('2026-03-02T08:00:00Z');
    await b.login('ana@0363.example'); // a week later: the session has long expired
    const fresh = (await b.page('/ophalen')).html;
    expect(downloadAll.exec(fresh)?.[1]).toBe('1');
    expect(fresh).not.toContain('Er zijn geen nieuwe leveringen');
    // How many messages it holds, so an empty week shows as such before it is downloaded.
    const made = run.made.find((d) => d.organisation === '0363')!;
    const counts = [...fresh.matchAll(/<td class="utrecht-table__cell kd-num kd-count">([^<]*)<\/td>/g)];
    expect(counts.map((m) => m[1])).toEqual([made.messages.toLocaleString('nl-NL')]);

    const got = await b.fetch(`/ophalen/${id}/bestand`);
    expect(got.status).toBe(200);
    await got.arrayBuffer(); // downloaded once the file has been read
    const done = (await b.page('/ophalen')).html;
    expect(done).not.toMatch(downloadAll);
    expect(done).not.toContain('/ophalen/alle-nieuwe');
    expect(done).toContain('Er zijn geen nieuwe leveringen: alles is al gedownload.');
  });

  it('shows every size of a kB or more with one decimal', async () => {
    await h.deliver(new Date('2026-03-08T06:30:00Z'));
    h.clock.now = new Date('2026-03-09T08:00:00Z');
    const b = new Browser(h.app);
    await b.login('cor@regio.example');
    const { html } = await b.page('/ophalen');
    const sizes = [...html.matchAll(/<td class="utrecht-table__cell kd-num">([^<]*)<\/td>/g)].map(
      (m) => m[1],
    );
    // The ZIPs are of some 100 kB: at least one size in kB, of which the decimal must show.
    expect(sizes.some((size) => size?.endsWith(' kB'))).toBe(true);
    for (const size of sizes) expect(size).toMatch(/^(\d+ B|\d{1,3}(\.\d{3})*,\d (kB|MB|GB))$/);
  });

  it('says so when a button on Totaalbestand changed nothing (pressed twice, or in a second tab)', async () => {
    const b = new Browser(h.app);
    await b.login('bas@0599.example');
    const { csrf } = await b.page('/historie');
    const res = await b.post('/historie', { _csrf: csrf! });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/historie?melding=ongewijzigd');
    expect((await b.page(res.headers.get('Location')!)).html).toContain('Er is niets gewijzigd.');
    // A real change keeps its own message.
    const asked = await b.post('/historie', { _csrf: csrf!, totaalbestand: 'ja' });
    expect(asked.headers.get('Location')).toBe('/historie?melding=aangevraagd');
    const again = await b.post('/historie', { _csrf: csrf!, totaalbestand: 'ja' });
    expect(again.headers.get('Location')).toBe('/historie?melding=ongewijzigd');
  });

  it('shows no "Stand per" on the dashboard while there are no messages', async () => {
    const b = new Browser(h.app);
    await b.login('bas@0599.example');
    const { html } = await b.page('/dashboard');
    expect(html).toContain('Er zijn nog geen berichten ontvangen.');
    expect(html).toContain('Nog geen stand: de eerste komt met de eerstvolgende wekelijkse levering.');
    expect(html).not.toContain('Stand per');
  });

  it('names an operator once in the header', async () => {
    const b = new Browser(h.app);
    await b.login('beheer@example');
    const { html } = await b.page('/instellingen');
    expect(html).toContain('Beheerder (beheer)');
    expect(html).not.toContain('Beheerder — beheerder');
  });
});
