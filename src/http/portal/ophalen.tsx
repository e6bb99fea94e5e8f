import type { Context } from 'hono';
import { Hono } from 'hono';
import { gemeenteLabel } from '../../schema/codelists.js';
import type { DeliveryView, FileInfo, FileStream } from '../deps.js';
import type { AppEnv } from '../env.js';
import {
  formatCount,
  formatDateTime,
  formatDay,
  formatPeriod,
  formatSize,
  kindLabel,
  weeklyScope,
} from '../format.js';
import { parseRange, resolveRange } from '../range.js';
import { downloadBody, reprDigest } from '../transfer.js';
import { lateClause } from './historie.js';
import {
  Alert,
  Confirm,
  CsrfField,
  InactiveNotice,
  Layout,
  organisationLabel,
  ScrollTable,
  Th,
} from './layout.js';
import { page } from './render.js';

function fileHeaders(file: FileInfo): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/zip',
    'Content-Disposition': `attachment; filename="${file.fileName.replace(/[^\w.-]/g, '_')}"`,
    'Cache-Control': 'no-store',
  };
  if (file.size !== undefined) headers['Content-Length'] = String(file.size);
  return headers;
}

/** Streams a delivery ZIP as an attachment; counted as a download once sent whole (`downloadBody`). */
export function sendFile(c: Context<AppEnv>, file: FileStream): Response {
  return c.body(downloadBody(c, file), 200, { ...fileHeaders(file), ...reprDigest(file) });
}

/**
 * A delivery's file never changes once made, so its id and size identify its bytes: what a client resuming
 * a download sends back in `If-Range`.
 */
const etagOf = (id: number, size: number) => `"d${id}-${size}"`;

/** The headers of one delivery's file: those of any download, and what resuming it needs. */
function deliveryHeaders(id: number, file: FileInfo): Record<string, string> {
  return {
    ...fileHeaders(file),
    'Accept-Ranges': 'bytes',
    ...(file.size !== undefined ? { ETag: etagOf(id, file.size) } : {}),
  };
}

/**
 * A GET route for one delivery's file: Hono runs it for HEAD too and drops the body unread, so a HEAD gets
 * the headers only and the file is neither opened nor counted as downloaded.
 *
 * A `Range` of one span of bytes resumes a download broken off (`curl -C -`): 206 with those bytes, or 416
 * when none of them exist (answered by `unsatisfiable`, given the headers with their Content-Range); with an
 * `If-Range` other than the file's ETag the whole file is sent instead. Only the whole file (also as a range
 * `bytes=0-<last byte>`) or an open range (`bytes=N-`, as a resuming client asks) counts as a download; a
 * suffix range or a closed one after the first byte (a ZIP tool reading the directory at the end) does not,
 * even when it ends at the last byte, so the file stays new.
 */
export async function sendDeliveryFile(
  c: Context<AppEnv>,
  organisation: string,
  id: number,
  actor: string,
  notFound: () => Response | Promise<Response>,
  unsatisfiable: (headers: Record<string, string>) => Response = (headers) => c.body(null, 416, headers),
): Promise<Response> {
  const { deliveries, clock } = c.var.deps;
  const range = c.req.method === 'HEAD' ? undefined : parseRange(c.req.header('Range'));
  if (c.req.method === 'HEAD' || range) {
    const info = await deliveries.describe(organisation, id, clock());
    if (!info) return notFound();
    const headers = deliveryHeaders(id, info);
    if (c.req.method === 'HEAD') return c.body(null, 200, { ...headers, ...reprDigest(info) });
    const ifRange = c.req.header('If-Range');
    const size = info.size ?? 0;
    if (range && (ifRange === undefined || ifRange === headers.ETag)) {
      const bytes = resolveRange(range, size);
      if (bytes === 'unsatisfiable') {
        const { 'Content-Length': _length, ...rest } = headers;
        return unsatisfiable({ ...rest, 'Content-Range': `bytes */${size}` });
      }
      const toEnd = range.kind === 'from' && range.last === null;
      const file = await deliveries.open(organisation, id, actor, clock(), { ...bytes, toEnd });
      if (!file) return notFound();
      return c.body(downloadBody(c, file), 206, {
        ...headers,
        'Content-Length': String(bytes.end - bytes.start + 1),
        'Content-Range': `bytes ${bytes.start}-${bytes.end}/${size}`,
      });
    }
  }
  const file = await deliveries.open(organisation, id, actor, clock());
  return file
    ? c.body(downloadBody(c, file), 200, { ...deliveryHeaders(id, file), ...reprDigest(file) })
    : notFound();
}

