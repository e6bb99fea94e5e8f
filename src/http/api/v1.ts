import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { revokedApiToken, verifyApiToken } from '../../usecases/accounts.js';
import type { AppDeps, DeliveryView } from '../deps.js';
import type { AppEnv } from '../env.js';
import { sendDeliveryFile, sendFile } from '../portal/ophalen.js';
import { downloadSlots, requestRateLimit } from './limits.js';
import { openApiDocument } from './openapi.js';

type C = Context<AppEnv>;

const problem = (
  c: C,
  status: 400 | 401 | 403 | 404 | 405 | 409 | 410 | 416 | 500,
  code: string,
  message: string,
  headers?: Record<string, string>,
) => c.json({ error: { code, message } }, status, headers);

/** How often the log names one revoked token still in use: a script calling every minute is one line an hour. */
const REVOKED_USE_LOG_MS = 60 * 60 * 1000;
const revokedUseLogged = new Map<number, number>();

/** Logs a request with a revoked token, at most once an hour per token (never the token itself; its name quoted, a line break in it escaped). */
export async function logRevokedUse(
  deps: Pick<AppDeps, 'store' | 'clock'>,
  token: string,
  request: string,
): Promise<void> {
  const revoked = await revokedApiToken(deps.store.db, token);
  if (!revoked) return;
  const now = deps.clock().getTime();
  const last = revokedUseLogged.get(revoked.id);
  if (last !== undefined && now - last < REVOKED_USE_LOG_MS && now >= last) return;
  revokedUseLogged.set(revoked.id, now);
  console.error(
    `api: revoked API token ${revoked.id} (${JSON.stringify(revoked.name)}, ${revoked.organisationCode ? `organisation ${revoked.organisationCode}` : 'operator'}, revoked ${revoked.revokedAt}) is still used (${request}): the script or tool behind it gets 401 until it has a new token`,
  );
}

/** Bearer-token authentication; the token decides the organisation (or operator scope). */
function tokenAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('Authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const owner = match
      ? await verifyApiToken(c.var.deps.store.db, match[1] as string, c.var.deps.clock())
      : undefined;
    if (!owner && match) await logRevokedUse(c.var.deps, match[1] as string, `${c.req.method} ${c.req.path}`);
    if (!owner) {
      c.header('WWW-Authenticate', 'Bearer');
      return problem(c, 401, 'api.unauthorized', 'missing, unknown or revoked API token');
    }
    c.set('apiOwner', owner);
    await next();
  };
}

const orgOf = (c: C): string | undefined => {
  const o = c.var.apiOwner;
  return o?.scope === 'organisation' ? (o.organisationCode ?? undefined) : undefined;
};
const actorOf = (c: C) => `token:${c.var.apiOwner?.id}`;

const toJson = (d: DeliveryView) => ({
  id: d.id,
  kind: d.kind,
  periodFrom: d.periodFrom,
  periodTo: d.periodTo,
  // A weekly that holds more than the data since the one before (added fields: scripts that append weeks).
  firstWeekly: d.firstWeekly,
  catchUp: d.catchUp,
  madeAt: d.madeAt,
  availableAt: d.availableAt,
  sizeBytes: d.sizeBytes,
  messageCount: d.messageCount,
  personalDataLeftOut: d.personalDataLeftOut,
  fileName: d.fileName,
  sha256: d.sha256,
  firstDownloadedAt: d.firstDownloadedAt,
  firstDownloadedBy: d.firstDownloadedBy,
  firstDownloadedByName: d.firstDownloadedByName,
  deletedAt: d.deletedAt,
  expiresAt: d.expiresAt,
});

