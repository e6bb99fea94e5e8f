import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { Bucket, IndicatorValues, Period } from '../../indicators/indicators.js';
import { codeLabel, gemeenteLabel } from '../../schema/codelists.js';
import { ALL_MEMBERS } from '../../usecases/indicators.js';
import type { AppEnv } from '../env.js';
import { formatDateTime, formatDay } from '../format.js';
import { InactiveNotice, Layout, ScrollTable, Th } from './layout.js';
import { page } from './render.js';

const nl = new Intl.NumberFormat('nl-NL', { maximumFractionDigits: 1 });
const euro = new Intl.NumberFormat('nl-NL', { style: 'currency', currency: 'EUR' });
const monthName = new Intl.DateTimeFormat('nl-NL', { month: 'long', year: 'numeric', timeZone: 'UTC' });

export const formatNumber = (v: number | null): string => (v === null ? '—' : nl.format(v));
/** "1 dag", "2 dagen", "1,5 dagen": Dutch takes the singular for exactly one only; "—" when absent. */
export const formatQuantity = (v: number | null, one: string, many: string): string =>
  v === null ? '—' : `${nl.format(v)} ${v === 1 ? one : many}`;
export const formatShare = (part: number, whole: number): string =>
  whole > 0 ? `${nl.format((100 * part) / whole)}%` : '—';
/** Eurocent (the messages' LDT_Bedrag) as euro. */
export const formatEuro = (cents: number): string => euro.format(cents / 100);
/** LDT_RedenAfwijzingVerzoek: `omschrijving (code)`. */
const reasonLabel = (code: string) => codeLabel('reden_afwijzing_verzoek', code);
const formatMonth = (m: string) => monthName.format(new Date(`${m}-15T00:00:00Z`));

/**
 * The period a section's figures cover, said once above its tiles in the dashboard's date format: "aanvragen
 * van maandag 4 maart 2024 t/m maandag 22 april 2024" (one day: "aanvragen op …"). Without a period (nothing
 * counted, or a snapshot from before the period existed) nothing.
 */
function periodOf(what: string, p: Period | undefined): string | undefined {
  if (!p) return undefined;
  return p.from === p.to
    ? `${what} op ${formatDay(p.from)}`
    : `${what} van ${formatDay(p.from)} t/m ${formatDay(p.to)}`;
}

/** "november 2025 t/m oktober 2026": the months a monthly table shows. */
function monthSpan(months: readonly { month: string }[]): string | undefined {
  const first = months[0]?.month;
  const last = months.at(-1)?.month;
  if (!first || !last) return undefined;
  return first === last ? formatMonth(first) : `${formatMonth(first)} t/m ${formatMonth(last)}`;
}

/** Whether a member has any message: each heenbericht counts in the retour figures, a 323 in the declarations. */
function hasMessages(v: IndicatorValues): boolean {
  return (
    v.retourErrors.types.some((t) => t.heen > 0) ||
    v.requestOutcome.requests > 0 ||
    v.declarations.months.some((m) => m.prestaties !== 0 || m.submittedCents !== 0)
  );
}

/**
 * `YYYY-MM` of the earliest month the scope's figures show any traffic in: the first month with clients or
 * declarations, or the first day of a counted lead time or start. The snapshot keeps no first Dagtekening, and
 * a month before all of this would show 0 clients and € 0,00, which reads as "no care" instead of "no data".
 */
export function firstDataMonth(v: IndicatorValues): string | undefined {
  const months = [
    v.clientsInCare.months.find((m) => m.total > 0)?.month,
    v.declarations.months.find((m) => m.prestaties !== 0 || m.submittedCents !== 0)?.month,
    v.leadTime.period?.from.slice(0, 7),
    v.changeRequests?.leadTime.period?.from.slice(0, 7),
    v.startDelay.period?.from.slice(0, 7),
  ].filter((m): m is string => m !== undefined);
  return months.sort()[0];
}

const NO_DATA = 'geen gegevens';

/** A month before the first message: a dash, not a zero. */
function NoData() {
  return <span title={NO_DATA}>—</span>;
}

/** A month before the first data: its name, `cells` dashes and an empty bar cell. */
function NoDataRow(props: { month: string; cells: number }) {
  return (
    <tr class="utrecht-table__row">
      <Td>{formatMonth(props.month)}</Td>
      {Array.from({ length: props.cells }, () => (
        <Td num>
          <NoData />
        </Td>
      ))}
      <Td />
    </tr>
  );
}

