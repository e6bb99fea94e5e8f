import type { Context } from 'hono';
import { Hono } from 'hono';
import { raw } from 'hono/html';
import QRCode from 'qrcode';
import {
  beginTotp,
  cancelTotpEnrolment,
  changePassword,
  confirmPassword,
  confirmTotp,
  createApiToken,
  disableTotp,
  listApiTokens,
  pendingTotp,
  revokeApiToken,
} from '../../usecases/accounts.js';
import { AccountError } from '../../usecases/accounts-errors.js';
import type { AppEnv } from '../env.js';
import { OneTimeFlash } from '../flash.js';
import { formatDateTime } from '../format.js';
import { publicOrigin, setSessionCookie } from '../session.js';
import {
  Alert,
  Confirm,
  CsrfField,
  ErrorSummary,
  errorAt,
  Field,
  type FormError,
  Layout,
  localPath,
  organisationLabel,
  ScrollTable,
  Th,
  TOO_MANY_ATTEMPTS,
} from './layout.js';
import { page } from './render.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const withNext = (path: string, next: string | undefined) =>
  next ? `${path}?next=${encodeURIComponent(next)}` : path;

/**
 * The current password, asked again where a session alone must not do: a token outlives a password change, and
 * a second factor someone else enrols locks the user out.
 */
function CurrentPassword(p: { id: string; error: FormError | undefined }) {
  return (
    <Field
      id={p.id}
      error={errorAt(p.error, p.id)}
      name="password"
      label="Uw huidige wachtwoord"
      type="password"
      autocomplete="current-password"
      required
      description="Ter bevestiging dat u het bent."
    />
  );
}

const CURRENT_PASSWORD_ERRORS: Record<string, string> = {
  'accounts.wrong_password': 'Uw huidige wachtwoord is onjuist.',
  'accounts.throttled': TOO_MANY_ATTEMPTS,
};

/** A refused current password, said at the field `id` of the form `form`; undefined for another error. */
const currentPasswordError = (form: string, id: string, code: string): FormError | undefined => {
  const text = CURRENT_PASSWORD_ERRORS[code];
  return text ? { form, text, field: id } : undefined;
};

type Notice = {
  kind: 'ok' | 'info';
  text: string;
  /** After the forced change of a temporary password: a link on, as the page itself no longer holds one back. */
  onward?: boolean;
};

const NOTICES: Record<string, Notice> = {
  wachtwoord: { kind: 'ok', text: 'Uw wachtwoord is gewijzigd.' },
  'eigen-wachtwoord': { kind: 'ok', text: 'Uw wachtwoord is gewijzigd.', onward: true },
  'tweede-factor-aan': {
    kind: 'ok',
    text: 'De tweede factor staat aan. Vanaf nu vragen we bij het inloggen om een code.',
  },
  'tweede-factor-uit': { kind: 'ok', text: 'De tweede factor staat uit.' },
  'tweede-factor-geannuleerd': {
    kind: 'info',
    text: 'Het instellen van de tweede factor is gestopt; de tweede factor staat uit.',
  },
  ingetrokken: { kind: 'ok', text: 'Het API-token is ingetrokken.' },
};

/**
 * The otpauth URI as a QR code: inline SVG from the server, which the CSP allows (no script, no data: image).
 * qrcode's output holds only its own path data and the fixed attributes we add, so it goes in unescaped.
 */
async function qrSvg(uri: string) {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, width: 200 });
  return raw(
    svg.replace('<svg ', '<svg class="kd-qr" role="img" aria-label="QR-code voor uw authenticator-app" '),
  );
}

/**
 * The manual key as people copy it: "ABCD EFGH …". Display only; the stored secret and the otpauth link keep it
 * whole, and authenticator apps ignore the spaces.
 */
const groupsOfFour = (secret: string): string => secret.replace(/(.{4})(?=.)/g, '$1 ');