const notFound = (c: Context<AppEnv>) =>
  page(
    c,
    <Layout title="Niet gevonden" session={c.var.session} csrf={c.var.session?.csrfToken}>
      <p class="utrecht-paragraph">
        Dit bestand bestaat niet (meer).{' '}
        <a class="utrecht-link" href="/ophalen">
          Terug naar Ophalen
        </a>
      </p>
    </Layout>,
    404,
  );

// The page speaks of "leveringen" (the rows) throughout; "bestand" is only the ZIP of one levering.
const MESSAGES: Record<string, { kind: 'ok' | 'info' | 'warning'; text: string }> = {
  // Without the names (a link from elsewhere): `deletedNamed` names them when the ids are in the address.
  verwijderd: { kind: 'ok', text: 'De geselecteerde leveringen zijn verwijderd.' },
  'niets-geselecteerd': { kind: 'warning', text: 'Selecteer eerst een of meer leveringen.' },
  'geen-nieuwe': { kind: 'info', text: 'Alle leveringen zijn al gedownload.' },
  'niet-gedownload': {
    kind: 'warning',
    text: 'De geselecteerde leveringen zijn nog niet gedownload en zijn niet verwijderd. Download ze eerst.',
  },
};

const countOf = (n: number) => (n === 1 ? '1 levering' : `${n} leveringen`);

/** "2 leveringen verwijderd: a.zip, b.zip": of the ids in the address, those of this organisation now deleted. */
function deletedNamed(
  list: readonly DeliveryView[],
  ids: readonly string[],
): { kind: 'ok'; text: string } | undefined {
  const names = list.filter((d) => d.deletedAt && ids.includes(String(d.id))).map((d) => d.fileName);
  return names.length > 0
    ? { kind: 'ok', text: `${countOf(names.length)} verwijderd: ${names.join(', ')}.` }
    : undefined;
}

/** Some selected deliveries were deleted, others kept because they were never downloaded. */
function partlyDeleted(deleted: number, kept: number): { kind: 'warning'; text: string } {
  const deliveries = countOf;
  return {
    kind: 'warning',
    text: `${deliveries(deleted)} verwijderd. ${deliveries(kept)} nog niet gedownload en daarom niet verwijderd.`,
  };
}

/** "1 mrt 2026 06:00 – 8 mrt 2026 06:00" on at most two lines: each end kept whole. */
function Period(props: { text: string }) {
  const [from, to] = props.text.split(' – ');
  return (
    <>
      <span class="kd-nowrap">{to === undefined ? from : `${from} –`}</span>
      {to === undefined ? null : (
        <>
          {' '}
          <span class="kd-nowrap">{to}</span>
        </>
      )}
    </>
  );
}

/** Within this many days of its expiry a file not yet downloaded is flagged under its name. */
const EXPIRY_WARNING_DAYS = 7;

const expiresSoon = (d: { readonly expiresAt: string | null }, now: Date): boolean =>
  d.expiresAt !== null && Date.parse(d.expiresAt) - now.getTime() <= EXPIRY_WARNING_DAYS * 86_400_000;