/** JSON API under /api/v1. */
export function apiV1(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  /** 405 for a path of this app (or the exchanges app, mounted ahead of it), naming the methods it has. */
  const methodNotAllowed = (c: C, path: string) => {
    const methods = new Set(
      app.routes.filter((r) => r.path === path && r.method !== 'ALL').map((r) => r.method),
    );
    if (path === '/exchanges') methods.add('POST'); // served by exchanges.ts
    if (methods.has('GET')) methods.add('HEAD');
    const allow = [...methods].join(', ');
    return problem(
      c,
      405,
      'api.method_not_allowed',
      `${c.req.method} is not allowed here; allowed: ${allow}`,
      {
        Allow: allow,
      },
    );
  };

  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  // Middleware is scoped by path: sub-apps mounted on '/' share one router.
  const org = app;
  const orgOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!orgOf(c))
      return problem(c, 403, 'api.organisation_token_required', 'this endpoint needs an organisation token');
    await next();
  };
  // Per organisation token, in this process: one client's loop or parallel fetches must not slow the rest.
  const rateLimit = requestRateLimit();
  const download = downloadSlots();
  // '/deliveries/*' matches '/deliveries' too: listing both ran the token check and the limit twice.
  for (const path of ['/deliveries/*', '/history-request', '/indicators'])
    org.use(path, tokenAuth(), orgOnly, rateLimit);

  org.get('/deliveries', async (c) => {
    const list = await c.var.deps.deliveries.list(orgOf(c)!, c.var.deps.clock());
    return c.json({ deliveries: list.map(toJson) });
  });

  org.post('/deliveries/download-new', download, async (c) => {
    const file = await c.var.deps.deliveries.openAllNew(orgOf(c)!, actorOf(c), c.var.deps.clock());
    if (!file) return c.body(null, 204);
    // Which deliveries it holds: a script whose download broke off fetches exactly those again by id.
    if (file.deliveryIds) c.header('Ketendata-Deliveries', file.deliveryIds.join(','));
    return sendFile(c, file);
  });
  // Before '/deliveries/:id', which would take a GET of it (a forgotten -X POST) for an unknown id.
  org.all('/deliveries/download-new', (c) => methodNotAllowed(c, '/deliveries/download-new'));

  const idParam = (c: C): number | undefined => {
    const raw = c.req.param('id') ?? '';
    const id = Number(raw);
    return /^[1-9]\d*$/.test(raw) && Number.isSafeInteger(id) ? id : undefined;
  };

  /** The organisation's own delivery as listed (deleted ones included, expired ones not). */
  const listed = async (c: C, id: number | undefined) =>
    id
      ? (await c.var.deps.deliveries.list(orgOf(c)!, c.var.deps.clock())).find((x) => x.id === id)
      : undefined;
  // The same body for an id of another organisation as for one that never existed.
  const noSuchDelivery = (c: C) =>
    problem(c, 404, 'api.not_found', 'no such delivery, not ready yet, or expired');

  org.get('/deliveries/:id', async (c) => {
    const d = await listed(c, idParam(c));
    return d ? c.json(toJson(d)) : noSuchDelivery(c);
  });

  org.get('/deliveries/:id/file', download, async (c) => {
    const id = idParam(c);
    // Not served: a deleted one is named as such (its listing stays), so a retrying script can stop.
    const missing = async () => {
      const d = await listed(c, id);
      return d?.deletedAt
        ? problem(
            c,
            410,
            'delivery.deleted',
            `delivery ${d.id} was deleted at ${d.deletedAt}; its file is gone`,
          )
        : noSuchDelivery(c);
    };
    const unsatisfiable = (headers: Record<string, string>) => {
      const { 'Content-Type': _type, 'Content-Disposition': _name, ...rest } = headers;
      return problem(
        c,
        416,
        'delivery.range_not_satisfiable',
        `the range asked for lies outside the file (${rest['Content-Range']})`,
        rest,
      );
    };
    return id ? sendDeliveryFile(c, orgOf(c)!, id, actorOf(c), missing, unsatisfiable) : missing();
  });

  org.delete('/deliveries/:id', async (c) => {
    const id = idParam(c);
    const deleted = id
      ? await c.var.deps.deliveries.remove(orgOf(c)!, [id], actorOf(c), c.var.deps.clock())
      : [];
    if (deleted.length) return c.body(null, 204);
    const d = await listed(c, id);
    // Deleted before (a retried DELETE): what was asked is done.
    if (d?.deletedAt) return c.body(null, 204);
    // A file nobody fetched stays: the delivery exists, so say why, not "no such delivery".
    if (d && !d.firstDownloadedAt)
      return problem(
        c,
        409,
        'delivery.not_downloaded',
        `delivery ${d.id} has not been downloaded yet; only a downloaded delivery can be deleted`,
      );
    return noSuchDelivery(c);
  });

  org.get('/history-request', async (c) =>
    c.json(await c.var.deps.deliveries.historyStatus(orgOf(c)!, c.var.deps.clock())),
  );

  // Takes no parameters: an empty body or `{}`. Anything else is refused, so a client that believes it
  // sends options (a period, a kind) learns that they are not honoured.
  org.post(
    '/history-request',
    bodyLimit({
      maxSize: 1024,
      onError: (c) =>
        problem(c, 400, 'api.bad_request', 'this endpoint takes no body, or an empty JSON object'),
    }),
    async (c) => {
      const text = (await c.req.text()).trim();
      if (text !== '') {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return problem(c, 400, 'api.bad_request', 'body is not valid JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          return problem(c, 400, 'api.bad_request', 'body must be an empty JSON object');
        const unknown = Object.keys(body);
        if (unknown.length > 0)
          return problem(
            c,
            400,
            'api.bad_request',
            `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: this endpoint takes no fields`,
          );
      }
      return c.json(
        await c.var.deps.deliveries.requestHistory(orgOf(c)!, actorOf(c), c.var.deps.clock()),
        202,
      );
    },
  );

  // Withdraws a request not yet served, as unticking "Aanmaken totaalbestand" in the portal does.
  org.delete('/history-request', async (c) => {
    const { deliveries, clock } = c.var.deps;
    const org = orgOf(c)!;
    if ((await deliveries.historyStatus(org, clock())).requestedAt === null)
      return problem(c, 404, 'api.not_found', 'no history request is pending');
    return c.json(await deliveries.cancelHistory(org, actorOf(c), clock()));
  });

  // Aggregates only (counts, medians, sums): the same numbers as the portal's Dashboard tab.
  org.get('/indicators', async (c) =>
    c.json(await c.var.deps.indicators.snapshot(orgOf(c)!, c.var.deps.clock())),
  );

  const operatorOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.var.apiOwner?.scope !== 'operator')
      return problem(c, 403, 'api.operator_token_required', 'this endpoint needs an operator token');
    await next();
  };
  app.get('/quarantine', tokenAuth(), operatorOnly, async (c) =>
    c.json({ quarantine: await c.var.deps.operator.quarantine(1000) }),
  );

  // A known path with a method it lacks: 405 with the methods it has. Registered last, so only what no
  // handler above answered ends here.
  const paths = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => r.path));
  for (const path of [...paths, '/exchanges']) app.all(path, (c) => methodNotAllowed(c, path));
  // No path of the API at all: its own code, so a client does not take a typo for a delivery not found.
  app.all('*', (c) =>
    problem(c, 404, 'api.no_such_endpoint', `no such endpoint: ${c.req.method} ${c.req.path}`),
  );
  return app;
}
