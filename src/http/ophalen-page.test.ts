import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUsers, Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { createUser } from '../usecases/accounts.js';
import { ingestAt, testBsn } from '../usecases/deliveries.fixtures.js';
import { listDeliveries } from '../usecases/deliveries.js';
import {
  activateOrganisation,
  addOrganisation,
  deactivateOrganisation,
  setMembers,
} from '../usecases/organisations.js';

/** Ophalen as the UX audit left it: on a phone, for a new organisation, with a totaalbestand on its way. */
describe('the Ophalen page', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
  });
  afterAll(async () => h.drop());

  it('tells a new organisation on which Monday its first delivery will be there', async () => {
    const b = new Browser(h.app);
    // Monday 23 February, after that morning's deliveries were shown: the next Monday.
    await b.login('ana@0363.example');
    expect((await b.page('/ophalen')).html).toContain(
      'Er zijn nog geen leveringen. De eerste levering staat maandag 2 maart 2026 klaar.',
    );
    // Sunday after the run, before Monday 06:00: tomorrow's, not the Monday after.
    const start = h.clock.now;
    try {
      h.clock.now = new Date('2026-03-01T12:00:00Z');
      await b.login('ana@0363.example');
      expect((await b.page('/ophalen')).html).toContain(
        'De eerste levering staat maandag 2 maart 2026 klaar.',
      );
    } finally {
      h.clock.now = start;
    }
  });

  it('says on Ophalen when a requested totaalbestand will be ready', async () => {
    const b = new Browser(h.app);
    await b.login('bas@0599.example');
    expect((await b.page('/ophalen')).html).not.toContain('Totaalbestand aangevraagd');
    const { csrf } = await b.page('/historie');
    await b.post('/historie', { _csrf: csrf!, totaalbestand: 'ja' });
    const html = (await b.page('/ophalen')).html;
    expect(html).toContain('Totaalbestand aangevraagd, klaar op maandag 2 maart 2026.');
    expect(html).toContain('href="/historie">Aanvraag bekijken</a>');
    await b.post('/historie', { _csrf: csrf! });
  });

  it('puts the file with its download link first after the checkbox, and marks the columns a phone hides', async () => {
    await h.deliver(new Date('2026-03-01T06:30:00Z'));
    h.clock.now = new Date('2026-03-02T08:00:00Z');
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const { html } = await b.page('/ophalen');
    const heads = [...html.matchAll(/<th class="([^"]*)" scope="col">([^<]*)<\/th>/g)].map((m) => [
      m[2],
      m[1],
    ]);
    expect(heads.map(([name]) => name).slice(0, 3)).toEqual(['Selecteer', 'Bestand', 'Soort']);
    const wideOnly = heads.filter(([, cls]) => cls?.includes('kd-wide-only')).map(([name]) => name);
    expect(wideOnly).toEqual(['Gedownload door', 'Beschikbaar tot', 'Verwijderd op']);
    // A real table still: every header a column header, and each row's cells in the same order.
    expect(html).toContain(
      '<caption class="utrecht-table__caption" id="leveringen-bijschrift">Leveringen</caption>',
    );
    const row = /<tbody[^>]*>\s*<tr[^>]*>([\s\S]*?)<\/tr>/.exec(html)![1]!;
    const cells = [...row.matchAll(/<td class="([^"]*)">/g)].map((m) => m[1]);
    expect(cells).toHaveLength(heads.length);
    expect(row).toMatch(
      /^<td[^>]*>\s*<input[^>]*name="ids"[\s\S]*?<\/td><td class="utrecht-table__cell kd-file"><a /,
    );
    expect(cells.slice(-2)).toEqual(['utrecht-table__cell kd-wide-only', 'utrecht-table__cell kd-wide-only']);
    // The period in two unbreakable halves, not five lines.
    expect(html).toMatch(/<span class="kd-nowrap">[^<]+ –<\/span> <span class="kd-nowrap">[^<]+<\/span>/);
    const css = await (await b.fetch('/assets/portal.css')).text();
    const phone = /@media \(max-width: 37\.5em\) \{([\s\S]*?)\n\}/.exec(css)?.[1] ?? '';
    expect(phone).toContain('.kd-wide-only { display: none; }');
    expect(phone).toMatch(/\.kd-header \{[^}]*padding: 0\.5rem 1rem/);
    expect(phone).toMatch(/\.kd-brand \{ font-size: 1\.125rem; \}/);
  });

  it('names its buttons with a verb and a noun, and the footer speaks of leveringen per organisatie', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const { html } = await b.page('/ophalen');
    expect(html).toMatch(/>\s*Alle nieuwe leveringen downloaden \(1\)<\/button>/);
    expect(html).toMatch(/>Geselecteerde leveringen verwijderen<\/button>/);
    expect(html).toContain(
      'gepseudonimiseerde berichtgegevens per organisatie. Leveringen worden 60 dagen bewaard.',
    );
    expect(html).not.toContain('per gemeente');
    expect(html).not.toContain('Bestanden worden');
  });

  it('says until when each file is there, and under a file nobody downloaded in its last week that it goes then', async () => {
    await h.deliver(new Date('2026-03-01T06:30:00Z'));
    const start = h.clock.now;
    try {
      const b = new Browser(h.app);
      h.clock.now = new Date('2026-03-02T08:00:00Z');
      await b.login('ana@0363.example');
      const fresh = (await b.page('/ophalen')).html;
      const until = /<td class="utrecht-table__cell kd-wide-only">(\d+ \w+ 2026, \d\d:\d\d)<\/td>/.exec(
        fresh,
      )?.[1];
      expect(until).toBeDefined();
      expect(fresh).not.toContain('Nog niet gedownload: wordt');
      // Seven days before it goes: the warning, on every screen (not a wide-only cell).
      const [day, month] = until!.split(' ');
      const expires = new Date(
        `${month === 'apr' ? '2026-04' : '2026-05'}-${day!.padStart(2, '0')}T12:00:00Z`,
      );
      h.clock.now = new Date(expires.getTime() - 6 * 86_400_000);
      await b.login('ana@0363.example');
      const soon = (await b.page('/ophalen')).html;
      expect(soon).toMatch(
        new RegExp(
          `kd-file"><a [^>]*>Download [^<]+</a><span class="utrecht-paragraph--small kd-block">Nog niet gedownload: wordt ${until} verwijderd</span>`,
        ),
      );
      // Downloaded: nothing to warn about.
      // Recorded once the last byte is handed on: read the whole body.
      for (const [, link] of soon.matchAll(/href="(\/ophalen\/\d+\/bestand)"/g))
        expect((await (await b.fetch(link!)).arrayBuffer()).byteLength).toBeGreaterThan(0);
      const after = (await b.page('/ophalen')).html;
      expect(after).not.toContain('Nog niet gedownload: wordt');
    } finally {
      h.clock.now = start;
    }
  });
});