/** How long a new token waits, server-side, for the page the POST redirects to. */
export const NEW_TOKEN_TTL_MS = 5 * 60 * 1000;

/** The token just made, on the page after the redirect: its secret the first time, after that only its id. */
interface Created {
  readonly id: number;
  readonly token: string | undefined;
}

/** Tab "Instellingen": account, second factor, API tokens (the organisation's, or the operator's). */
export function instellingenRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // A new token's secret, between the POST that makes it and the page that shows it once (see the POST).
  const newTokens = new OneTimeFlash<string>(NEW_TOKEN_TTL_MS, 'api-token');
  const flashKey = (c: Context<AppEnv>, tokenId: number) => `${c.var.session!.id}:${tokenId}`;

  const render = async (
    c: Context<AppEnv>,
    notice?: Notice | FormError,
    created?: Created,
    status: 200 | 400 = 200,
    /** The name typed for a token that was not made, shown again in its field. */
    tokenName?: string,
  ) => {
    const s = c.var.session!;
    const { store } = c.var.deps;
    const scopeOrg = s.user.role === 'operator' ? null : s.user.organisationCode;
    const tokens = await listApiTokens(store.db, scopeOrg);
    // Revoking goes through a question first: one stray click would cut off the BI environment.
    const revoking = tokens.find((t) => String(t.id) === c.req.query('intrekken'));
    const made = created && tokens.find((t) => t.id === created.id);
    const enrol = s.user.totpEnabled
      ? undefined
      : await pendingTotp(store.db, c.var.deps.totpKeys, s.user.id);
    const qr = enrol ? await qrSvg(enrol.uri) : undefined;
    // The page asked for before the temporary password stood in the way (`requireLogin`), kept until after it.
    const next = localPath(c.req.query('next'));
    const home = s.user.role === 'operator' ? '/beheer' : '/ophalen';
    const error = notice && 'form' in notice ? notice : undefined;
    return page(
      c,
      <Layout
        title="Instellingen"
        session={s}
        csrf={s.csrfToken}
        current="/instellingen"
        environmentLabel={c.var.deps.options.environmentLabel}
        error={error !== undefined}
      >
        {error ? (
          <ErrorSummary error={error} />
        ) : notice && 'kind' in notice ? (
          <Alert kind={notice.kind}>
            {notice.text}
            {notice.onward ? (
              <>
                {' '}
                <a class="utrecht-link" href={next ?? home}>
                  {next
                    ? 'Verder naar de opgevraagde pagina'
                    : `Verder naar ${s.user.role === 'operator' ? 'Beheer' : 'Ophalen'}`}
                </a>
              </>
            ) : null}
          </Alert>
        ) : null}
        {s.user.passwordTemporary ? (
          <Alert kind="info">
            U bent ingelogd met een tijdelijk wachtwoord dat de beheerder heeft ingesteld. Kies hieronder
            onder Wachtwoord wijzigen een eigen wachtwoord; daarna kunt u verder.
          </Alert>
        ) : null}
        <section aria-labelledby="account">
          <h2 class="utrecht-heading-2" id="account">
            Account
          </h2>
          <dl class="utrecht-data-list">
            <div class="utrecht-data-list__item">
              <dt class="utrecht-data-list__item-key">Naam</dt>
              <dd class="utrecht-data-list__item-value">{s.user.displayName}</dd>
            </div>
            <div class="utrecht-data-list__item">
              <dt class="utrecht-data-list__item-key">E-mailadres</dt>
              <dd class="utrecht-data-list__item-value">{s.user.email}</dd>
            </div>
            <div class="utrecht-data-list__item">
              <dt class="utrecht-data-list__item-key">Organisatie</dt>
              <dd class="utrecht-data-list__item-value">
                {s.user.role === 'operator' && !s.organisation ? '— (beheerder)' : organisationLabel(s)}
              </dd>
            </div>
          </dl>
          <h3 class="utrecht-heading-3">Wachtwoord wijzigen</h3>
          {/* `next` in the address: the form's own `next` field is the new password. */}
          <form method="post" action={withNext('/instellingen/wachtwoord', next)} class="kd-narrow">
            <CsrfField token={s.csrfToken} />
            <Field
              id="huidig"
              name="current"
              label={
                s.user.passwordTemporary ? 'Tijdelijk wachtwoord (van de beheerder)' : 'Huidig wachtwoord'
              }
              type="password"
              autocomplete="current-password"
              required
              error={errorAt(error, 'huidig')}
            />
            <Field
              id="nieuw"
              name="next"
              label="Nieuw wachtwoord"
              type="password"
              autocomplete="new-password"
              required
              description="Minstens 12 tekens."
              error={errorAt(error, 'nieuw')}
            />
            <button type="submit" class="utrecht-button utrecht-button--secondary-action">
              Wachtwoord wijzigen
            </button>
          </form>
        </section>
        {/* Not with a password the operator knows: no second factor or token set up by whoever has it. */}
        {s.user.passwordTemporary ? null : (
          <>
            <section aria-labelledby="tweede-factor">
              <h2 class="utrecht-heading-2" id="tweede-factor">
                Tweede factor
              </h2>
              {s.user.totpEnabled ? (
                <form method="post" action="/instellingen/tweede-factor/uitzetten" class="kd-narrow">
                  <CsrfField token={s.csrfToken} />
                  <p class="utrecht-paragraph">De tweede factor (authenticator-app) staat aan.</p>
                  <CurrentPassword id="uit-wachtwoord" error={error} />
                  <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                    Tweede factor uitzetten
                  </button>
                </form>
              ) : enrol ? (
                <form method="post" action="/instellingen/tweede-factor/bevestigen" class="kd-narrow">
                  <CsrfField token={s.csrfToken} />
                  <p class="utrecht-paragraph">
                    Scan de QR-code met uw authenticator-app, of voer de sleutel hieronder met de hand in. Vul
                    daarna de code in die de app toont.
                  </p>
                  <div>{qr}</div>
                  <p class="utrecht-paragraph">
                    Sleutel: <code class="kd-code kd-key">{groupsOfFour(enrol.secret)}</code>
                  </p>
                  <p class="utrecht-paragraph">
                    Op de telefoon zelf:{' '}
                    <a class="utrecht-link" href={enrol.uri}>
                      open de sleutel in uw authenticator-app
                    </a>
                    .
                  </p>
                  <Field
                    id="totp-code"
                    name="code"
                    label="Code"
                    autocomplete="one-time-code"
                    inputmode="numeric"
                    required
                    description="Zes cijfers; de code verandert elke 30 seconden."
                    error={errorAt(error, 'totp-code')}
                  />
                  <CurrentPassword id="totp-wachtwoord" error={error} />
                  <div class="kd-actions">
                    <button type="submit" class="utrecht-button utrecht-button--primary-action">
                      Tweede factor aanzetten
                    </button>
                    {/* The form's own CSRF field goes along; the password is not needed to stop a setup. */}
                    <button
                      type="submit"
                      class="utrecht-button utrecht-button--secondary-action"
                      formaction="/instellingen/tweede-factor/annuleren"
                      formnovalidate
                    >
                      Instellen annuleren
                    </button>
                  </div>
                </form>
              ) : (
                <form method="post" action="/instellingen/tweede-factor/start" class="kd-narrow">
                  <CsrfField token={s.csrfToken} />
                  <p class="utrecht-paragraph">
                    De tweede factor staat uit. Beveilig uw account met een code uit een authenticator-app.
                  </p>
                  <CurrentPassword id="start-wachtwoord" error={error} />
                  <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                    Tweede factor instellen
                  </button>
                </form>
              )}
            </section>
            <section aria-labelledby="api-tokens">
              <h2 class="utrecht-heading-2" id="api-tokens">
                API-tokens
              </h2>
              <p class="utrecht-paragraph">
                {s.user.role === 'operator'
                  ? 'Beheerderstokens geven toegang tot het aanleveren van berichten en de quarantaine.'
                  : 'Met een API-token haalt de BI-omgeving van uw organisatie de bestanden op.'}{' '}
                Zie de{' '}
                <a class="utrecht-link" href="/api/v1/openapi.json">
                  beschrijving van de API (OpenAPI)
                </a>
                .
              </p>
              {made && created?.token ? (
                <div class="utrecht-alert utrecht-alert--ok" role="status">
                  <p class="utrecht-paragraph">
                    Nieuw token ‘{made.name}’ (wordt maar één keer getoond; bewaar het nu):
                  </p>
                  <code class="kd-code" data-testid="nieuw-token">
                    {created.token}
                  </code>
                </div>
              ) : made ? (
                <Alert kind="info">
                  Het token ‘{made.name}’ is aangemaakt. Het wordt maar één keer getoond en is hier niet meer
                  op te vragen. Bent u het kwijt? Trek het dan in en maak een nieuw token aan.
                </Alert>
              ) : null}
              {revoking ? (
                <Confirm
                  id="intrekken-bevestigen"
                  level={3}
                  title="Token intrekken"
                  question={`Weet u zeker dat u token ‘${revoking.name}’ wilt intrekken? Wie het token gebruikt, kan daarna niets meer ophalen.`}
                  action={`/instellingen/tokens/${revoking.id}/intrekken`}
                  csrf={s.csrfToken}
                  confirm="Ja, intrekken"
                  cancel="/instellingen#api-tokens"
                />
              ) : null}
              {tokens.length > 0 ? (
                <ScrollTable
                  id="tokens"
                  caption="Actieve tokens"
                  head={
                    <>
                      <Th>Naam</Th>
                      <Th>Begint met</Th>
                      <Th>Gemaakt op</Th>
                      <Th>Laatst gebruikt</Th>
                      <Th>Actie</Th>
                    </>
                  }
                >
                  {tokens.map((t) => (
                    <tr class="utrecht-table__row">
                      <td class="utrecht-table__cell">{t.name}</td>
                      <td class="utrecht-table__cell">
                        <code>{t.prefix}…</code>
                      </td>
                      <td class="utrecht-table__cell">{formatDateTime(t.created_at)}</td>
                      <td class="utrecht-table__cell">{formatDateTime(t.last_used_at)}</td>
                      <td class="utrecht-table__cell">
                        <a
                          class="utrecht-link"
                          href={`/instellingen?intrekken=${t.id}#intrekken-bevestigen`}
                          aria-label={`Token ${t.name} intrekken`}
                        >
                          Intrekken
                        </a>
                      </td>
                    </tr>
                  ))}
                </ScrollTable>
              ) : (
                <p class="utrecht-paragraph">Er zijn geen actieve tokens.</p>
              )}
              {s.user.role === 'operator' ? null : (
                <>
                  <p class="utrecht-paragraph">Voorbeeld: de leveringen opvragen met een token.</p>
                  <code class="kd-code" data-testid="api-voorbeeld">
                    {`curl -H "Authorization: Bearer <token>" ${publicOrigin(c)}/api/v1/deliveries`}
                  </code>
                </>
              )}
              <form method="post" action="/instellingen/tokens" class="kd-narrow">
                <CsrfField token={s.csrfToken} />
                <Field
                  id="token-naam"
                  name="name"
                  label="Naam van het nieuwe token"
                  required
                  value={tokenName}
                  error={errorAt(error, 'token-naam')}
                  description={
                    s.user.role === 'operator' ? 'Bijvoorbeeld: Hub-koppeling.' : 'Bijvoorbeeld: BI-omgeving.'
                  }
                />
                <CurrentPassword id="token-wachtwoord" error={error} />
                <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                  Token aanmaken
                </button>
              </form>
            </section>
          </>
        )}
      </Layout>,
      status,
    );
  };

  app.get('/instellingen', async (c) => {
    const id = Number(c.req.query('aangemaakt'));
    // Hono answers HEAD with this handler too: only a GET (the page shown) uses up the one showing.
    const created = Number.isSafeInteger(id)
      ? {
          id,
          token:
            c.req.method === 'GET'
              ? await newTokens.take(c.var.deps, flashKey(c, id), c.var.deps.clock())
              : undefined,
        }
      : undefined;
    return render(c, NOTICES[c.req.query('melding') ?? ''], created);
  });

  const settings = (c: Context<AppEnv>, what: string) => {
    const s = c.var.session!;
    return c.var.deps.audit.record(
      {
        actor: s.user.email,
        organisation: s.user.organisationCode,
        action: 'settings.change',
        detail: { what },
      },
      c.var.deps.clock(),
    );
  };

  app.post('/instellingen/wachtwoord', async (c) => {
    const body = await c.req.parseBody();
    const forced = c.var.session!.user.passwordTemporary;
    let sessionToken: string | undefined;
    try {
      const { store, clock } = c.var.deps;
      sessionToken = await changePassword(
        store.db,
        c.var.session!,
        str(body.current),
        str(body.next),
        clock(),
      );
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const form = 'Wachtwoord wijzigen';
      const error: FormError =
        err.code === 'accounts.weak_password'
          ? { form, text: 'Het nieuwe wachtwoord moet minstens 12 tekens hebben.', field: 'nieuw' }
          : err.code === 'accounts.same_password'
            ? { form, text: 'Kies een ander wachtwoord dan het huidige.', field: 'nieuw' }
            : err.code === 'accounts.throttled'
              ? { form, text: TOO_MANY_ATTEMPTS, field: 'huidig' }
              : { form, text: 'Het huidige wachtwoord is onjuist.', field: 'huidig' };
      return render(c, error, undefined, 400);
    }
    // This session ended (logged out meanwhile): nothing changed.
    if (!sessionToken) return c.redirect('/inloggen', 303);
    // The session of the old password has ended: the new one's cookie, as at a login.
    setSessionCookie(c, sessionToken);
    await settings(c, 'password');
    if (!forced) return c.redirect('/instellingen?melding=wachtwoord', 303);
    const next = localPath(c.req.query('next'));
    return c.redirect(
      `/instellingen?melding=eigen-wachtwoord${next ? `&next=${encodeURIComponent(next)}` : ''}`,
      303,
    );
  });

  /** Throws `accounts.wrong_password` or `accounts.throttled` unless the form holds the current password. */
  const confirmCurrentPassword = async (c: Context<AppEnv>, body: Record<string, unknown>) => {
    const { store, clock } = c.var.deps;
    await confirmPassword(store.db, c.var.session!.user.id, str(body.password), clock());
  };

  // Both steps ask the password: whoever starts an enrolment knows its secret, and the pending one is shown.
  app.post('/instellingen/tweede-factor/start', async (c) => {
    const body = await c.req.parseBody();
    try {
      await confirmCurrentPassword(c, body);
      await beginTotp(c.var.deps.store.db, c.var.deps.totpKeys, c.var.session!.user.id);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const form = 'Tweede factor instellen';
      const error = currentPasswordError(form, 'start-wachtwoord', err.code) ?? {
        form,
        text: 'De tweede factor staat aan. Zet hem eerst uit met uw wachtwoord.',
      };
      return render(c, error, undefined, 400);
    }
    return c.redirect('/instellingen#tweede-factor', 303);
  });

  app.post('/instellingen/tweede-factor/bevestigen', async (c) => {
    const body = await c.req.parseBody();
    try {
      await confirmCurrentPassword(c, body);
      const { store, totpKeys, clock } = c.var.deps;
      const s = c.var.session!;
      await confirmTotp(store.db, totpKeys, s.user.id, str(body.code), clock(), s.id);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const form = 'Tweede factor aanzetten';
      const error = currentPasswordError(form, 'totp-wachtwoord', err.code) ?? {
        form,
        text: 'De code is onjuist. Probeer het opnieuw.',
        field: 'totp-code',
      };
      return render(c, error, undefined, 400);
    }
    await settings(c, 'totp_on');
    return c.redirect('/instellingen?melding=tweede-factor-aan', 303);
  });

  app.post('/instellingen/tweede-factor/annuleren', async (c) => {
    await cancelTotpEnrolment(c.var.deps.store.db, c.var.session!.user.id);
    return c.redirect('/instellingen?melding=tweede-factor-geannuleerd#tweede-factor', 303);
  });

  app.post('/instellingen/tweede-factor/uitzetten', async (c) => {
    const body = await c.req.parseBody();
    try {
      const { store, clock } = c.var.deps;
      await disableTotp(store.db, c.var.session!.user.id, str(body.password), clock());
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const form = 'Tweede factor uitzetten';
      const error = currentPasswordError(form, 'uit-wachtwoord', err.code) ?? {
        form,
        text: 'Uw huidige wachtwoord is onjuist.',
        field: 'uit-wachtwoord',
      };
      return render(c, error, undefined, 400);
    }
    await settings(c, 'totp_off');
    return c.redirect('/instellingen?melding=tweede-factor-uit', 303);
  });

  app.post('/instellingen/tokens', async (c) => {
    const s = c.var.session!;
    const body = await c.req.parseBody();
    const owner =
      s.user.role === 'operator'
        ? ({ scope: 'operator', organisationCode: null } as const)
        : ({ scope: 'organisation', organisationCode: s.user.organisationCode } as const);
    const name = str(body.name).trim().slice(0, 80);
    if (!name) {
      return render(
        c,
        {
          form: 'Token aanmaken',
          text: 'Geef het token een naam, bijvoorbeeld BI-omgeving.',
          field: 'token-naam',
        },
        undefined,
        400,
      );
    }
    try {
      await confirmCurrentPassword(c, body);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      // Said of this form (the page has three password fields), with the name kept for the next try.
      const form = `Token ‘${name}’ aanmaken`;
      const error = currentPasswordError(form, 'token-wachtwoord', err.code) ?? {
        form,
        text: 'Niet gelukt.',
      };
      return render(c, error, undefined, 400, name);
    }
    const { token, row } = await createApiToken(
      c.var.deps.store.db,
      owner,
      name,
      s.user.id,
      c.var.deps.clock(),
    );
    await c.var.deps.audit.record(
      {
        actor: s.user.email,
        organisation: s.user.organisationCode,
        action: 'settings.token_create',
        detail: { tokenId: row.id },
      },
      c.var.deps.clock(),
    );
    // Post/Redirect/Get: a reload or the back button must not post the form again (a second token). The
    // secret waits server-side for this session's next page; the URL names only the token's id.
    await newTokens.put(c.var.deps, flashKey(c, row.id), token, c.var.deps.clock());
    return c.redirect(`/instellingen?aangemaakt=${row.id}#api-tokens`, 303);
  });

  app.post('/instellingen/tokens/:id/intrekken', async (c) => {
    const s = c.var.session!;
    const id = Number(c.req.param('id'));
    const scopeOrg = s.user.role === 'operator' ? null : s.user.organisationCode;
    const ok =
      Number.isSafeInteger(id) &&
      (await revokeApiToken(c.var.deps.store.db, id, scopeOrg, c.var.deps.clock()));
    if (!ok) return c.notFound();
    await c.var.deps.audit.record(
      {
        actor: s.user.email,
        organisation: s.user.organisationCode,
        action: 'settings.token_revoke',
        detail: { tokenId: id },
      },
      c.var.deps.clock(),
    );
    return c.redirect('/instellingen?melding=ingetrokken', 303);
  });

  return app;
}
