import type { Context } from 'hono';
import { Hono } from 'hono';
import type { FileInfo, FileStream } from '../deps.js';
import type { AppEnv } from '../env.js';
import { formatCount, formatDateTime, formatPeriod, formatSize, kindLabel } from '../format.js';
import { parseRange, resolveRange } from '../range.js';
import { downloadBody } from '../transfer.js';
import { Alert, CsrfField, InactiveNotice, Layout, organisationLabel, ScrollTable, Th } from './layout.js';
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
  return c.body(downloadBody(c, file), 200, fileHeaders(file));
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
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
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
  return file ? c.body(downloadBody(c, file), 200, deliveryHeaders(id, file)) : notFound();
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
  verwijderd: { kind: 'ok', text: 'De geselecteerde leveringen zijn verwijderd.' },
  'niets-geselecteerd': { kind: 'warning', text: 'Selecteer eerst een of meer leveringen.' },
  'geen-nieuwe': { kind: 'info', text: 'Alle leveringen zijn al gedownload.' },
  'niet-gedownload': {
    kind: 'warning',
    text: 'De geselecteerde leveringen zijn nog niet gedownload en zijn niet verwijderd. Download ze eerst.',
  },
};

/** Some selected deliveries were deleted, others kept because they were never downloaded. */
function partlyDeleted(deleted: number, kept: number): { kind: 'warning'; text: string } {
  const deliveries = (n: number) => (n === 1 ? '1 levering' : `${n} leveringen`);
  return {
    kind: 'warning',
    text: `${deliveries(deleted)} verwijderd. ${deliveries(kept)} nog niet gedownload en daarom niet verwijderd.`,
  };
}

/** Tab "Ophalen": the organisation's deliveries, download one or all new ones, delete selected. */
export function ophalenRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/ophalen', async (c) => {
    const s = c.var.session!;
    const org = s.user.organisationCode!;
    const { deliveries, clock } = c.var.deps;
    const list = await deliveries.list(org, clock());
    const melding = c.req.query('melding') ?? '';
    const counts = [c.req.query('verwijderd'), c.req.query('bewaard')].map((v) => Number(v));
    const msg =
      melding === 'deels' && counts.every((n) => Number.isSafeInteger(n) && n > 0)
        ? partlyDeleted(counts[0]!, counts[1]!)
        : MESSAGES[melding];
    const open = list.filter((d) => !d.deletedAt);
    const fresh = open.filter((d) => !d.firstDownloadedAt).length;
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
        <InactiveNotice session={s} />
        <p class="utrecht-paragraph">
          Leveringen voor organisatie {organisationLabel(s)}.
          {s.organisation?.active === false
            ? ''
            : ' Elke maandagochtend staat er een nieuwe wekelijkse levering klaar.'}{' '}
          Leveringen worden na 60 dagen automatisch verwijderd.
        </p>
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
              Download alle nieuwe leveringen ({fresh})
            </button>
          </form>
        ) : list.length > 0 ? (
          <p class="utrecht-paragraph">Er zijn geen nieuwe leveringen: alles is al gedownload.</p>
        ) : null}
        {list.length === 0 ? (
          <p class="utrecht-paragraph">Er zijn nog geen leveringen.</p>
        ) : (
          <form method="post" action="/ophalen/verwijderen">
            <CsrfField token={s.csrfToken} />
            <ScrollTable
              id="leveringen"
              caption="Leveringen"
              head={
                <>
                  <Th>Selecteer</Th>
                  <Th>Soort</Th>
                  <Th>Periode</Th>
                  <Th>Aangemaakt op</Th>
                  <Th num>Berichten</Th>
                  <Th num>Grootte</Th>
                  <Th>Gedownload op</Th>
                  <Th>Gedownload door</Th>
                  <Th>Verwijderd op</Th>
                  <Th>Bestand</Th>
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
                        aria-label={`Selecteer ${d.fileName}${d.firstDownloadedAt ? '' : ' (nog niet gedownload)'}`}
                      />
                    )}
                  </td>
                  <td class="utrecht-table__cell">
                    {kindLabel(d.kind)}
                    {d.personalDataLeftOut ? (
                      <span class="utrecht-paragraph--small kd-block">zonder persoonsgegevens</span>
                    ) : null}
                  </td>
                  <td class="utrecht-table__cell">{formatPeriod(d.periodFrom, d.periodTo)}</td>
                  <td class="utrecht-table__cell">{formatDateTime(d.madeAt)}</td>
                  <td class="utrecht-table__cell kd-num kd-count">{formatCount(d.messageCount)}</td>
                  <td class="utrecht-table__cell kd-num">{formatSize(d.sizeBytes)}</td>
                  <td class="utrecht-table__cell">{formatDateTime(d.firstDownloadedAt)}</td>
                  <td class="utrecht-table__cell">{d.firstDownloadedByName ?? '—'}</td>
                  <td class="utrecht-table__cell">{formatDateTime(d.deletedAt)}</td>
                  <td class="utrecht-table__cell">
                    {d.deletedAt ? (
                      d.fileName
                    ) : (
                      <a class="utrecht-link" href={`/ophalen/${d.id}/bestand`} download={d.fileName}>
                        Download {d.fileName}
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </ScrollTable>
            <p class="utrecht-paragraph utrecht-paragraph--small">
              Alleen leveringen die al gedownload zijn, kunnen worden verwijderd. Vernieuw de pagina na het
              downloaden om te zien wat gedownload is.
            </p>
            <div class="kd-actions">
              <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                Verwijder geselecteerd
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
        : '/ophalen?melding=verwijderd',
      303,
    );
  });

  return app;
}