/** Tab "Ophalen": the organisation's deliveries, download one or all new ones, delete selected. */
export function ophalenRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/ophalen', async (c) => {
    const s = c.var.session!;
    const org = s.user.organisationCode!;
    const { deliveries, clock } = c.var.deps;
    const now = clock();
    const list = await deliveries.list(org, now);
    const melding = c.req.query('melding') ?? '';
    const counts = [c.req.query('verwijderd'), c.req.query('bewaard')].map((v) => Number(v));
    const open = list.filter((d) => !d.deletedAt);
    // The first step of deleting (the selection form is a GET): the files named, then a POST confirms.
    const selected =
      c.req.query('stap') === 'verwijderen'
        ? open.filter((d) => (c.req.queries('ids') ?? []).includes(String(d.id)))
        : undefined;
    const toDelete = selected?.filter((d) => d.firstDownloadedAt) ?? [];
    const toKeep = selected?.filter((d) => !d.firstDownloadedAt) ?? [];
    // Nothing to ask: said on a plain address, so a reload after downloading (which the page suggests) asks
    // nothing, and no box stays ticked from the address.
    if (selected && toDelete.length === 0)
      return c.redirect(
        `/ophalen?melding=${selected.length === 0 ? 'niets-geselecteerd' : 'niet-gedownload'}`,
        303,
      );
    const msg = selected
      ? undefined
      : melding === 'deels' && counts.every((n) => Number.isSafeInteger(n) && n > 0)
        ? partlyDeleted(counts[0]!, counts[1]!)
        : melding === 'verwijderd'
          ? (deletedNamed(list, c.req.queries('id') ?? []) ?? MESSAGES.verwijderd)
          : MESSAGES[melding];
    const fresh = open.filter((d) => !d.firstDownloadedAt).length;
    const active = s.organisation?.active !== false;
    const history = active ? await deliveries.historyStatus(org, now) : undefined;
    // The delivery code's own rule: owed from the first slot after activation (or the last weekly).
    const first = active && list.length === 0 ? await deliveries.nextWeekly(org, now) : undefined;
    // A head organisation's files hold several municipalities (a municipality's also its former ones): named.
    const members = await deliveries.members(org);
    return page(
      c,
      <Layout
        title="Ophalen"
        session={s}
        csrf={s.csrfToken}
        current="/ophalen"
        environmentLabel={c.var.deps.options.environmentLabel}
      >
        {msg ? <Alert kind={msg.kind}>{msg.text}</Alert> : null}
        {toDelete.length > 0 ? (
          <Confirm
            id="verwijderen-bevestigen"
            level={2}
            title="Leveringen verwijderen"
            question={`Weet u zeker dat u ${toDelete.length === 1 ? 'deze levering' : `deze ${toDelete.length} leveringen`} wilt verwijderen? Een verwijderde levering kunt u niet meer downloaden.`}
            action="/ophalen/verwijderen"
            csrf={s.csrfToken}
            confirm={`Ja, ${countOf(toDelete.length)} verwijderen`}
            cancel="/ophalen"
            fields={{ ids: toDelete.map((d) => String(d.id)) }}
          >
            <ul class="utrecht-unordered-list">
              {toDelete.map((d) => (
                <li class="utrecht-unordered-list__item">{d.fileName}</li>
              ))}
            </ul>
            {toKeep.length > 0 ? (
              <p class="utrecht-paragraph">
                Nog niet gedownload en daarom niet verwijderd: {toKeep.map((d) => d.fileName).join(', ')}.
              </p>
            ) : null}
          </Confirm>
        ) : null}
        <InactiveNotice session={s} />
        <p class="utrecht-paragraph">
          Leveringen voor organisatie {organisationLabel(s)}
          {members.length > 1 || (members.length === 1 && members[0] !== org)
            ? `, met de gegevens van de gemeenten ${members.map(gemeenteLabel).join(', ')}`
            : ''}
          .{active ? ' Elke maandagochtend staat er een nieuwe wekelijkse levering klaar.' : ''} Leveringen
          worden na 60 dagen automatisch verwijderd.
        </p>
        {history?.requestedAt ? (
          <p class="utrecht-paragraph">
            {history.late
              ? `Totaalbestand aangevraagd, maar vertraagd: ${lateClause(history, 'het', 'op deze pagina')}.`
              : `Totaalbestand aangevraagd, klaar op ${formatDay(history.readyOn)}.`}{' '}
            <a class="utrecht-link" href="/historie">
              Aanvraag bekijken
            </a>
          </p>
        ) : history?.readyOn ? (
          <p class="utrecht-paragraph">
            Het totaalbestand is gemaakt en staat {formatDay(history.readyOn)} klaar.
          </p>
        ) : null}
        {s.organisation?.leavesOutPersonalData ? (
          <p class="utrecht-paragraph">
            Op verzoek van uw organisatie laten de leveringen persoonsgegevens leeg: namen, adressen,
            telefoonnummers, e-mailadressen, vrije tekst en nummers van relaties. Van een geboortedatum staat
            alleen het jaar erin, van een postcode alleen de 4 cijfers. Leveringen van vóór die keuze bevatten
            ze nog. Het gegevenswoordenboek in elke levering noemt die kolommen.
          </p>
        ) : null}
        {/* No button that would only answer "nothing new": with no deliveries at all the line below says so. */}
        {fresh > 0 ? (
          <form method="post" action="/ophalen/alle-nieuwe" class="kd-actions">
            <CsrfField token={s.csrfToken} />
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
              Alle nieuwe leveringen downloaden ({fresh})
            </button>
          </form>
        ) : list.length > 0 ? (
          <p class="utrecht-paragraph">Er zijn geen nieuwe leveringen: alles is al gedownload.</p>
        ) : null}
        {list.length === 0 ? (
          <p class="utrecht-paragraph">
            Er zijn nog geen leveringen.
            {first?.late
              ? ` De eerste levering is vertraagd: ${lateClause(first, 'die', 'op deze pagina')}.`
              : first?.readyOn
                ? ` De eerste levering staat ${formatDay(first.readyOn)} klaar.`
                : ''}
          </p>
        ) : (
          // A GET: the selection only leads to the question above; the POST there deletes.
          <form method="get" action="/ophalen#verwijderen-bevestigen">
            <input type="hidden" name="stap" value="verwijderen" />
            <ScrollTable
              id="leveringen"
              caption="Leveringen"
              head={
                <>
                  <Th>Selecteer</Th>
                  {/* The file second: on a narrow screen its download link is in view without scrolling. */}
                  <Th>Bestand</Th>
                  <Th>Soort</Th>
                  <Th>Periode</Th>
                  <Th>Aangemaakt op</Th>
                  <Th num>Berichten</Th>
                  <Th num>Grootte</Th>
                  <Th>Gedownload op</Th>
                  <Th wideOnly>Gedownload door</Th>
                  <Th wideOnly>Beschikbaar tot</Th>
                  <Th wideOnly>Verwijderd op</Th>
                </>
              }
            >
              {list.map((d) => (
                <tr class="utrecht-table__row">
                  <td class="utrecht-table__cell">
                    {d.deletedAt ? null : (
                      <input
                        type="checkbox"
                        class="utrecht-checkbox utrecht-checkbox--html-input"
                        name="ids"
                        value={String(d.id)}
                        id={`kies-${d.id}`}
                        checked={selected?.includes(d) ?? false}
                        aria-label={`Selecteer ${d.fileName}${d.firstDownloadedAt ? '' : ' (nog niet gedownload)'}`}
                      />
                    )}
                  </td>
                  <td class="utrecht-table__cell kd-file">
                    {d.deletedAt ? (
                      <>
                        {d.fileName}
                        <span class="utrecht-paragraph--small kd-block">verwijderd</span>
                      </>
                    ) : (
                      <>
                        <a class="utrecht-link" href={`/ophalen/${d.id}/bestand`} download={d.fileName}>
                          Download {d.fileName}
                        </a>
                        {/* On every screen: a file nobody fetched goes for good at its 60 days. */}
                        {!d.firstDownloadedAt && expiresSoon(d, now) ? (
                          <span class="utrecht-paragraph--small kd-block">
                            Nog niet gedownload: wordt {formatDateTime(d.expiresAt)} verwijderd
                          </span>
                        ) : null}
                      </>
                    )}
                  </td>
                  <td class="utrecht-table__cell">
                    {kindLabel(d.kind)}
                    {d.personalDataLeftOut ? (
                      <span class="utrecht-paragraph--small kd-block">zonder persoonsgegevens</span>
                    ) : null}
                  </td>
                  <td class="utrecht-table__cell">
                    <Period text={formatPeriod(d.periodFrom, d.periodTo)} />
                    {weeklyScope(d).map((note) => (
                      <span class="utrecht-paragraph--small kd-block">{note}</span>
                    ))}
                  </td>
                  <td class="utrecht-table__cell">{formatDateTime(d.madeAt)}</td>
                  <td class="utrecht-table__cell kd-num kd-count">{formatCount(d.messageCount)}</td>
                  <td class="utrecht-table__cell kd-num">{formatSize(d.sizeBytes)}</td>
                  <td class="utrecht-table__cell">{formatDateTime(d.firstDownloadedAt)}</td>
                  <td class="utrecht-table__cell kd-wide-only">{d.firstDownloadedByName ?? '—'}</td>
                  <td class="utrecht-table__cell kd-wide-only">{formatDateTime(d.expiresAt)}</td>
                  <td class="utrecht-table__cell kd-wide-only">{formatDateTime(d.deletedAt)}</td>
                </tr>
              ))}
            </ScrollTable>
            <p class="utrecht-paragraph utrecht-paragraph--small">
              Alleen leveringen die al gedownload zijn, kunnen worden verwijderd. Vernieuw de pagina na het
              downloaden om te zien wat gedownload is.
            </p>
            <div class="kd-actions">
              <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                Geselecteerde leveringen verwijderen
              </button>
            </div>
          </form>
        )}
      </Layout>,
    );
  });

  app.get('/ophalen/:id/bestand', async (c) => {
    const s = c.var.session!;
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id)) return notFound(c);
    return sendDeliveryFile(c, s.user.organisationCode!, id, s.user.email, () => notFound(c));
  });

  app.post('/ophalen/alle-nieuwe', async (c) => {
    const s = c.var.session!;
    const { deliveries, clock } = c.var.deps;
    const file = await deliveries.openAllNew(s.user.organisationCode!, s.user.email, clock());
    if (!file) return c.redirect('/ophalen?melding=geen-nieuwe', 303);
    return sendFile(c, file);
  });

  app.post('/ophalen/verwijderen', async (c) => {
    const s = c.var.session!;
    const body = await c.req.parseBody({ all: true });
    const raw = body.ids;
    const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
      .map((v) => Number(v))
      .filter((n) => Number.isSafeInteger(n));
    if (ids.length === 0) return c.redirect('/ophalen?melding=niets-geselecteerd', 303);
    const { deliveries, clock } = c.var.deps;
    const org = s.user.organisationCode!;
    // Of the organisation's own files: the downloaded ones go, the others stay and are named as kept. An id
    // that is not its own is not found, as on download.
    const own = (await deliveries.list(org, clock())).filter((d) => ids.includes(d.id) && !d.deletedAt);
    if (own.length === 0) return notFound(c);
    const downloaded = own.filter((d) => d.firstDownloadedAt).map((d) => d.id);
    const kept = own.length - downloaded.length;
    if (downloaded.length === 0) return c.redirect('/ophalen?melding=niet-gedownload', 303);
    const deleted = await deliveries.remove(org, downloaded, s.user.email, clock());
    if (deleted.length === 0) return notFound(c);
    return c.redirect(
      kept > 0
        ? `/ophalen?melding=deels&verwijderd=${deleted.length}&bewaard=${kept}`
        : `/ophalen?melding=verwijderd${deleted.map((id) => `&id=${id}`).join('')}`,
      303,
    );
  });

  return app;
}
