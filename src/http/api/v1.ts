import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { verifyApiToken } from '../../usecases/accounts.js';
import type { DeliveryView } from '../deps.js';
import type { AppEnv } from '../env.js';
import { sendDeliveryFile, sendFile } from '../portal/ophalen.js';
import { openApiDocument } from './openapi.js';

type C = Context<AppEnv>;

const problem = (c: C, status: 400 | 401 | 403 | 404, code: string, message: string) =>
  c.json({ error: { code, message } }, status);

/** Bearer-token authentication; the token decides the organisation (or operator scope). */
function tokenAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('Authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const owner = match
      ? await verifyApiToken(c.var.deps.store.db, match[1] as string, c.var.deps.clock())
      : undefined;
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
  madeAt: d.madeAt,
  availableAt: d.availableAt,
  sizeBytes: d.sizeBytes,
  fileName: d.fileName,
  firstDownloadedAt: d.firstDownloadedAt,
  firstDownloadedBy: d.firstDownloadedBy,
  firstDownloadedByName: d.firstDownloadedByName,
  deletedAt: d.deletedAt,
  expiresAt: d.expiresAt,
});

/** JSON API under /api/v1. */
export function apiV1(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  // Middleware is scoped by path: sub-apps mounted on '/' share one router.
  const org = app;
  const orgOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!orgOf(c))
      return problem(c, 403, 'api.organisation_token_required', 'this endpoint needs an organisation token');
    await next();
  };
  for (const path of ['/deliveries', '/deliveries/*', '/history-request', '/indicators'])
    org.use(path, tokenAuth(), orgOnly);

  org.get('/deliveries', async (c) => {
    const list = await c.var.deps.deliveries.list(orgOf(c)!, c.var.deps.clock());
    return c.json({ deliveries: list.map(toJson) });
  });

  org.post('/deliveries/download-new', async (c) => {
    const file = await c.var.deps.deliveries.openAllNew(orgOf(c)!, actorOf(c), c.var.deps.clock());
    if (!file) return c.body(null, 204);
    return sendFile(c, file);
  });

  const idParam = (c: C): number | undefined => {
    const raw = c.req.param('id') ?? '';
    const id = Number(raw);
    return /^[1-9]\d*$/.test(raw) && Number.isSafeInteger(id) ? id : undefined;
  };

  org.get('/deliveries/:id', async (c) => {
    const id = idParam(c);
    const list = id ? await c.var.deps.deliveries.list(orgOf(c)!, c.var.deps.clock()) : [];
    const d = list.find((x) => x.id === id);
    return d ? c.json(toJson(d)) : problem(c, 404, 'api.not_found', 'no such delivery');
  });

  org.get('/deliveries/:id/file', async (c) => {
    const id = idParam(c);
    const missing = () => problem(c, 404, 'api.not_found', 'no such delivery');
    return id ? sendDeliveryFile(c, orgOf(c)!, id, actorOf(c), missing) : missing();
  });

  org.delete('/deliveries/:id', async (c) => {
    const id = idParam(c);
    const deleted = id
      ? await c.var.deps.deliveries.remove(orgOf(c)!, [id], actorOf(c), c.var.deps.clock())
      : [];
    return deleted.length
      ? c.body(null, 204)
      : problem(c, 404, 'api.not_found', 'no such delivery, or not downloaded yet');
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

  return app;
}