function NoDataLegend() {
  return <p class="utrecht-paragraph kd-legend">— = {NO_DATA}: de maand ligt vóór het eerste bericht.</p>;
}

/**
 * A bar as server-rendered SVG: the CSP allows no inline style (so no CSS widths) and the portal runs no
 * script. Decorative: the number is always in the table cell beside it.
 */
function Bar(props: { value: number; max: number }) {
  const width = props.max > 0 ? Math.round((160 * Math.max(0, props.value)) / props.max) : 0;
  return (
    <svg class="kd-bar" width="160" height="14" viewBox="0 0 160 14" aria-hidden="true" focusable="false">
      <rect width="160" height="14" class="kd-bar__track" />
      <rect width={String(width)} height="14" class="kd-bar__value" />
    </svg>
  );
}

function Tiles(props: { children?: Child }) {
  return <dl class="kd-tiles">{props.children}</dl>;
}

function Tile(props: { label: string; value: string }) {
  return (
    <div class="kd-tile">
      <dt class="kd-tile__label">{props.label}</dt>
      <dd class="kd-tile__value">{props.value}</dd>
    </div>
  );
}

function Td(props: { children?: Child; num?: boolean }) {
  return <td class={`utrecht-table__cell${props.num ? ' kd-num' : ''}`}>{props.children}</td>;
}

let tableCount = 0;

function Table(props: { caption: string; head: Child; children?: Child }) {
  // An id per rendered table for its caption; unique within a page is all that counts.
  tableCount = (tableCount + 1) % 1_000_000;
  return (
    <ScrollTable id={`tabel-${tableCount}`} caption={props.caption} head={props.head}>
      {props.children}
    </ScrollTable>
  );
}

function BucketTable(props: { caption: string; unit: string; buckets: readonly Bucket[] }) {
  const max = Math.max(0, ...props.buckets.map((b) => b.count));
  return (
    <Table
      caption={props.caption}
      head={
        <>
          <Th>{props.unit}</Th>
          <Th num>Aantal</Th>
          <Th>Verdeling</Th>
        </>
      }
    >
      {props.buckets.map((b) => (
        <tr class="utrecht-table__row">
          <Td>{b.label}</Td>
          <Td num>{formatNumber(b.count)}</Td>
          <Td>
            <Bar value={b.count} max={max} />
          </Td>
        </tr>
      ))}
    </Table>
  );
}

/**
 * What a section shows in one plain sentence, its period once (not in every tile's label), and the exact
 * definition (docs/indicatoren.md) folded away: a `<details>` opens without script.
 */
function About(props: { plain: string; period?: string | undefined; children?: Child }) {
  return (
    <>
      <p class="utrecht-paragraph kd-definition">{props.plain}</p>
      {props.period ? <p class="utrecht-paragraph kd-period">Periode: {props.period}.</p> : null}
      <details class="kd-how">
        <summary>Hoe wordt dit berekend?</summary>
        <p class="utrecht-paragraph kd-definition">{props.children}</p>
      </details>
    </>
  );
}

type Outcome = IndicatorValues['requestOutcome'];

function OutcomeTable(props: { caption: string; outcome: Outcome }) {
  const { outcome } = props;
  return (
    <Table
      caption={props.caption}
      head={
        <>
          <Th>Uitkomst</Th>
          <Th num>Aantal</Th>
          <Th num>Aandeel</Th>
          <Th>Verdeling</Th>
        </>
      }
    >
      {(
        [
          ['Toegewezen', outcome.honoured],
          ['Afgewezen', outcome.rejected],
          ['In onderzoek', outcome.underInvestigation],
          ['Nog geen antwoord', outcome.unanswered],
        ] as const
      ).map(([label, n]) => (
        <tr class="utrecht-table__row">
          <Td>{label}</Td>
          <Td num>{formatNumber(n)}</Td>
          <Td num>{formatShare(n, outcome.requests)}</Td>
          <Td>
            <Bar value={n} max={outcome.requests} />
          </Td>
        </tr>
      ))}
    </Table>
  );
}

