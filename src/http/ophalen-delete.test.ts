import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';

describe('Ophalen: deleting a selection of files, some never downloaded', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  let weeks: number[];
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    // Two Sundays: 0363 has two weekly files.
    await h.deliver(new Date('2026-03-01T06:30:00Z'));
    const second = await h.deliver(new Date('2026-03-08T06:30:00Z'));
    weeks = [second.made.find((d) => d.organisation === '0363')!.id];
    h.clock.now = new Date('2026-03-09T08:00:00Z');
  });
  afterAll(async () => h.drop());

  it('deletes the downloaded ones, keeps and names the others, and says when none could go', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const { html, csrf } = await b.page('/ophalen');
    const all = [...html.matchAll(/name="ids" value="(\d+)"/g)].map((m) => Number(m[1]));
    expect(all).toHaveLength(2);
    // Every file can be selected; the page says how to see what was downloaded.
    expect(html).not.toMatch(/name="ids"[^>]*disabled/);
    expect(html).toContain('Vernieuw de pagina na het downloaden');
    const [latest] = weeks as [number];
    const older = all.find((id) => id !== latest)!;

    const none = await b.post('/ophalen/verwijderen', { _csrf: csrf!, ids: String(older) });
    expect(none.headers.get('Location')).toBe('/ophalen?melding=niet-gedownload');
    expect((await b.page('/ophalen?melding=niet-gedownload')).html).toContain(
      'De geselecteerde leveringen zijn nog niet gedownload en zijn niet verwijderd.',
    );

    const got = await b.fetch(`/ophalen/${latest}/bestand`);
    expect(got.status).toBe(200);
    await got.arrayBuffer(); // downloaded once the file has been read
    const some = await b.post('/ophalen/verwijderen', { _csrf: csrf!, ids: [String(latest), String(older)] });
    expect(some.headers.get('Location')).toBe('/ophalen?melding=deels&verwijderd=1&bewaard=1');
    const after = (await b.page(some.headers.get('Location')!)).html;
    expect(after).toContain(
      '1 levering verwijderd. 1 levering nog niet gedownload en daarom niet verwijderd.',
    );
    expect((await b.fetch(`/ophalen/${latest}/bestand`)).status).toBe(404);
    expect((await b.fetch(`/ophalen/${older}/bestand`)).status).toBe(200);
  });
});

describe('Ophalen: deleting asks first, naming the files', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  let anas: string[] = [];
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    await h.deliver(new Date('2026-03-01T06:30:00Z'));
    await h.deliver(new Date('2026-03-08T06:30:00Z'));
    await h.deliver(new Date('2026-03-15T06:30:00Z'));
    h.clock.now = new Date('2026-03-16T08:00:00Z');
  });
  afterAll(async () => h.drop());

  it('shows the selected files and deletes only after "Ja", then says how many and which', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const { html, csrf } = await b.page('/ophalen');
    // The selection only leads to the question: a GET form, its button an infinitive with a noun.
    expect(html).toMatch(/<form method="get" action="\/ophalen#verwijderen-bevestigen">/);
    expect(html).toMatch(/>Geselecteerde leveringen verwijderen<\/button>/);
    expect(html).not.toContain('Verwijder geselecteerd');
    const rows = [...html.matchAll(/name="ids" value="(\d+)"/g)].map((m) => m[1]!);
    const names = [...html.matchAll(/download="([^"]+)"/g)].map((m) => m[1]!);
    expect(rows).toHaveLength(3);
    anas = rows;
    const [a, b2, notDownloaded] = rows as [string, string, string];
    for (const id of [a, b2]) await (await b.fetch(`/ophalen/${id}/bestand`)).arrayBuffer();

    const ask = await b.page(`/ophalen?stap=verwijderen&ids=${a}&ids=${b2}&ids=${notDownloaded}`);
    expect(ask.res.status).toBe(200);
    const question = /<section id="verwijderen-bevestigen"[\s\S]*?<\/section>/.exec(ask.html)?.[0] ?? '';
    expect(question).toContain('Weet u zeker dat u deze 2 leveringen wilt verwijderen?');
    expect(question).toContain(`<li class="utrecht-unordered-list__item">${names[0]}</li>`);
    expect(question).toContain(`<li class="utrecht-unordered-list__item">${names[1]}</li>`);
    expect(question).toContain(`Nog niet gedownload en daarom niet verwijderd: ${names[2]}.`);
    expect(question).toContain('action="/ophalen/verwijderen"');
    expect(question).toContain(`name="ids" value="${a}"`);
    expect(question).toContain(`name="ids" value="${b2}"`);
    expect(question).not.toContain(`name="ids" value="${notDownloaded}"`);
    expect(question).toContain('>Ja, 2 leveringen verwijderen</button>');
    expect(question).toContain('href="/ophalen">Annuleren</a>');
    // Asking deleted nothing.
    expect((await b.fetch(`/ophalen/${a}/bestand`, { method: 'HEAD' })).status).toBe(200);

    const done = await b.post('/ophalen/verwijderen', { _csrf: csrf!, ids: [a, b2] });
    expect(done.status).toBe(303);
    expect(done.headers.get('Location')).toBe(`/ophalen?melding=verwijderd&id=${a}&id=${b2}`);
    const after = (await b.page(done.headers.get('Location')!)).html;
    expect(after).toContain(`2 leveringen verwijderd: ${names[0]}, ${names[1]}.`);
    expect((await b.fetch(`/ophalen/${a}/bestand`)).status).toBe(404);
    expect((await b.fetch(`/ophalen/${notDownloaded}/bestand`, { method: 'HEAD' })).status).toBe(200);
  });

  it('says what to do when nothing, or nothing downloaded, was selected, and asks nothing then', async () => {
    const b = new Browser(h.app);
    await b.login('bas@0599.example');
    // Said on a plain address (a reload after downloading asks nothing, no box stays ticked).
    const said = async (path: string, to: string, text: string) => {
      const res = await b.fetch(path);
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe(to);
      const html = (await b.page(to)).html;
      expect(html).toContain(text);
      expect(html).not.toContain('id="verwijderen-bevestigen"');
      expect(html).not.toContain('checked');
      return html;
    };
    const none = await said(
      '/ophalen?stap=verwijderen',
      '/ophalen?melding=niets-geselecteerd',
      'Selecteer eerst een of meer leveringen.',
    );
    const id = /name="ids" value="(\d+)"/.exec(none)![1];
    await said(
      `/ophalen?stap=verwijderen&ids=${id}`,
      '/ophalen?melding=niet-gedownload',
      'De geselecteerde leveringen zijn nog niet gedownload en zijn niet verwijderd.',
    );
    // Another organisation's ids, even downloaded ones, are not offered for deletion.
    await (await b.fetch(`/ophalen/${id}/bestand`)).arrayBuffer();
    await said(
      `/ophalen?stap=verwijderen${anas.map((x) => `&ids=${x}`).join('')}`,
      '/ophalen?melding=niets-geselecteerd',
      'Selecteer eerst een of meer leveringen.',
    );
    expect((await b.page(`/ophalen?stap=verwijderen&ids=${id}`)).html).toContain(
      'id="verwijderen-bevestigen"',
    );
  });
});
