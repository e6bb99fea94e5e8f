import type { Context } from 'hono';
import { Hono } from 'hono';
import { findUserByEmail } from '../../store/users.js';
import { login, logout, verifySecondFactor } from '../../usecases/accounts.js';
import { AccountError } from '../../usecases/accounts-errors.js';
import { csrfTokenFor } from '../csrf.js';
import type { AppEnv } from '../env.js';
import {
  clearSessionCookie,
  clientAddress,
  deviceCookie,
  setDeviceCookie,
  setSessionCookie,
} from '../session.js';
import {
  Alert,
  CsrfField,
  ErrorSummary,
  errorAt,
  Field,
  type FormError,
  Layout,
  localPath,
  TOO_MANY_ATTEMPTS,
} from './layout.js';
import { page } from './render.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Who asked for a page before logging in goes there after (`next`), carried as a hidden field. */
const NextField = (props: { next: string | undefined }) =>
  props.next ? <input type="hidden" name="next" value={props.next} /> : null;
const withNext = (path: string, next: string | undefined) =>
  next ? `${path}?next=${encodeURIComponent(next)}` : path;

const LOST_PHONE =
  'Telefoon met de tweede factor kwijt? Neem contact op met de beheerder van Ketendata: die zet de tweede factor uit.';
const LOST_DEVICE =
  'Wachtwoord vergeten of de telefoon met de tweede factor kwijt? Neem contact op met de beheerder van Ketendata: die stelt een tijdelijk wachtwoord in of zet de tweede factor uit.';