function Indicators(props: { v: IndicatorValues; scopeLabel: string }) {
  const { v } = props;
  const outcome = v.requestOutcome;
  const care = v.clientsInCare.months;
  const careMax = Math.max(0, ...care.map((m) => m.total));
  const decl = v.declarations.months;
  const declMax = Math.max(0, ...decl.map((m) => m.submittedCents));
  const retours = v.retourErrors.types;
  const first = firstDataMonth(v);
  const noData = (month: string) => first !== undefined && month < first;
  const lastCare = care.at(-1);
  return (
    <>
      <section aria-labelledby="doorlooptijd">
        <h2 class="utrecht-heading-2" id="doorlooptijd">
          Doorlooptijd aanvraag → toewijzing
        </h2>
        <About
          plain="Hoeveel werkdagen het duurt voordat de gemeente een aanvraag van een aanbieder toewijst: de norm is 5 werkdagen, zodat een cliënt niet onnodig op zorg wacht."
          period={periodOf('aanvragen', v.leadTime.period)}
        >
          Per aangevraagd product in een verzoek om toewijzing (315) dat een toewijzing kreeg: het aantal
          werkdagen (maandag t/m vrijdag, zonder feestdagen) van de Dagtekening van de 315 tot de
          Toewijzingsdatum van het eerste toegewezen product (301) met dezelfde ReferentieAanbieder. Een
          verwijderde toewijzing (RedenWijziging 13, of 01 met een Einddatum gelijk aan de Ingangsdatum) telt
          als nooit verstuurd. Norm: binnen 5 werkdagen.
        </About>
        <Tiles>
          <Tile label="Mediaan" value={formatQuantity(v.leadTime.median, 'werkdag', 'werkdagen')} />
          <Tile label="Binnen 5 werkdagen" value={formatShare(v.leadTime.withinNorm, v.leadTime.count)} />
          <Tile label="Toegewezen aanvragen" value={formatNumber(v.leadTime.count)} />
        </Tiles>
        <BucketTable
          caption={`Doorlooptijd aanvraag → toewijzing, ${props.scopeLabel}`}
          unit="Doorlooptijd"
          buckets={v.leadTime.buckets}
        />
      </section>

      <section aria-labelledby="uitkomst">
        <h2 class="utrecht-heading-2" id="uitkomst">
          Uitkomst aanvragen
        </h2>
        <About plain="Hoe de aanvragen van aanbieders zijn afgehandeld: toegewezen, afgewezen, nog in onderzoek of nog zonder antwoord, zodat u ziet hoeveel aanvragen op een besluit wachten en waarom er wordt afgewezen.">
          Per aangevraagd product (315): toegewezen als er een niet verwijderde toewijzing (301) met zijn
          ReferentieAanbieder is; anders afgewezen als een antwoordbericht (319) VerzoekAntwoord 1 geeft, in
          onderzoek bij alleen VerzoekAntwoord 2, en anders nog zonder antwoord.
        </About>
        <Tiles>
          <Tile label="Toegewezen" value={formatShare(outcome.honoured, outcome.requests)} />
          <Tile label="Afgewezen" value={formatShare(outcome.rejected, outcome.requests)} />
          <Tile label="Aangevraagde producten" value={formatNumber(outcome.requests)} />
        </Tiles>
        <OutcomeTable caption={`Uitkomst aanvragen, ${props.scopeLabel}`} outcome={outcome} />
        {outcome.rejectionReasons.length > 0 ? (
          <Table
            caption={`Redenen van afwijzing (RedenAfwijzingVerzoek), ${props.scopeLabel}`}
            head={
              <>
                <Th>Reden</Th>
                <Th num>Aantal</Th>
              </>
            }
          >
            {outcome.rejectionReasons.map((r) => (
              <tr class="utrecht-table__row">
                <Td>{reasonLabel(r.label)}</Td>
                <Td num>{formatNumber(r.count)}</Td>
              </tr>
            ))}
          </Table>
        ) : null}
      </section>

      {v.changeRequests ? (
        <section aria-labelledby="wijziging">
          <h2 class="utrecht-heading-2" id="wijziging">
            Verzoeken om wijziging
          </h2>
          <About
            plain="Hoe snel en met welke uitkomst de gemeente verzoeken van aanbieders afhandelt om een lopende toewijzing te wijzigen; ook hier is de norm 5 werkdagen."
            period={periodOf('verzoeken', v.changeRequests.leadTime.period)}
          >
            Per verzoek om wijziging (317): toegewezen als er een niet verwijderde toewijzing (301) met zijn
            ReferentieAanbieder is, met de doorlooptijd in werkdagen van de Dagtekening van de 317 tot de
            eerste Toewijzingsdatum (norm: binnen 5 werkdagen); anders afgewezen, in onderzoek of nog zonder
            antwoord zoals bij de aanvragen.
          </About>
          <Tiles>
            <Tile
              label="Mediaan doorlooptijd"
              value={formatQuantity(v.changeRequests.leadTime.median, 'werkdag', 'werkdagen')}
            />
            <Tile
              label="Binnen 5 werkdagen"
              value={formatShare(v.changeRequests.leadTime.withinNorm, v.changeRequests.leadTime.count)}
            />
            {/* The lead time's count, under the period it covers; all requests are in the table below. */}
            <Tile label="Toegewezen verzoeken" value={formatNumber(v.changeRequests.leadTime.count)} />
          </Tiles>
          <OutcomeTable
            caption={`Uitkomst verzoeken om wijziging, ${props.scopeLabel}`}
            outcome={v.changeRequests.requestOutcome}
          />
        </section>
      ) : null}

      <section aria-labelledby="start">
        <h2 class="utrecht-heading-2" id="start">
          Toewijzing → start zorg
        </h2>
        <About
          plain="Hoeveel dagen er na de ingangsdatum van een toewijzing verstrijken voordat de aanbieder de zorg echt start: een maat voor hoe lang cliënten na het besluit nog wachten."
          period={periodOf('starts', v.startDelay.period)}
        >
          Per toewijzing (ToewijzingNummer) met een start: het aantal kalenderdagen van de Ingangsdatum van de
          toewijzing (301), in de versie die gold bij de start, tot de eerste Begindatum in een startbericht
          (305) dat eraan gekoppeld is. Verwijderde starts (StatusAanlevering 3) tellen niet mee, en een start
          op een verwijderde toewijzing (RedenWijziging 13, of 01 met een Einddatum gelijk aan de
          Ingangsdatum) ook niet: die toewijzing telt als nooit verstuurd.
        </About>
        <Tiles>
          <Tile label="Mediaan" value={formatQuantity(v.startDelay.median, 'dag', 'dagen')} />
          <Tile label="Gestarte toewijzingen" value={formatNumber(v.startDelay.count)} />
        </Tiles>
        <BucketTable
          caption={`Toewijzing → start zorg, ${props.scopeLabel}`}
          unit="Tijd tot start"
          buckets={v.startDelay.buckets}
        />
      </section>

      <section aria-labelledby="clienten">
        <h2 class="utrecht-heading-2" id="clienten">
          Cliënten in zorg per maand
        </h2>
        <About
          plain="Hoeveel verschillende cliënten per maand zorg kregen, per wet en samen: zo ziet u hoe het zorggebruik zich ontwikkelt."
          period={monthSpan(care)}
        >
          Het aantal verschillende cliënten (gepseudonimiseerd BSN) met een start (305) waarvan de periode de
          maand raakt: Begindatum uiterlijk in de maand en niet gestopt (307) vóór de eerste dag van de maand.
          Ook een tijdelijke stop beëindigt de periode: de onderbreking is geen zorg, een herstart is een
          nieuwe periode. Per wet; een cliënt met zorg in beide wetten telt in het totaal één keer. De 12 hele
          maanden vóór de maand van de stand.
        </About>
        <Tiles>
          <Tile
            label={`In ${lastCare ? formatMonth(lastCare.month) : '—'}`}
            value={lastCare && !noData(lastCare.month) ? formatNumber(lastCare.total) : formatNumber(null)}
          />
        </Tiles>
        <Table
          caption={`Cliënten in zorg per maand, ${props.scopeLabel}`}
          head={
            <>
              <Th>Maand</Th>
              <Th num>Jeugdwet (iJw)</Th>
              <Th num>Wmo (iWmo)</Th>
              <Th num>Totaal</Th>
              <Th>Verdeling</Th>
            </>
          }
        >
          {care.map((m) =>
            noData(m.month) ? (
              <NoDataRow month={m.month} cells={3} />
            ) : (
              <tr class="utrecht-table__row">
                <Td>{formatMonth(m.month)}</Td>
                <Td num>{formatNumber(m.ijw)}</Td>
                <Td num>{formatNumber(m.iwmo)}</Td>
                <Td num>{formatNumber(m.total)}</Td>
                <Td>
                  <Bar value={m.total} max={careMax} />
                </Td>
              </tr>
            ),
          )}
        </Table>
        {care.some((m) => noData(m.month)) ? <NoDataLegend /> : null}
      </section>

      <section aria-labelledby="declaraties">
        <h2 class="utrecht-heading-2" id="declaraties">
          Declaraties
        </h2>
        <About
          plain="Welk bedrag aanbieders per maand voor geleverde zorg declareerden en hoeveel de gemeente daarvan toekende: zo ziet u de kosten en hoeveel er wordt afgewezen."
          period={monthSpan(decl)}
        >
          Per maand van de ProductPeriode (Begindatum): de som van het IngediendBedrag van de prestaties in
          declaraties (323), debet min credit, in euro. Toegekend is dat bedrag min wat een
          declaratie-antwoord (325) afwees: de afgewezen prestaties, of de hele declaratie. Een afgewezen en
          opnieuw ingediende prestatie telt zo bij Ingediend twee keer en bij Toegekend één keer. Prestaties
          tellen debet min credit (een correctie, credit plus nieuwe debet, is één prestatie); het aandeel
          afgewezen is het deel daarvan dat een 325 afwees. Wijst de 325 de hele declaratie af, dan tellen al
          haar prestaties als afgewezen.
        </About>
        <Tiles>
          <Tile label="Ingediend" value={formatEuro(decl.reduce((s, m) => s + m.submittedCents, 0))} />
          <Tile label="Toegekend" value={formatEuro(decl.reduce((s, m) => s + m.approvedCents, 0))} />
          <Tile
            label="Prestaties afgewezen"
            value={formatShare(
              decl.reduce((s, m) => s + m.rejected, 0),
              decl.reduce((s, m) => s + m.prestaties, 0),
            )}
          />
        </Tiles>
        <Table
          caption={`Declaraties per maand, ${props.scopeLabel}`}
          head={
            <>
              <Th>Maand</Th>
              <Th num>Ingediend bedrag</Th>
              <Th num>Toegekend bedrag</Th>
              <Th num>Prestaties</Th>
              <Th num>Afgewezen</Th>
              <Th num>Aandeel afgewezen</Th>
              <Th>Verdeling</Th>
            </>
          }
        >
          {decl.map((m) =>
            noData(m.month) ? (
              <NoDataRow month={m.month} cells={5} />
            ) : (
              <tr class="utrecht-table__row">
                <Td>{formatMonth(m.month)}</Td>
                <Td num>{formatEuro(m.submittedCents)}</Td>
                <Td num>{formatEuro(m.approvedCents)}</Td>
                <Td num>{formatNumber(m.prestaties)}</Td>
                <Td num>{formatNumber(m.rejected)}</Td>
                <Td num>{formatShare(m.rejected, m.prestaties)}</Td>
                <Td>
                  <Bar value={m.submittedCents} max={declMax} />
                </Td>
              </tr>
            ),
          )}
        </Table>
        {decl.some((m) => noData(m.month)) ? <NoDataLegend /> : null}
      </section>

      <section aria-labelledby="retours">
        <h2 class="utrecht-heading-2" id="retours">
          Retours met fouten
        </h2>
        <About plain="Welk deel van de berichten de keten als fout terugstuurde: zulke berichten zijn niet verwerkt, dus een hoog aandeel wijst op problemen in de administratie.">
          Per berichttype: het aandeel heenberichten waarvan het retourbericht een retourcode anders dan 0200
          of 0233 bevat. Zo'n bericht is niet verwerkt; het telt bij de andere indicatoren niet mee.
        </About>
        <Tiles>
          <Tile
            label="Afgekeurd, alle typen"
            value={formatShare(
              retours.reduce((s, t) => s + t.rejected, 0),
              retours.reduce((s, t) => s + t.heen, 0),
            )}
          />
        </Tiles>
        <Table
          caption={`Retours met fouten per berichttype, ${props.scopeLabel}`}
          head={
            <>
              <Th>Bericht</Th>
              <Th num>Heenberichten</Th>
              <Th num>Afgekeurd</Th>
              <Th num>Aandeel</Th>
            </>
          }
        >
          {retours.map((t) => (
            <tr class="utrecht-table__row">
              <Td>{t.code}</Td>
              <Td num>{formatNumber(t.heen)}</Td>
              <Td num>{formatNumber(t.rejected)}</Td>
              <Td num>{formatShare(t.rejected, t.heen)}</Td>
            </tr>
          ))}
        </Table>
      </section>
    </>
  );
}

