import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { createUser } from '../usecases/accounts.js';
import type { IndicatorValues } from '../usecases/indicators.js';
import { activateOrganisation, addOrganisation } from '../usecases/organisations.js';

/** The page's text as a reader sees it: no tags, whitespace collapsed. */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replaceAll('&#39;', "'")
    .replace(/\s+/g, ' ');
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
    // 0599 (Bas) stays without messages.
    for (const org of ['0363', 'REGIO01', 'REGIO02']) await stored(org, withTraffic);
  });
  afterAll(async () => h.drop());

  type Data = { latestDagtekening: string | null; scopes: Record<string, IndicatorValues> };
  /** Edits the organisation's stored snapshot (computed first when it has none), as the app test does. */
  const stored = async (org: string, edit: (data: Data) => void) => {
    await h.deps.indicators.snapshot(org, h.clock.now);
    const row = await h.store.db
      .selectFrom('indicator_snapshot')
      .select('data')
      .where('organisation', '=', org)
      .executeTakeFirstOrThrow();
    const data = JSON.parse(row.data) as Data;
    edit(data);
    await h.store.db
      .updateTable('indicator_snapshot')
      .set({ data: JSON.stringify(data) })
      .where('organisation', '=', org)
      .execute();
  };
  /** As if messages had come: a latest Dagtekening, and one heenbericht in each scope. */
  const withTraffic = (data: Data) => {
    data.latestDagtekening = '2026-02-20';
    for (const v of Object.values(data.scopes))
      Object.assign(v.retourErrors, { types: [{ code: 'JW301', heen: 1, rejected: 0 }] });
  };

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

  it('opens each section with a plain sentence and folds the exact definition under "Hoe wordt dit berekend?"', async () => {
    const html = await dashboard('ana@0363.example');
    const sections = [...html.matchAll(/<section aria-labelledby="([^"]+)">([\s\S]*?)<\/section>/g)];
    const ids = sections.map((m) => m[1]);
    expect(ids).toEqual([
      'doorlooptijd',
      'uitkomst',
      'wijziging',
      'start',
      'clienten',
      'declaraties',
      'retours',
    ]);
    // The definitions as docs/indicatoren.md versions them, word for word, one per section, folded away.
    const definitions = [
      'Per aangevraagd product in een verzoek om toewijzing (315) dat een toewijzing kreeg: het aantal werkdagen (maandag t/m vrijdag, zonder feestdagen) van de Dagtekening van de 315 tot de Toewijzingsdatum van het eerste toegewezen product (301) met dezelfde ReferentieAanbieder. Een verwijderde toewijzing (RedenWijziging 13, of 01 met een Einddatum gelijk aan de Ingangsdatum) telt als nooit verstuurd. Norm: binnen 5 werkdagen.',
      'Per aangevraagd product (315): toegewezen als er een niet verwijderde toewijzing (301) met zijn ReferentieAanbieder is; anders afgewezen als een antwoordbericht (319) VerzoekAntwoord 1 geeft, in onderzoek bij alleen VerzoekAntwoord 2, en anders nog zonder antwoord.',
      'Per verzoek om wijziging (317): toegewezen als er een niet verwijderde toewijzing (301) met zijn ReferentieAanbieder is, met de doorlooptijd in werkdagen van de Dagtekening van de 317 tot de eerste Toewijzingsdatum (norm: binnen 5 werkdagen); anders afgewezen, in onderzoek of nog zonder antwoord zoals bij de aanvragen.',
      'Per toewijzing (ToewijzingNummer) met een start: het aantal kalenderdagen van de Ingangsdatum van de toewijzing (301), in de versie die gold bij de start, tot de eerste Begindatum in een startbericht (305) dat eraan gekoppeld is. Verwijderde starts (StatusAanlevering 3) tellen niet mee, en een start op een verwijderde toewijzing (RedenWijziging 13, of 01 met een Einddatum gelijk aan de Ingangsdatum) ook niet: die toewijzing telt als nooit verstuurd.',
      'Het aantal verschillende cliënten (gepseudonimiseerd BSN) met een start (305) waarvan de periode de maand raakt: Begindatum uiterlijk in de maand en niet gestopt (307) vóór de eerste dag van de maand. Ook een tijdelijke stop beëindigt de periode: de onderbreking is geen zorg, een herstart is een nieuwe periode. Per wet; een cliënt met zorg in beide wetten telt in het totaal één keer. De 12 hele maanden vóór de maand van de stand.',
      'Per maand van de ProductPeriode (Begindatum): de som van het IngediendBedrag van de prestaties in declaraties (323), debet min credit, in euro. Toegekend is dat bedrag min wat een declaratie-antwoord (325) afwees: de afgewezen prestaties, of de hele declaratie. Een afgewezen en opnieuw ingediende prestatie telt zo bij Ingediend twee keer en bij Toegekend één keer. Prestaties tellen debet min credit (een correctie, credit plus nieuwe debet, is één prestatie); het aandeel afgewezen is het deel daarvan dat een 325 afwees. Wijst de 325 de hele declaratie af, dan tellen al haar prestaties als afgewezen.',
      "Per berichttype: het aandeel heenberichten waarvan het retourbericht een retourcode anders dan 0200 of 0233 bevat. Zo'n bericht is niet verwerkt; het telt bij de andere indicatoren niet mee.",
    ];
    sections.forEach((m, i) => {
      const body = m[2]!;
      const folded = [...body.matchAll(/<details class="kd-how">([\s\S]*?)<\/details>/g)].map((d) =>
        text(d[1]!).trim(),
      );
      expect(folded, m[1]).toEqual([`Hoe wordt dit berekend? ${definitions[i]}`]);
      // Outside the fold: one sentence in plain Dutch, without message codes or element names.
      const open = text(
        body.replace(/<details[\s\S]*?<\/details>/, '').replace(/<table[\s\S]*<\/table>/, ''),
      );
      const plain = /<\/h2>\s*<p class="utrecht-paragraph kd-definition">([^<]*)<\/p>/.exec(body)?.[1];
      expect(plain, m[1]).toMatch(/^[A-Z][^.]*\.$/);
      expect(open, m[1]).not.toMatch(/\(3\d\d\)|Referentie|RedenWijziging|StatusAanlevering|IngediendBedrag/);
    });
  });

  it('shows only the notice to an organisation without any message, not a page of zeros', async () => {
    const html = await dashboard('bas@0599.example');
    expect(html).toContain('Er zijn nog geen berichten ontvangen.');
    for (const absent of ['<section', '<table', 'kd-tile', '€', 'Hoe wordt dit berekend?'])
      expect(html).not.toContain(absent);
  });

  it('shows "—" (geen gegevens), not 0, for the months before the first message', async () => {
    let months: string[] = [];
    await stored('0363', (data) => {
      const v = data.scopes.alle!;
      months = v.clientsInCare.months.map((m) => m.month);
      // The first message falls in the 7th month (a request then), care and declarations from the 8th on.
      Object.assign(v.leadTime, { period: { from: `${months[6]}-10`, to: `${months[11]}-10` } });
      Object.assign(v.startDelay, { period: null });
      if (v.changeRequests) Object.assign(v.changeRequests.leadTime, { period: null });
      for (const [i, m] of v.clientsInCare.months.entries())
        Object.assign(m, { ijw: i > 6 ? 2 : 0, iwmo: 0, total: i > 6 ? 2 : 0 });
      for (const [i, m] of v.declarations.months.entries()) {
        const n = i > 6 ? 1 : 0;
        Object.assign(m, { submittedCents: 1000 * n, approvedCents: 1000 * n, prestaties: n, rejected: 0 });
      }
    });
    const html = await dashboard('ana@0363.example');
    const rows = (caption: string) => {
      const table = new RegExp(`<caption[^>]*>${caption}[\\s\\S]*?</table>`).exec(html)?.[0] ?? '';
      return [...table.matchAll(/<tr class="utrecht-table__row">([\s\S]*?)<\/tr>/g)]
        .slice(1)
        .map((r) => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!));
    };
    const care = rows('Cliënten in zorg per maand');
    const decl = rows('Declaraties per maand');
    expect(care).toHaveLength(12);
    expect(decl).toHaveLength(12);
    const dash = '<span title="geen gegevens">—</span>';
    for (let i = 0; i < 6; i++) {
      expect(care[i]!.slice(1, 4), months[i]).toEqual([dash, dash, dash]);
      expect(decl[i]!.slice(1, 6), months[i]).toEqual([dash, dash, dash, dash, dash]);
      // No bar of length zero beside it.
      expect(care[i]![4]).toBe('');
    }
    // From the first message on a zero is a zero: messages, but no care yet.
    expect(care[6]!.slice(1, 4)).toEqual(['0', '0', '0']);
    expect(text(decl[6]![1]!).trim()).toBe('€ 0,00');
    expect(care[7]!.slice(1, 4)).toEqual(['2', '0', '2']);
    expect(text(html)).toContain('— = geen gegevens: de maand ligt vóór het eerste bericht.');
    // Each period said once above its tiles: the care months, the lead times' requests.
    expect(text(html)).toMatch(/Periode: \w+ \d{4} t\/m \w+ \d{4}\./);
    expect(text(html)).toContain('Periode: aanvragen van ');
  });

  it('names the chosen municipality in the intro, with a "Tonen" button on the select’s line', async () => {
    const all = await dashboard('cor@regio.example');
    expect(intro(all)).toBe(
      'Indicatoren over alle ontvangen berichten van de gemeenten Amsterdam (0363), Rotterdam (0599)',
    );
    const one = await dashboard('cor@regio.example', '?gemeente=0599');
    expect(intro(one)).toBe('Indicatoren over alle ontvangen berichten van gemeente Rotterdam (0599)');
    expect(one).toContain('<strong>Getoond: gemeente Rotterdam (0599).</strong>');
    expect(one).toContain('<form method="get" action="/dashboard" class="kd-actions kd-filter">');
    expect(text(one)).toContain(' Tonen ');
    expect(one).not.toMatch(/>\s*Toon\s*</);
    const css = await (await h.app.request('/assets/portal.css')).text();
    expect(css).toContain('.kd-main .kd-filter { align-items: flex-end; }');
  });

  it('says so for a member of a head organisation without messages', async () => {
    await stored('REGIO01', (data) => Object.assign(data.scopes['0599']!.retourErrors, { types: [] }));
    const html = await dashboard('cor@regio.example', '?gemeente=0599');
    expect(html).toContain('Voor gemeente Rotterdam (0599) zijn nog geen berichten ontvangen.');
    expect(html).not.toContain('<section');
    // The choice stays, to pick another member.
    expect(html).toContain('name="gemeente"');
  });
});
