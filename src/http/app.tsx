import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../store/database.js';
import { verifyApiToken } from '../usecases/accounts.js';
import { DeliveryError } from '../usecases/deliveries-errors.js';
import { apiV1, logRevokedUse } from './api/v1.js';
import { assets } from './assets.js';
import { csrfProtection } from './csrf.js';
import type { AppDeps } from './deps.js';
import type { AppEnv } from './env.js';
import { authRoutes } from './portal/auth.js';
import { beheerRoutes, CORRECTED_UPLOAD_PATH, MAX_CORRECTED_BYTES } from './portal/beheer.js';
import { dashboardRoutes } from './portal/dashboard.js';
import { historieRoutes } from './portal/historie.js';
import { instellingenRoutes } from './portal/instellingen.js';
import { Layout } from './portal/layout.js';
import { ophalenRoutes } from './portal/ophalen.js';
import { page } from './portal/render.js';
import { securityHeaders } from './security.js';
import { loadSession, requireLogin } from './session.js';

const DELIVERY_ERROR_TEXT: Record<string, string> = {
  'organisation.inactive':
    'Uw organisatie is niet actief (nog niet geactiveerd, of gedeactiveerd). Neem contact op met de beheerder.',
  'organisation.not_found': 'Uw organisatie is niet geregistreerd. Neem contact op met de beheerder.',
  'delivery.file_missing': 'Dit bestand ontbreekt op de server. Neem contact op met de beheerder.',
};

/**
 * The same refusals as the API client reads them. The use cases' own messages are the operator's (they name
 * the command that fixes it); a municipality's BI pipeline gets what it can act on, in English as every API
 * error. `org` is the organisation of the token.
 */
const API_ERROR_TEXT: Record<string, (org: string) => string> = {
  'organisation.inactive': (org) =>
    `organisation ${org} is not active (not activated yet, or deactivated), so it receives no new deliveries and cannot request history: contact the operator of Ketendata`,
  'organisation.not_found': (org) =>
    `organisation ${org} is not registered: contact the operator of Ketendata`,
};

/** The largest form other than a corrected message: the longest is a selection of every delivery id. */
const MAX_FORM_BYTES = 256 * 1024;

/** How long /readyz waits for the store before it answers 503. */
const READY_TIMEOUT_MS = 2000;