/** Tab "Dashboard": the organisation's indicators from its snapshot; a head organisation picks a member. */
export function dashboardRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/dashboard', async (c) => {
    const s = c.var.session!;
    const org = s.user.organisationCode!;
    const { indicators, clock } = c.var.deps;
    const snap = await indicators.snapshot(org, clock());
    const asked = c.req.query('gemeente') ?? ALL_MEMBERS;
    // Only scopes of this organisation exist in its snapshot: any other code shows all members.
    // Own keys only: `?gemeente=__proto__` must not find the object's inherited properties.
    const scope = Object.hasOwn(snap.scopes, asked) ? asked : ALL_MEMBERS;
    // Named from the members, not the organisation's code: a head organisation acting for one municipality
    // shows that municipality's figures, with nothing to choose (its snapshot has no per-member scope).
    const choice = snap.members.length > 1;
    const single = `gemeente ${gemeenteLabel(snap.members[0] ?? org)}`;
    const scopeLabel =
      scope === ALL_MEMBERS ? (choice ? 'alle gemeenten samen' : single) : `gemeente ${gemeenteLabel(scope)}`;
    // The intro names what is shown: after choosing one member, that member, not all of them.
    const introScope =
      scope === ALL_MEMBERS && choice
        ? `de gemeenten ${snap.members.map(gemeenteLabel).join(', ')}`
        : scopeLabel;
    const values = snap.scopes[scope]!;
    return page(
      c,
      <Layout
        title="Dashboard"
        session={s}
        csrf={s.csrfToken}
        current="/dashboard"
        environmentLabel={c.var.deps.options.environmentLabel}
      >
        <InactiveNotice session={s} />
        {/* Without messages there is nothing to show: no page of zeros that reads as "no care". */}
        {snap.latestDagtekening === null ? (
          <>
            <p class="utrecht-paragraph">Er zijn nog geen berichten ontvangen.</p>
            <p class="utrecht-paragraph">
              Nog geen stand: de eerste komt met de eerstvolgende wekelijkse levering.
            </p>
          </>
        ) : (
          <>
            <p class="utrecht-paragraph">
              <strong>Stand per {formatDateTime(snap.computedAt)}</strong>. Indicatoren over alle ontvangen
              berichten van {introScope}; laatste Dagtekening {formatDay(snap.latestDagtekening)}. De stand
              wordt elke week bij de levering bijgewerkt, en opnieuw berekend als de gemeenten van de
              organisatie wijzigen (dan telt ze ook berichten mee die nog in geen levering zaten). Berichten
              die door hun retour zijn afgekeurd, tellen niet mee.
            </p>
            {choice ? (
              <form method="get" action="/dashboard" class="kd-actions kd-filter">
                <div class="utrecht-form-field">
                  <div class="utrecht-form-field__label">
                    <label class="utrecht-form-label" for="gemeente">
                      Gemeente
                    </label>
                  </div>
                  <div class="utrecht-form-field__input">
                    <select class="utrecht-select utrecht-select--html-select" id="gemeente" name="gemeente">
                      <option value={ALL_MEMBERS} selected={scope === ALL_MEMBERS}>
                        Alle gemeenten samen
                      </option>
                      {snap.members.map((g) => (
                        <option value={g} selected={scope === g}>
                          {gemeenteLabel(g)}
                        </option>
                      ))}
                    </select>
                  </div>
                </div>
                <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                  Tonen
                </button>
              </form>
            ) : null}
            {choice ? (
              <p class="utrecht-paragraph">
                <strong>Getoond: {scopeLabel}.</strong>
              </p>
            ) : null}
            {/* One member of a head organisation may have no messages while the others have. */}
            {scope === ALL_MEMBERS || hasMessages(values) ? (
              <Indicators v={values} scopeLabel={scopeLabel} />
            ) : (
              <p class="utrecht-paragraph">Voor {scopeLabel} zijn nog geen berichten ontvangen.</p>
            )}
          </>
        )}
      </Layout>,
    );
  });

  return app;
}