describe('the first delivery Ophalen promises', () => {
  it('is the Monday after the first run after activation, for one activated on Sunday at 06:00', async () => {
    const h = await portalHarness('sqlite');
    try {
      await h.seed();
      // Sunday 1 March 2026 06:00:00 Amsterdam, the very instant of that morning's slot: owed from the next one.
      const activated = new Date('2026-03-01T05:00:00Z');
      await addOrganisation(h.store, { code: '0014', name: 'Groningen', actor: 'test', now: activated });
      await activateOrganisation(h.store, { code: '0014', actor: 'test', now: activated });
      const user = { email: 'gea@0014.example', displayName: 'Gea', organisationCode: '0014' };
      await createUser(h.store.db, { ...user, password: PASSWORD, role: 'user' }, activated);
      const ophalen = async (at: string) => {
        h.clock.now = new Date(at);
        const b = new Browser(h.app);
        await b.login(user.email);
        return (await b.page('/ophalen')).html;
      };
      expect(await ophalen('2026-03-01T06:00:00Z')).toContain(
        'Er zijn nog geen leveringen. De eerste levering staat maandag 9 maart 2026 klaar.',
      );
      // That morning's run owes it nothing; the next Sunday's makes it, listed the Monday the page said.
      const sunday = await h.deliver(new Date('2026-03-01T06:30:00Z'));
      expect(sunday.made.filter((d) => d.organisation === '0014')).toEqual([]);
      expect(await ophalen('2026-03-02T08:00:00Z')).toContain(
        'De eerste levering staat maandag 9 maart 2026 klaar.',
      );
      const next = await h.deliver(new Date('2026-03-08T05:00:00Z'));
      expect(next.made.filter((d) => d.organisation === '0014').map((d) => d.kind)).toEqual(['weekly']);
      // Made, not listed before Monday: the page still names that Monday.
      expect(await ophalen('2026-03-08T12:00:00Z')).toContain(
        'De eerste levering staat maandag 9 maart 2026 klaar.',
      );
      const [first] = await listDeliveries(h.store, '0014', { now: new Date('2026-03-09T05:00:00Z') });
      expect(first?.availableAt).toBe('2026-03-09T05:00:00.000Z');
      expect(await ophalen('2026-03-09T05:00:00Z')).not.toContain('Er zijn nog geen leveringen');
    } finally {
      await h.drop();
    }
  });
});