/** Whether a trivial query answers in time; never throws (a late failure is swallowed too). */
async function storeAnswers(db: Kysely<Database>, ms: number): Promise<'ok' | 'error' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const query = sql`select 1`.execute(db).then(
    () => 'ok' as const,
    () => 'error' as const,
  );
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([query, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a client waits before it sends a request again that found the store busy (503 `store.busy`). */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLite: the database is locked by another writer past busy_timeout. PostgreSQL: serialization failure,
 * deadlock, lock not available (lock_timeout), admin or cannot-connect-now shutdown, too many connections;
 * and the class 08 connection exceptions.
 */
const BUSY_PG_CODES = new Set(['40001', '40P01', '55P03', '57P01', '57P03', '53300']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET']);
/**
 * node-postgres says so in words only: a connection lost mid-query or between two statements of a
 * transaction, no free connection in time.
 */
const PG_CONNECTION_LOST =
  /^(Connection terminated( unexpectedly)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)$/;

const errorCode = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'http.internal';
};

/**
 * Whether `err` says the store is busy or cannot be reached for now (not that the request or the code is
 * wrong): the same request may succeed when sent again. Looks into a `cause` and an AggregateError's errors
 * (a connect to every address of localhost).
 */
export function storeUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const code = errorCode(err);
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return true;
  // Class 08 is the connection's, but 08P01 (protocol violation) is a query the server will always refuse
  // (more than 65,535 parameters): a bug, not a wait.
  if (BUSY_PG_CODES.has(code) || UNREACHABLE_CODES.has(code)) return true;
  if (/^08[0-9A-Z]{3}$/.test(code) && code !== '08P01') return true;
  const { message, cause, errors } = err as { message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof message === 'string' && PG_CONNECTION_LOST.test(message)) return true;
  if (storeUnavailable(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((e) => storeUnavailable(e, depth + 1));
}

/** The whole HTTP surface: the Dutch portal (server-rendered), the JSON API and the CSS it needs. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', securityHeaders(deps.options.secureCookies));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });

  app.route('/assets', assets());
  // Asked for by browsers and tools that do not read the page's icon link.
  app.get('/favicon.ico', (c) => c.redirect('/assets/favicon.svg', 301));

  // For a service manager or load balancer: no session, no CSRF, no log line. /healthz says the process
  // answers; /readyz that the store does too. A failure says so in one line, never why in detail.
  app.get('/healthz', (c) => c.text('ok'));
  app.get('/readyz', async (c) => {
    const answer = await storeAnswers(deps.store.db, READY_TIMEOUT_MS);
    if (answer === 'ok') return c.text('ok');
    return c.text(
      answer === 'timeout'
        ? `not ready: the database did not answer within ${READY_TIMEOUT_MS / 1000} s`
        : 'not ready: the database cannot be reached',
      503,
    );
  });

  // API: token auth, no cookies, so no CSRF exposure.
  if (deps.exchangesApi) {
    const tokenScope = async (token: string) => {
      const owner = await verifyApiToken(deps.store.db, token, deps.clock());
      if (!owner) await logRevokedUse(deps, token, 'POST /api/v1/exchanges');
      return owner?.scope;
    };
    // The sub-app carries its full path (/api/v1/exchanges).
    app.route('/', deps.exchangesApi(tokenScope));
  }
  app.route('/api/v1', apiV1());
  // What the API does not know ends here as JSON, before the portal's session and form checks.
  app.all('/api/*', (c) =>
    c.json(
      { error: { code: 'api.no_such_endpoint', message: `no such endpoint: ${c.req.method} ${c.req.path}` } },
      404,
    ),
  );

  const portal = new Hono<AppEnv>();
  portal.use('*', loadSession());
  // Before the CSRF check, which reads the whole form. A corrected message (up to 10 MB) is the one large
  // form, and only an operator's: anyone else's form is a few KB, and reading 10 MB ones before any check let
  // an anonymous client keep the portal busy.
  const tooLarge = (text: string) => (c: Context<AppEnv>) =>
    page(
      c,
      <Layout title="Te groot" session={c.var.session} csrf={c.var.session?.csrfToken}>
        <p class="utrecht-paragraph">{text}</p>
      </Layout>,
      413,
    );
  const uploadLimit = bodyLimit({
    maxSize: MAX_CORRECTED_BYTES + 64 * 1024,
    onError: tooLarge('Wat u verstuurde is te groot. Een bericht is hooguit 10 MB.'),
  });
  const formLimit = bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: tooLarge('Wat u verstuurde is te groot voor dit formulier.'),
  });
  portal.use('*', (c, next) => {
    const s = c.var.session;
    const upload =
      c.req.path === CORRECTED_UPLOAD_PATH && s?.user.role === 'operator' && !s.pendingSecondFactor;
    return upload ? uploadLimit(c, next) : formLimit(c, next);
  });
  portal.use('*', csrfProtection());
  portal.get('/', requireLogin(), (c) =>
    c.redirect(c.var.session?.user.role === 'operator' ? '/beheer' : '/ophalen', 303),
  );
  portal.route('/', authRoutes());
  for (const path of ['/ophalen', '/ophalen/*', '/historie', '/historie/*', '/dashboard'])
    portal.use(path, requireLogin('user'));
  for (const path of ['/beheer', '/beheer/*']) portal.use(path, requireLogin('operator'));
  for (const path of ['/instellingen', '/instellingen/*']) portal.use(path, requireLogin());
  portal.route('/', ophalenRoutes());
  portal.route('/', historieRoutes());
  portal.route('/', dashboardRoutes());
  portal.route('/', instellingenRoutes());
  portal.route('/', beheerRoutes());
  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: { code: 'api.no_such_endpoint', message: 'no such endpoint' } }, 404)
      : page(
          c,
          <Layout title="Pagina niet gevonden" session={c.var.session} csrf={c.var.session?.csrfToken}>
            <p class="utrecht-paragraph">
              Deze pagina bestaat niet.{' '}
              <a class="utrecht-link" href="/">
                Naar de startpagina
              </a>
            </p>
          </Layout>,
          404,
        ),
  );

  app.route('/', portal);

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    // Use-case errors carry a dotted code and their HTTP status; their messages name codes and ids only.
    if (err instanceof DeliveryError && err.status !== 403) {
      if (err.status === 500) console.error(`http: ${c.req.method} ${c.req.path} failed: ${err.message}`);
      if (c.req.path.startsWith('/api/')) {
        const text = API_ERROR_TEXT[err.code];
        // The answer has the code in `code`: its message does not repeat it.
        const own = err.message.startsWith(`${err.code}: `)
          ? err.message.slice(err.code.length + 2)
          : err.message;
        const message = text ? text(c.var.apiOwner?.organisationCode ?? 'of this token') : own;
        return c.json({ error: { code: err.code, message } }, err.status);
      }
      const text = DELIVERY_ERROR_TEXT[err.code] ?? 'Dit kan nu niet.';
      return page(
        c,
        <Layout title="Niet gelukt" session={c.var.session} csrf={c.var.session?.csrfToken}>
          <p class="utrecht-paragraph">
            {text}{' '}
            <a class="utrecht-link" href="/">
              Naar de startpagina
            </a>
          </p>
        </Layout>,
        err.status === 404 || err.status === 500 ? err.status : 400,
      );
    }
    // A store busy or unreachable for now: the same request may succeed when sent again. 503, not 500: a
    // load balancer or monitor tells a passing outage from a bug by it (docs/operations.md).
    if (storeUnavailable(err)) {
      console.error(
        `http: ${c.req.method} ${c.req.path} failed: store busy or unavailable: ${errorCode(err)}`,
      );
      c.header('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
      if (!c.req.path.startsWith('/api/')) {
        return c.html(
          '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Even niet beschikbaar — Ketendata</title></head><body><main><h1>Even niet beschikbaar</h1><p>Ketendata kan zijn gegevens nu niet bereiken. Probeer het over een paar minuten opnieuw.</p></main></body></html>',
          503,
        );
      }
      return c.json(
        {
          error: {
            code: 'store.busy',
            message: `the store is busy or unavailable for now: send the same request again in ${STORE_RETRY_AFTER_SECONDS} seconds`,
          },
        },
        503,
      );
    }
    // Anything else is a bug: log its code, never echo it (it might carry data from a message).
    const code = errorCode(err);
    console.error(`http: ${c.req.method} ${c.req.path} failed: ${code}: ${err.message}`);
    if (c.req.path.startsWith('/api/')) return c.json({ error: { code, message: 'internal error' } }, 500);
    return c.html(
      '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Fout — Ketendata</title></head><body><main><h1>Er ging iets mis</h1><p>Probeer het later opnieuw.</p></main></body></html>',
      500,
    );
  });
  return app;
}
