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
import { Alert, CsrfField, Field, Layout, TOO_MANY_ATTEMPTS } from './layout.js';
import { page } from './render.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Log in (password, then the TOTP code when the user has one) and log out. */
export function authRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const loginPage = (
    c: Context<AppEnv>,
    message?: { kind: 'error' | 'info'; text: string },
    status: 200 | 400 | 429 = 200,
    /** Typed before: kept after a failed attempt, so only the password is typed again. */
    email?: string,
  ) =>
    page(
      c,
      <Layout title="Inloggen" environmentLabel={c.var.deps.options.environmentLabel}>
        {message ? <Alert kind={message.kind}>{message.text}</Alert> : null}
        <form method="post" action="/inloggen" class="kd-narrow">
          <CsrfField token={csrfTokenFor(c)} />
          <Field
            id="email"
            name="email"
            label="E-mailadres"
            type="email"
            autocomplete="username"
            required
            value={email}
          />
          <Field
            id="wachtwoord"
            name="password"
            label="Wachtwoord"
            type="password"
            autocomplete="current-password"
            required
          />
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Inloggen
          </button>
        </form>
        <p class="utrecht-paragraph">
          Wachtwoord vergeten of de telefoon met de tweede factor kwijt? Neem contact op met de beheerder van
          Ketendata: die stelt een tijdelijk wachtwoord in of zet de tweede factor uit.
        </p>
      </Layout>,
      status,
    );

  app.get('/inloggen', (c) => {
    const s = c.var.session;
    if (s && !s.pendingSecondFactor) return c.redirect('/', 303);
    return c.req.query('melding') === 'verlopen'
      ? loginPage(c, { kind: 'info', text: 'Uw sessie is verlopen. Log opnieuw in.' })
      : loginPage(c);
  });

  app.post('/inloggen', async (c) => {
    const { store, clock, audit, totpKeys } = c.var.deps;
    const body = await c.req.parseBody();
    const now = clock();
    const email = str(body.email).trim().toLowerCase();
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
      return result.reason === 'throttled'
        ? loginPage(c, { kind: 'error', text: TOO_MANY_ATTEMPTS }, 429, email)
        : loginPage(c, { kind: 'error', text: 'E-mailadres of wachtwoord is onjuist.' }, 400, email);
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
    return c.redirect(result.pendingSecondFactor ? '/inloggen/code' : '/', 303);
  });

  const codePage = (c: Context<AppEnv>, error?: string, status: 200 | 400 | 429 | 500 = 200) =>
    page(
      c,
      <Layout title="Inlogcode" environmentLabel={c.var.deps.options.environmentLabel}>
        {error ? <Alert kind="error">{error}</Alert> : null}
        <form method="post" action="/inloggen/code" class="kd-narrow">
          <CsrfField token={csrfTokenFor(c)} />
          <Field
            id="code"
            name="code"
            label="Code uit uw authenticator-app"
            autocomplete="one-time-code"
            inputmode="numeric"
            required
            description="Zes cijfers; de code verandert elke 30 seconden."
          />
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Bevestigen
          </button>
        </form>
      </Layout>,
      status,
    );

  app.get('/inloggen/code', (c) => {
    const s = c.var.session;
    if (!s) return c.redirect('/inloggen', 303);
    if (!s.pendingSecondFactor) return c.redirect('/', 303);
    return codePage(c);
  });

  app.post('/inloggen/code', async (c) => {
    const s = c.var.session;
    if (!s) return c.redirect('/inloggen', 303);
    if (!s.pendingSecondFactor) return c.redirect('/', 303);
    const { store, clock, audit, totpKeys } = c.var.deps;
    const now = clock();
    const body = await c.req.parseBody();
    let outcome: 'invalid' | 'throttled' | 'key_unknown';
    try {
      const result = await verifySecondFactor(store.db, totpKeys, s, str(body.code), clientAddress(c), now);
      if (result.ok) {
        // The new session's cookie, as at a password login: the half-logged-in one has ended.
        setSessionCookie(c, result.sessionToken);
        await audit.record(
          { actor: s.user.email, organisation: s.user.organisationCode, action: 'auth.login' },
          now,
        );
        return c.redirect('/', 303);
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
    if (outcome === 'key_unknown')
      return codePage(
        c,
        'Uw code kan nu niet worden gecontroleerd. Probeer het later opnieuw of neem contact op met de beheerder.',
        500,
      );
    return outcome === 'throttled'
      ? codePage(c, 'Te veel onjuiste codes. Wacht een kwartier en probeer het opnieuw.', 429)
      : codePage(c, 'De code is onjuist. Probeer het opnieuw.', 400);
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
    return c.redirect('/inloggen', 303);
  });

  return app;
}
