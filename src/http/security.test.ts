import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalHarness } from '../../test/e2e/harness.js';
import { listen, type RunningServer } from './server.js';

/** The headers securityHeaders() adds to every response. */
const SECURITY = [
  'cache-control',
  'content-security-policy',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'strict-transport-security',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'permissions-policy',
];

/**
 * Over a real server (@hono/node-server), not app.request(): Hono answers a HEAD with `new Response(null, res)`
 * of the GET's response, and the server's lightweight Response copies only the headers it was made with.
 */
describe('security headers on HEAD as on GET, over a real server', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  let server: RunningServer;
  let token: string;
  let id: number;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    const run = await h.deliver(new Date('2026-03-01T06:30:00Z'));
    id = run.made.find((d) => d.organisation === '0363')!.id;
    h.clock.now = new Date('2026-03-02T08:00:00Z');
    token = await h.apiToken('0363');
    server = await listen(h.app, '127.0.0.1', 0);
  });
  afterAll(async () => {
    await server?.close();
    await h?.drop();
  });

  it.each([
    ['an API list', '/api/v1/deliveries', true],
    ['the history state', '/api/v1/history-request', true],
    ['the OpenAPI document', '/api/v1/openapi.json', false],
    ['an API refusal without a token', '/api/v1/deliveries', false],
    ['an unknown API path', '/api/v1/bestaat-niet', false],
    ['a delivery file', '/api/v1/deliveries/{id}/file', true],
    ['the login page', '/inloggen', false],
    ['a portal page that redirects', '/ophalen', false],
  ])('%s (%s)', async (_what, path, withToken) => {
    const url = `${server.url}${path.replace('{id}', String(id))}`;
    const headers: Record<string, string> = withToken ? { Authorization: `Bearer ${token}` } : {};
    const get = await fetch(url, { headers, redirect: 'manual' });
    await get.arrayBuffer();
    const head = await fetch(url, { method: 'HEAD', headers, redirect: 'manual' });
    expect(head.status).toBe(get.status);
    expect(await head.text()).toBe('');
    const pick = (res: Response) =>
      Object.fromEntries(['content-type', ...SECURITY].map((k) => [k, res.headers.get(k)]));
    for (const k of SECURITY) expect(get.headers.get(k), `GET ${k}`).not.toBeNull();
    expect(pick(head)).toEqual(pick(get));
    // The file's own headers too: what a HEAD on it is for.
    if (path.endsWith('/file'))
      for (const k of ['content-length', 'content-disposition'])
        expect(head.headers.get(k), k).toBe(get.headers.get(k));
  });
});
