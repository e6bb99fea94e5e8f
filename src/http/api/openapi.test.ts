import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { portalHarness } from '../../../test/e2e/harness.js';
import { getDelivery } from '../../store/deliveries.js';
import { addOrganisation } from '../../usecases/organisations.js';

// Sunday 1 March 2026 07:00 Amsterdam: the weekly slot of that morning has passed.
const AFTER_FIRST_RUN = new Date('2026-03-01T06:30:00Z');
const MONDAY = new Date('2026-03-02T08:00:00Z');
const JW301 = readFileSync('test/fixtures/istandaarden/ijw-voorbeelden/JW301.xml');

interface Operation {
  readonly responses: Record<string, unknown>;
}
type Doc = { paths: Record<string, Record<string, Operation | unknown[]>> };
type Schema = {
  required: string[];
  properties: Record<string, { format?: string; nullable?: boolean; pattern?: string }>;
};

/** Who calls: no token, an unknown one, an operator's, or the token of an organisation. */
type Caller = 'none' | 'unknown' | 'operator' | 'org' | 'head' | 'inactive' | 'lost';

/** The portal on a fresh store, its deliveries of the first run and a token for every kind of caller. */
async function apiWorld() {
  const h = await portalHarness('sqlite');
  await h.seed();
  // Registered, never activated: no deliveries, no history request.
  await addOrganisation(h.store, { code: '0050', name: 'Nog Niet', actor: 'test', now: MONDAY });
  const report = await h.deliver(AFTER_FIRST_RUN);
  h.clock.now = MONDAY;
  const idOf = (org: string) => report.made.find((d) => d.organisation === org)!.id;
  const token = (org: string | null) => h.apiToken(org, `t-${org}`);
  const tokens: Record<Caller, string | undefined> = {
    none: undefined,
    unknown: 'kd_nope',
    operator: await token(null),
    org: await token('0363'),
    head: await token('REGIO01'),
    inactive: await token('0050'),
    // 0599's only delivery has lost its file on the server.
    lost: await token('0599'),
  };
  const lost = (await getDelivery(h.store.db, idOf('0599')))!;
  rmSync(join(h.dataDir, lost.file));
  const ids = { own: idOf('0363'), other: idOf('REGIO01'), lost: lost.id };
  const doc = (await (await h.app.request('/api/v1/openapi.json')).json()) as Doc;
  const call = (
    method: string,
    path: string,
    as: Caller,
    init: { body?: string | Buffer; type?: string; range?: string; encoding?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (init.range) headers.Range = init.range;
    if (init.encoding) headers['Content-Encoding'] = init.encoding;
    if (tokens[as]) headers.Authorization = `Bearer ${tokens[as]}`;
    if (init.type) headers['Content-Type'] = init.type;
    return h.app.request(`/api/v1${path}`, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
  };
  const documented = (method: string, path: string): string[] => {
    const op = doc.paths[path]?.[method.toLowerCase()] as Operation | undefined;
    return op ? Object.keys(op.responses) : [];
  };
  /** The headers the document lists for one answer (following a `$ref` to a shared response). */
  const documentedHeaders = (method: string, path: string, status: number): string[] => {
    const op = doc.paths[path]?.[method.toLowerCase()] as Operation | undefined;
    let res = op?.responses[String(status)] as
      | { $ref?: string; headers?: Record<string, unknown> }
      | undefined;
    if (res?.$ref) {
      const shared = (doc as unknown as { components: { responses: Record<string, typeof res> } }).components
        .responses;
      res = shared[res.$ref.replace('#/components/responses/', '')];
    }
    return Object.keys(res?.headers ?? {}).map((n) => n.toLowerCase());
  };
  return { h, ids, doc, call, documented, documentedHeaders };
}

/** The answer's error object, if it has one (a HEAD has no body). */
async function errorOf(res: Response): Promise<{ code: string; message: string } | undefined> {
  const text = await res.text();
  if (!text || !(res.headers.get('Content-Type') ?? '').includes('json')) return undefined;
  return (JSON.parse(text) as { error?: { code: string; message: string } }).error;
}

/** Headers of this API's own (not those of HTTP at large) that the document must list where they are sent. */
const OWN_HEADERS = ['repr-digest', 'content-range', 'etag', 'accept-ranges', 'ketendata-deliveries'];

/** A message that tells the API client to run a command only the operator has. */
const CLI_HINT = /\bketendata [a-z]/;

describe('the OpenAPI document against the API it describes', () => {
  let w: Awaited<ReturnType<typeof apiWorld>>;
  beforeAll(async () => {
    w = await apiWorld();
  });

  it('has a handler for every documented operation, whoever calls, and documents what each caller gets', async () => {
    const operations = Object.entries(w.doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => m !== 'parameters')
        .map((m) => ({ method: m.toUpperCase(), path })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(12);
    for (const { method, path } of operations) {
      for (const as of ['none', 'operator', 'org'] as const) {
        const what = `${method} ${path} as ${as}`;
        const res = await w.call(method, path.replace('{id}', String(w.ids.own)), as);
        const error = await errorOf(res);
        // Unknown routes end in the catch-all: 404 `api.no_such_endpoint` (a HEAD of one: a bare 404).
        if (method === 'HEAD') expect(res.status, what).not.toBe(404);
        expect(error?.code, what).not.toBe('api.no_such_endpoint');
        expect(w.documented(method, path), what).toContain(String(res.status));
      }
    }
  });
});

describe('every status the API answers is in the OpenAPI document', () => {
  let w: Awaited<ReturnType<typeof apiWorld>>;
  beforeAll(async () => {
    w = await apiWorld();
  });

  /**
   * One call per row, in order (some change what the next one sees): the path as documented, who calls, the
   * status and, for an error, its code. `{id}` is 0363's delivery unless `id` names another.
   */
  type Case = {
    method: string;
    path: string;
    as: Caller;
    status: number;
    code?: string;
    id?: 'other' | 'lost';
    body?: () => string | Buffer;
    type?: string;
    range?: string;
    encoding?: string;
  };
  /** An operator token where an organisation's is needed. */
  const operatorRefused = (method: string, path: string): Case => ({
    method,
    path,
    as: 'operator',
    status: 403,
    code: 'api.organisation_token_required',
  });
  const cases: readonly Case[] = [
    { method: 'GET', path: '/deliveries', as: 'none', status: 401, code: 'api.unauthorized' },
    { method: 'GET', path: '/deliveries', as: 'unknown', status: 401, code: 'api.unauthorized' },
    operatorRefused('GET', '/deliveries'),
    { method: 'GET', path: '/deliveries', as: 'org', status: 200 },
    operatorRefused('GET', '/deliveries/{id}'),
    { method: 'GET', path: '/deliveries/{id}', as: 'none', status: 401 },
    { method: 'GET', path: '/deliveries/{id}', as: 'org', status: 200 },
    { method: 'GET', path: '/deliveries/{id}', as: 'org', id: 'other', status: 404, code: 'api.not_found' },
    { method: 'HEAD', path: '/deliveries/{id}/file', as: 'none', status: 401 },
    { method: 'HEAD', path: '/deliveries/{id}/file', as: 'operator', status: 403 },
    { method: 'HEAD', path: '/deliveries/{id}/file', as: 'org', status: 200 },
    { method: 'HEAD', path: '/deliveries/{id}/file', as: 'org', id: 'other', status: 404 },
    { method: 'HEAD', path: '/deliveries/{id}/file', as: 'lost', id: 'lost', status: 500 },
    operatorRefused('GET', '/deliveries/{id}/file'),
    { method: 'GET', path: '/deliveries/{id}/file', as: 'none', status: 401 },
    { method: 'GET', path: '/deliveries/{id}/file', as: 'org', id: 'other', status: 404 },
    {
      method: 'GET',
      path: '/deliveries/{id}/file',
      as: 'lost',
      id: 'lost',
      status: 500,
      code: 'delivery.file_missing',
    },
    // Part of the file (resuming a download): not the whole of it, so not recorded as a download.
    { method: 'GET', path: '/deliveries/{id}/file', as: 'org', range: 'bytes=0-9', status: 206 },
    {
      method: 'GET',
      path: '/deliveries/{id}/file',
      as: 'org',
      range: 'bytes=999999999-',
      status: 416,
      code: 'delivery.range_not_satisfiable',
    },
    {
      method: 'GET',
      path: '/deliveries/{id}/file',
      as: 'org',
      range: 'bytes=99999999999999999999-',
      status: 416,
      code: 'delivery.range_not_satisfiable',
    },
    operatorRefused('DELETE', '/deliveries/{id}'),
    { method: 'DELETE', path: '/deliveries/{id}', as: 'none', status: 401 },
    // Not downloaded yet: not deleted, and said so.
    { method: 'DELETE', path: '/deliveries/{id}', as: 'org', status: 409, code: 'delivery.not_downloaded' },
    { method: 'GET', path: '/deliveries/{id}/file', as: 'org', status: 200 },
    { method: 'DELETE', path: '/deliveries/{id}', as: 'org', status: 204 },
    // Deleted: listed with deletedAt, its file gone for good, a retried DELETE done already.
    { method: 'GET', path: '/deliveries/{id}', as: 'org', status: 200 },
    { method: 'GET', path: '/deliveries/{id}/file', as: 'org', status: 410, code: 'delivery.deleted' },
    { method: 'HEAD', path: '/deliveries/{id}/file', as: 'org', status: 410 },
    { method: 'DELETE', path: '/deliveries/{id}', as: 'org', status: 204 },
    {
      method: 'DELETE',
      path: '/deliveries/{id}',
      as: 'org',
      id: 'other',
      status: 404,
      code: 'api.not_found',
    },
    operatorRefused('POST', '/deliveries/download-new'),
    { method: 'POST', path: '/deliveries/download-new', as: 'none', status: 401 },
    {
      method: 'POST',
      path: '/deliveries/download-new',
      as: 'lost',
      status: 500,
      code: 'delivery.file_missing',
    },
    { method: 'POST', path: '/deliveries/download-new', as: 'head', status: 200 },
    { method: 'POST', path: '/deliveries/download-new', as: 'head', status: 204 },
    { method: 'GET', path: '/history-request', as: 'none', status: 401 },
    operatorRefused('GET', '/history-request'),
    { method: 'GET', path: '/history-request', as: 'org', status: 200 },
    operatorRefused('POST', '/history-request'),
    { method: 'POST', path: '/history-request', as: 'none', status: 401 },
    {
      method: 'POST',
      path: '/history-request',
      as: 'org',
      body: () => '{"from":"2021-01-01"}',
      type: 'application/json',
      status: 400,
      code: 'api.bad_request',
    },
    { method: 'POST', path: '/history-request', as: 'inactive', status: 409, code: 'organisation.inactive' },
    // What else an organisation not activated yet gets: nothing yet, and no error.
    { method: 'GET', path: '/deliveries', as: 'inactive', status: 200 },
    { method: 'POST', path: '/deliveries/download-new', as: 'inactive', status: 204 },
    { method: 'GET', path: '/history-request', as: 'inactive', status: 200 },
    { method: 'DELETE', path: '/history-request', as: 'inactive', status: 404, code: 'api.not_found' },
    { method: 'GET', path: '/indicators', as: 'inactive', status: 200 },
    operatorRefused('DELETE', '/history-request'),
    { method: 'DELETE', path: '/history-request', as: 'none', status: 401 },
    { method: 'DELETE', path: '/history-request', as: 'org', status: 404, code: 'api.not_found' },
    { method: 'POST', path: '/history-request', as: 'org', status: 202 },
    { method: 'DELETE', path: '/history-request', as: 'org', status: 200 },
    { method: 'GET', path: '/indicators', as: 'none', status: 401 },
    operatorRefused('GET', '/indicators'),
    { method: 'GET', path: '/indicators', as: 'org', status: 200 },
    { method: 'POST', path: '/exchanges', as: 'none', status: 401, code: 'api.unauthorized' },
    { method: 'POST', path: '/exchanges', as: 'unknown', status: 401, code: 'api.unauthorized' },
    {
      method: 'POST',
      path: '/exchanges',
      as: 'org',
      body: () => JW301,
      type: 'application/xml',
      status: 403,
      code: 'api.operator_token_required',
    },
    {
      method: 'POST',
      path: '/exchanges',
      as: 'operator',
      body: () => 'null',
      type: 'application/json',
      status: 400,
      code: 'api.bad_request',
    },
    {
      method: 'POST',
      path: '/exchanges',
      as: 'operator',
      body: () => '{"xml": 1}',
      type: 'application/json',
      status: 400,
      code: 'api.bad_request',
    },
    {
      method: 'POST',
      path: '/exchanges',
      as: 'operator',
      body: () => Buffer.alloc(20 * 1024 * 1024 + 1, 32),
      type: 'application/xml',
      status: 413,
      code: 'api.too_large',
    },
    {
      method: 'POST',
      path: '/exchanges?hubId=H1',
      as: 'operator',
      body: () => JW301,
      type: 'application/xml',
      status: 400,
      code: 'api.moment_required',
    },
    {
      method: 'POST',
      path: '/exchanges?hubid=H1&moment=2026-03-02T07:00:00Z',
      as: 'operator',
      body: () => JW301,
      type: 'application/xml',
      status: 400,
      code: 'api.bad_request',
    },
    {
      method: 'POST',
      path: '/exchanges?hubId=H1&moment=2026-03-02T07:00:00Z',
      as: 'operator',
      body: () => JW301,
      type: 'application/xml',
      encoding: 'gzip',
      status: 415,
      code: 'api.unsupported_encoding',
    },
    {
      method: 'POST',
      path: '/exchanges?hubId=H1&moment=2026-03-02T07:00:00Z',
      as: 'operator',
      body: () => JW301,
      type: 'application/xml',
      status: 201,
    },
    {
      method: 'POST',
      path: '/exchanges?hubId=H1&moment=2026-03-02T07:00:00Z',
      as: 'operator',
      body: () => JW301,
      type: 'application/xml',
      status: 200,
    },
    {
      method: 'POST',
      path: '/exchanges?hubId=H2&moment=2026-03-02T07:00:00Z',
      as: 'operator',
      body: () => '<Bericht><niet-af>',
      type: 'application/xml',
      status: 202,
    },
    { method: 'GET', path: '/quarantine', as: 'none', status: 401 },
    { method: 'GET', path: '/quarantine', as: 'org', status: 403, code: 'api.operator_token_required' },
    { method: 'GET', path: '/quarantine', as: 'operator', status: 200 },
  ];

  it('answers each call as listed, with a status the document lists for that operation', async () => {
    for (const c of cases) {
      const path = c.path.replace('{id}', String(w.ids[c.id ?? 'own']));
      const what = `${c.method} ${path} as ${c.as}`;
      const res = await w.call(c.method, path, c.as, {
        ...(c.body ? { body: c.body() } : {}),
        ...(c.type ? { type: c.type } : {}),
        ...(c.range ? { range: c.range } : {}),
        ...(c.encoding ? { encoding: c.encoding } : {}),
      });
      expect(res.status, what).toBe(c.status);
      const error = await errorOf(res);
      if (c.code) expect(error?.code, what).toBe(c.code);
      // The code is in `code`: the message does not repeat it.
      if (error) expect(error.message.startsWith(error.code), `${what}: ${error.message}`).toBe(false);
      // Errors speak to the API client: no command of the operator's command line.
      expect(error?.message ?? '', what).not.toMatch(CLI_HINT);
      expect(w.documented(c.method, c.path.replace(/\?.*/, '')), what).toContain(String(c.status));
      // The API's own headers on an answer are documented for that answer.
      for (const name of OWN_HEADERS)
        if (res.headers.has(name))
          expect(
            w.documentedHeaders(c.method, c.path.replace(/\?.*/, ''), c.status),
            `${what}: ${name}`,
          ).toContain(name);
    }
  });

  it('sends Repr-Digest with the whole file only, as documented', async () => {
    const path = `/deliveries/${w.ids.other}/file`;
    for (const [method, range, status, digest] of [
      ['GET', undefined, 200, true],
      ['HEAD', undefined, 200, true],
      ['GET', 'bytes=0-9', 206, false],
    ] as const) {
      const res = await w.call(method, path, 'head', range ? { range } : {});
      await res.arrayBuffer();
      expect(res.status, `${method} ${range}`).toBe(status);
      expect(res.headers.has('repr-digest'), `${method} ${range}`).toBe(digest);
      expect(w.documentedHeaders(method, '/deliveries/{id}/file', status).includes('repr-digest')).toBe(
        digest,
      );
    }
  });

  it('answers a method a documented path lacks with 405 and the documented ones in Allow', async () => {
    const all = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
    for (const [path, ops] of Object.entries(w.doc.paths)) {
      const has = Object.keys(ops)
        .filter((m) => m !== 'parameters')
        .map((m) => m.toUpperCase());
      if (has.includes('GET')) has.push('HEAD');
      for (const method of all.filter((m) => !has.includes(m))) {
        const what = `${method} ${path}`;
        const as = path === '/exchanges' || path === '/quarantine' ? 'operator' : 'org';
        const res = await w.call(method, path.replace('{id}', String(w.ids.own)), as);
        expect(res.status, what).toBe(405);
        expect(new Set(res.headers.get('Allow')?.split(', ')), what).toEqual(new Set(has));
        if (method !== 'HEAD') expect((await errorOf(res))?.code, what).toBe('api.method_not_allowed');
      }
    }
    // The forgotten `-X POST`: not taken for a delivery id.
    const get = await w.call('GET', '/deliveries/download-new', 'org');
    expect(get.status).toBe(405);
    expect(get.headers.get('Allow')).toBe('POST');
  });

  it('lists deliveries as the Delivery schema says: every required field, date-times as date-times', async () => {
    const schema = (w.doc as unknown as { components: { schemas: Record<string, Schema> } }).components
      .schemas.Delivery!;
    const { deliveries } = (await (await w.call('GET', '/deliveries', 'org')).json()) as {
      deliveries: Record<string, unknown>[];
    };
    expect(deliveries.length).toBeGreaterThan(0);
    for (const d of deliveries) {
      expect(Object.keys(d).sort()).toEqual([...schema.required].sort());
      for (const [name, p] of Object.entries(schema.properties)) {
        const v = d[name];
        if (v === null) expect(p.nullable, name).toBe(true);
        else if (p.format === 'date-time')
          expect(v, name).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
        if (p.pattern && v !== null) expect(v, name).toMatch(new RegExp(p.pattern));
      }
    }
  });

  it('describes every field of a delivery, and when a download of one is recorded', () => {
    const { components, paths } = w.doc as unknown as {
      components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> };
      paths: Record<string, Record<string, { description?: string }>>;
    };
    const fields = components.schemas.Delivery!.properties;
    expect(
      Object.entries(fields)
        .filter(([, p]) => !p.description?.trim())
        .map(([name]) => name),
    ).toEqual([]);
    // Where a client writer looks: the field it would poll, and the operation it downloads with.
    for (const [what, text] of [
      ['firstDownloadedAt', fields.firstDownloadedAt!.description],
      ['GET /deliveries/{id}/file', paths['/deliveries/{id}/file']!.get!.description],
    ] as const) {
      expect(text, what).toContain('handed to the connection');
      expect(text, what).toContain('not stored by the client');
      expect(text, what).toMatch(/broke off may still be recorded.*download-new.*leaves that delivery out/);
      for (const advice of ['sizeBytes', 'unzip -t', 'SHA-256', 'GET /deliveries/{id}/file'])
        expect(text, what).toContain(advice);
    }
    // How to check a file against its digest, and that "all new" has none.
    expect(fields.sha256?.description).toContain('sha256sum');
    expect(paths['/deliveries/download-new']!.post!.description).toMatch(/No `Repr-Digest` header.*`sha256`/);
  });

  it('uses every response it defines, and lists 405 under every operation', () => {
    const doc = w.doc as unknown as { components: { responses: Record<string, unknown> } };
    const refs = new Set(JSON.stringify(w.doc.paths).match(/#\/components\/responses\/\w+/g));
    expect(
      Object.keys(doc.components.responses).filter((r) => !refs.has(`#/components/responses/${r}`)),
    ).toEqual([]);
    for (const [path, ops] of Object.entries(w.doc.paths))
      for (const [method, op] of Object.entries(ops))
        if (method !== 'parameters')
          expect(Object.keys((op as Operation).responses), `${method} ${path}`).toContain('405');
  });

  it('calls every documented operation at least once above', () => {
    const called = new Set(cases.map((c) => `${c.method} ${c.path.replace(/\?.*/, '')}`));
    const operations = Object.entries(w.doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => m !== 'parameters')
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.filter((o) => !called.has(o))).toEqual([]);
  });
});
