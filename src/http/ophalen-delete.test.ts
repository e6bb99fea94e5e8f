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
