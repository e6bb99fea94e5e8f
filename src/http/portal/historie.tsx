import { Hono } from 'hono';
import type { DueDelivery } from '../deps.js';
import type { AppEnv } from '../env.js';
import { formatDateTime, formatDay } from '../format.js';
import { Alert, CsrfField, InactiveNotice, Layout } from './layout.js';
import { page } from './render.js';

/**
 * Of a delivery whose Monday passed without it (its Sunday run missed, or failed and waiting for a retry):
 * when it will be made instead, never the date already gone. `it`: "het" or "die"; `where`: the page it shows on.
 */
export function lateClause(d: DueDelivery, it: string, where: string): string {
  return d.retryAfter
    ? `de leverrun is mislukt en wordt vanaf ${formatDateTime(d.retryAfter).replace(', ', ' om ')} opnieuw geprobeerd; daarna verschijnt ${it} meteen ${where}`
    : `${it} wordt gemaakt bij de eerstvolgende leverrun en verschijnt daarna meteen ${where}`;
}

/** Tab "Historie opvragen": one tick asks for a full delivery since 1-1-2021 in the next weekly run. */
export function historieRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/historie', async (c) => {
    const s = c.var.session!;
    const { deliveries, clock } = c.var.deps;
    const status = await deliveries.historyStatus(s.user.organisationCode!, clock());
    const requested = status.requestedAt !== null;
    return page(
      c,
      <Layout
        title="Historie opvragen"
        session={s}
        csrf={s.csrfToken}
        current="/historie"
        environmentLabel={c.var.deps.options.environmentLabel}
      >
        {c.req.query('melding') === 'aangevraagd' ? (
          <Alert kind="ok">Het totaalbestand is aangevraagd.</Alert>
        ) : c.req.query('melding') === 'ingetrokken' ? (
          <Alert kind="ok">Uw aanvraag voor een totaalbestand is ingetrokken.</Alert>
        ) : c.req.query('melding') === 'ongewijzigd' ? (
          <Alert kind="info">Er is niets gewijzigd.</Alert>
        ) : null}
        <InactiveNotice session={s} />
        <p class="utrecht-paragraph">
          Een totaalbestand bevat alle gegevens van uw organisatie vanaf 1 januari 2021. Het wordt gemaakt bij
          de eerstvolgende wekelijkse levering (zondag) en staat op maandag klaar onder Ophalen.
        </p>
        {/* Nothing to tick before activation: the request would only be refused. */}
        {s.organisation?.active === false ? null : (
          <form method="post" action="/historie">
            <CsrfField token={s.csrfToken} />
            <div class="utrecht-form-field utrecht-form-field--checkbox utrecht-form-field--distanced">
              <div class="utrecht-form-field__input">
                <input
                  type="checkbox"
                  class="utrecht-checkbox utrecht-checkbox--html-input"
                  id="totaalbestand"
                  name="totaalbestand"
                  value="ja"
                  checked={requested}
                  aria-describedby="totaalbestand-status"
                />
              </div>
              <div class="utrecht-form-field__label">
                <label class="utrecht-form-label utrecht-form-label--checkbox" for="totaalbestand">
                  Aanmaken totaalbestand
                </label>
              </div>
            </div>
            <p class="utrecht-paragraph" id="totaalbestand-status">
              {requested
                ? `Aangevraagd op ${formatDateTime(status.requestedAt)}. ${
                    status.late
                      ? `Het totaalbestand is vertraagd: ${lateClause(status, 'het', 'onder Ophalen')}.`
                      : `Klaar op ${formatDay(status.readyOn)}.`
                  }`
                : status.readyOn && status.lastMadeAt
                  ? `Totaalbestand gemaakt op ${formatDateTime(status.lastMadeAt)}. Het staat vanaf ${formatDay(status.readyOn)} onder Ophalen.`
                  : status.lastMadeAt
                    ? `Niet aangevraagd. Laatste totaalbestand gemaakt op ${formatDateTime(status.lastMadeAt)}.`
                    : 'Niet aangevraagd.'}
            </p>
            <p class="utrecht-paragraph">
              {requested
                ? 'Wilt u het totaalbestand toch niet? Haal het vinkje weg en klik op Opslaan.'
                : 'Zet het vinkje en klik op Opslaan om het totaalbestand aan te vragen.'}
            </p>
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
              Opslaan
            </button>
          </form>
        )}
      </Layout>,
    );
  });

  app.post('/historie', async (c) => {
    const s = c.var.session!;
    const body = await c.req.parseBody();
    const { deliveries, clock } = c.var.deps;
    const org = s.user.organisationCode!;
    const requested = (await deliveries.historyStatus(org, clock())).requestedAt !== null;
    if (body.totaalbestand === 'ja' && !requested) {
      await deliveries.requestHistory(org, s.user.email, clock());
      return c.redirect('/historie?melding=aangevraagd', 303);
    }
    if (body.totaalbestand !== 'ja' && requested) {
      await deliveries.cancelHistory(org, s.user.email, clock());
      return c.redirect('/historie?melding=ingetrokken', 303);
    }
    // The tick as it was: said so, or "Opslaan" would seem to do nothing.
    return c.redirect('/historie?melding=ongewijzigd', 303);
  });

  return app;
}