/** Log in (password, then the TOTP code when the user has one) and log out. */
export function authRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const loginPage = (
    c: Context<AppEnv>,
    message?: { kind: 'info'; text: string } | FormError,
    status: 200 | 400 | 429 = 200,
    /** Typed before: kept after a failed attempt, so only the password is typed again. */
    email?: string,
    next?: string,
  ) => {
    const error = message && 'form' in message ? message : undefined;
    return page(
      c,
      <Layout
        title="Inloggen"
        environmentLabel={c.var.deps.options.environmentLabel}
        error={error !== undefined}
      >
        {error ? (
          <ErrorSummary error={error} />
        ) : message && 'kind' in message ? (
          <Alert kind={message.kind}>{message.text}</Alert>
        ) : null}
        <form method="post" action="/inloggen" class="kd-narrow">
          <CsrfField token={csrfTokenFor(c)} />
          <NextField next={next} />
          <Field
            id="email"
            name="email"
            label="E-mailadres"
            type="email"
            autocomplete="username"
            required
            value={email}
            error={errorAt(error, 'email')}
          />
          <Field
            id="wachtwoord"
            name="password"
            label="Wachtwoord"
            type="password"
            autocomplete="current-password"
            required
            error={errorAt(error, 'wachtwoord')}
          />
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Inloggen
          </button>
        </form>
        <p class="utrecht-paragraph">{LOST_DEVICE}</p>
      </Layout>,
      status,
    );
  };

  const LOGIN_MESSAGES: Record<string, string> = {
    verlopen: 'Uw sessie is verlopen. Log opnieuw in.',
    uitgelogd: 'U bent uitgelogd.',
  };

  app.get('/inloggen', (c) => {
    const s = c.var.session;
    const next = localPath(c.req.query('next'));
    if (s && !s.pendingSecondFactor) return c.redirect(next ?? '/', 303);
    const text = LOGIN_MESSAGES[c.req.query('melding') ?? ''];
    return loginPage(c, text ? { kind: 'info', text } : undefined, 200, undefined, next);
  });

  app.post('/inloggen', async (c) => {
    const { store, clock, audit, totpKeys } = c.var.deps;
    const body = await c.req.parseBody();
    const now = clock();
    const email = str(body.email).trim().toLowerCase();
    // Checked again here: the field comes from the client.
    const next = localPath(str(body.next));
    const result = await login(
      store.db,
      {
        email,
        password: str(body.password),
        address: clientAddress(c),
        ...(totpKeys.loginDevice ? { device: { key: totpKeys.loginDevice, cookie: deviceCookie(c) } } : {}),
      },
      now,
    );
    if (!result.ok) {
      await audit.record(
        {
          // An unknown address may be a mistyped password: it is not written down.
          actor: (await findUserByEmail(store.db, email)) ? email : 'onbekend',
          organisation: null,
          action: 'auth.login_failed',
          detail: { reason: result.reason },
        },
        now,
      );
      // Said at the password: the address is kept, the password is what is typed again.
      return result.reason === 'throttled'
        ? loginPage(c, { form: 'Inloggen', text: TOO_MANY_ATTEMPTS, field: 'wachtwoord' }, 429, email, next)
        : loginPage(
            c,
            { form: 'Inloggen', text: 'E-mailadres of wachtwoord is onjuist.', field: 'wachtwoord' },
            400,
            email,
            next,
          );
    }
    if (c.var.session) await logout(store.db, c.var.session.id);
    setSessionCookie(c, result.sessionToken);
    if (result.deviceCookie) setDeviceCookie(c, result.deviceCookie);
    await audit.record(
      {
        actor: result.user.email,
        organisation: result.user.organisationCode,
        action: result.pendingSecondFactor ? 'auth.password_ok' : 'auth.login',
      },
      now,
    );
    return c.redirect(result.pendingSecondFactor ? withNext('/inloggen/code', next) : (next ?? '/'), 303);
  });

  const codePage = (
    c: Context<AppEnv>,
    next: string | undefined,
    error?: FormError,
    status: 200 | 400 | 429 | 500 = 200,
  ) =>
    page(
      c,
      <Layout
        title="Inlogcode"
        environmentLabel={c.var.deps.options.environmentLabel}
        error={error !== undefined}
      >
        {error ? <ErrorSummary error={error} /> : null}
        <form method="post" action="/inloggen/code" class="kd-narrow">
          <CsrfField token={csrfTokenFor(c)} />
          <NextField next={next} />
          <Field
            id="code"
            name="code"
            label="Code uit uw authenticator-app"
            autocomplete="one-time-code"
            inputmode="numeric"
            required
            description="Zes cijfers; de code verandert elke 30 seconden."
            error={errorAt(error, 'code')}
          />
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Code bevestigen
          </button>
        </form>
        <p class="utrecht-paragraph">{LOST_PHONE}</p>
        <p class="utrecht-paragraph">
          <a class="utrecht-link" href={withNext('/inloggen', next)}>
            Terug naar inloggen
          </a>
        </p>
      </Layout>,
      status,
    );

  app.get('/inloggen/code', (c) => {
    const s = c.var.session;
    if (!s) return c.redirect('/inloggen', 303);
    const next = localPath(c.req.query('next'));
    if (!s.pendingSecondFactor) return c.redirect(next ?? '/', 303);
    return codePage(c, next);
  });

  app.post('/inloggen/code', async (c) => {
    const s = c.var.session;
    if (!s) return c.redirect('/inloggen', 303);
    if (!s.pendingSecondFactor) return c.redirect('/', 303);
    const { store, clock, audit, totpKeys } = c.var.deps;
    const now = clock();
    const body = await c.req.parseBody();
    const next = localPath(str(body.next));
    let outcome: 'invalid' | 'used' | 'throttled' | 'key_unknown';
    try {
      const result = await verifySecondFactor(store.db, totpKeys, s, str(body.code), clientAddress(c), now);
      if (result.ok) {
        // The new session's cookie, as at a password login: the half-logged-in one has ended.
        setSessionCookie(c, result.sessionToken);
        await audit.record(
          { actor: s.user.email, organisation: s.user.organisationCode, action: 'auth.login' },
          now,
        );
        return c.redirect(next ?? '/', 303);
      }
      outcome = result.reason;
    } catch (err) {
      if (!(err instanceof AccountError && err.code === 'accounts.totp_key_unknown')) throw err;
      // For the operator: the master secret changed and raw-rekey has not run yet.
      console.error(`http: ${c.req.method} ${c.req.path} failed: ${err.code}: ${err.message}`);
      outcome = 'key_unknown';
    }
    await audit.record(
      {
        actor: s.user.email,
        organisation: s.user.organisationCode,
        action: 'auth.login_failed',
        detail: { reason: `totp_${outcome}` },
      },
      now,
    );
    const form = 'Inlogcode';
    if (outcome === 'key_unknown')
      return codePage(
        c,
        next,
        {
          form,
          text: 'Uw code kan nu niet worden gecontroleerd. Probeer het later opnieuw of neem contact op met de beheerder.',
        },
        500,
      );
    if (outcome === 'throttled')
      return codePage(
        c,
        next,
        { form, text: 'Te veel onjuiste codes. Wacht een kwartier en probeer het opnieuw.', field: 'code' },
        429,
      );
    return outcome === 'used'
      ? codePage(
          c,
          next,
          { form, text: 'Deze code is al gebruikt; wacht op de volgende code.', field: 'code' },
          400,
        )
      : codePage(c, next, { form, text: 'De code is onjuist. Probeer het opnieuw.', field: 'code' }, 400);
  });

  app.post('/uitloggen', async (c) => {
    const s = c.var.session;
    if (s) {
      await logout(c.var.deps.store.db, s.id);
      await c.var.deps.audit.record(
        { actor: s.user.email, organisation: s.user.organisationCode, action: 'auth.logout' },
        c.var.deps.clock(),
      );
    }
    clearSessionCookie(c);
    // In the address as "verlopen" is: after a logout no session is left to keep a message under.
    return c.redirect(s ? '/inloggen?melding=uitgelogd' : '/inloggen', 303);
  });

  return app;
}