/** The text of each row's Periode cell on Ophalen, by file name (Dutch time, tags and spacing gone). */
async function periods(b: Browser): Promise<Record<string, string>> {
  const { html } = await b.page('/ophalen');
  const out: Record<string, string> = {};
  for (const [, row] of html.matchAll(/<tr class="utrecht-table__row">([\s\S]*?)<\/tr>/g)) {
    const cells = [...row!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
      m[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    const file = /ketendata-[\w-]+\.zip/.exec(cells[1] ?? '')?.[0];
    if (file) out[file] = cells[3]!;
  }
  return out;
}

describe('a weekly that holds more than one week, on Ophalen', () => {
  it('says so for a first weekly, a member caught up and weeks after a pause; a plain week and a missed Sunday made later say nothing', async () => {
    const h = await portalHarness('sqlite');
    try {
      const now = h.clock.now; // Monday 23 February 2026
      await addOrganisation(h.store, { code: '0363', name: 'Amsterdam', actor: 'test', now });
      await addOrganisation(h.store, { code: '0599', name: 'Rotterdam', actor: 'test', now });
      await addOrganisation(h.store, {
        code: 'REGIO01',
        name: 'Regio Een',
        members: ['0363'],
        actor: 'test',
        now,
      });
      for (const code of ['0363', '0599', 'REGIO01'])
        await activateOrganisation(h.store, { code, actor: 'test', now });
      await addUsers(h.store, now);
      let n = 1;
      const ingest = (iso: string, gemeente: string) =>
        ingestAt(h.store, new Date(iso), { kind: 'JW301', gemeente, bsn: testBsn(n++) });
      // Rotterdam's data from before the region takes it on, and a week of Amsterdam's.
      await ingest('2026-02-24T09:00:00Z', '0599');
      await ingest('2026-02-24T10:00:00Z', '0363');
      await h.deliver(new Date('2026-03-01T05:30:00Z'));
      await ingest('2026-03-03T10:00:00Z', '0363');
      // Wednesday 4 March: the region takes on Rotterdam; its next weekly holds all of Rotterdam's so far.
      await setMembers(h.store, {
        code: 'REGIO01',
        members: ['0363', '0599'],
        actor: 'test',
        now: new Date('2026-03-04T10:00:00Z'),
      });
      await h.deliver(new Date('2026-03-08T05:30:00Z'));
      await h.deliver(new Date('2026-03-15T05:30:00Z'));
      // Amsterdam pauses for three Sundays; the region's runs of 22 and 29 March are missed (made on 5 April).
      await deactivateOrganisation(h.store, {
        code: '0363',
        actor: 'test',
        now: new Date('2026-03-16T10:00:00Z'),
      });
      await activateOrganisation(h.store, {
        code: '0363',
        actor: 'test',
        now: new Date('2026-04-01T10:00:00Z'),
      });
      await h.deliver(new Date('2026-04-05T05:30:00Z'));
      h.clock.now = new Date('2026-04-06T08:00:00Z');
      const late = (await listDeliveries(h.store, 'REGIO01', { now: h.clock.now })).filter(
        (d) => d.madeAt === '2026-04-05T05:30:00.000Z',
      );
      expect(late.map((d) => d.fileName)).toEqual([
        'ketendata-REGIO01-wekelijks-2026-04-05.zip',
        'ketendata-REGIO01-wekelijks-2026-03-29.zip',
        'ketendata-REGIO01-wekelijks-2026-03-22.zip',
      ]);

      const cor = new Browser(h.app);
      await cor.login('cor@regio.example');
      expect(await periods(cor)).toEqual({
        'ketendata-REGIO01-wekelijks-2026-04-05.zip': '29 mrt 2026 06:00 – 5 apr 2026 06:00',
        'ketendata-REGIO01-wekelijks-2026-03-29.zip': '22 mrt 2026 06:00 – 29 mrt 2026 06:00',
        'ketendata-REGIO01-wekelijks-2026-03-22.zip': '15 mrt 2026 06:00 – 22 mrt 2026 06:00',
        'ketendata-REGIO01-wekelijks-2026-03-15.zip': '8 mrt 2026 06:00 – 15 mrt 2026 06:00',
        'ketendata-REGIO01-wekelijks-2026-03-08.zip':
          '1 mrt 2026 06:00 – 8 mrt 2026 06:00 Bevat ook alle gegevens tot nu toe van Rotterdam (0599): die gemeente is sinds de vorige wekelijkse levering toegevoegd.',
        'ketendata-REGIO01-wekelijks-2026-03-01.zip':
          '1 jan 2021 – 1 mrt 2026 06:00 Eerste wekelijkse levering: alle gegevens tot nu toe.',
      });
      const ana = new Browser(h.app);
      await ana.login('ana@0363.example');
      const amsterdam = await periods(ana);
      expect(amsterdam['ketendata-0363-wekelijks-2026-04-05.zip']).toBe(
        '15 mrt 2026 06:00 – 5 apr 2026 06:00 Beslaat 3 weken: alles sinds de vorige wekelijkse levering.',
      );
      expect(amsterdam['ketendata-0363-wekelijks-2026-03-08.zip']).toBe(
        '1 mrt 2026 06:00 – 8 mrt 2026 06:00',
      );
    } finally {
      await h.drop();
    }
  });
});
