import { createApp } from '../../src/http/app.js';
import { trustedProxies } from '../../src/http/client-address.js';
import type { AppDeps } from '../../src/http/deps.js';
import { flashKeyOf } from '../../src/http/flash.js';
import { hubFeed } from '../../src/http/launch.js';
import { auditPort, deliveriesPort, indicatorsPort, operatorPort } from '../../src/http/wiring.js';
import { deriveKeys } from '../../src/pseudonymise/keys.js';
import type { Dialect } from '../../src/store/database.js';
import type { Store } from '../../src/store/open.js';
import { createApiToken, createUser } from '../../src/usecases/accounts.js';
import { runDue } from '../../src/usecases/deliver.js';
import { activateOrganisation, addOrganisation } from '../../src/usecases/organisations.js';
import { freshStore } from '../support/databases.js';

export const PASSWORD = 'correct horse battery staple';
export const SECRET = 'test-secret-test-secret-test-secret-0123';

/**
 * A portal on a fresh store with two municipalities and a head organisation, one user each and an operator;
 * time is a settable clock. Used by the app tests (through app.request) and the browser tests.
 */
export async function portalHarness(
  dialect: Dialect,
  opts: { secureCookies?: boolean; trustedProxies?: readonly string[] } = {},
) {
  const fresh = await freshStore(dialect);
  const { store, dataDir } = fresh;
  const clock = { now: new Date('2026-02-23T09:00:00Z') };
  const keys = deriveKeys(SECRET);
  const deps: AppDeps = {
    store,
    clock: () => clock.now,
    options: {
      secureCookies: opts.secureCookies ?? true,
      ...(opts.trustedProxies ? { trustedProxies: trustedProxies(opts.trustedProxies) } : {}),
    },
    deliveries: deliveriesPort({ store, dataDir }),
    operator: operatorPort({ store, dataDir, keys }),
    audit: auditPort(store),
    indicators: indicatorsPort({ store, dataDir }),
    totpKeys: keys,
    flashKey: flashKeyOf(keys),
    exchangesApi: hubFeed(store, keys, () => clock.now),
  };
  const app = createApp(deps);
  const deliver = (at: Date) => runDue({ store, dataDir, organisationKey: (c) => keys.organisation(c) }, at);
  return {
    ...fresh,
    app,
    deps,
    clock,
    deliver,
    /** A new API token's secret: an organisation's (its code), or the operator's (null), made now. */
    async apiToken(organisationCode: string | null, name = 'BI'): Promise<string> {
      const scope = organisationCode === null ? 'operator' : 'organisation';
      return (await createApiToken(store.db, { scope, organisationCode }, name, null, clock.now)).token;
    },
    async seed() {
      const now = clock.now;
      await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now });
      await addOrganisation(store, { code: '0599', name: 'Rotterdam', actor: 'test', now });
      await addOrganisation(store, {
        code: 'REGIO01',
        name: 'Regio Een',
        members: ['0363', '0599'],
        actor: 'test',
        now,
      });
      for (const code of ['0363', '0599', 'REGIO01'])
        await activateOrganisation(store, { code, actor: 'test', now });
      await addUsers(store, now);
    },
  };
}

export async function addUsers(store: Store, now: Date) {
  const users = [
    { email: 'ana@0363.example', displayName: 'Ana', organisationCode: '0363' },
    { email: 'bas@0599.example', displayName: 'Bas', organisationCode: '0599' },
    { email: 'cor@regio.example', displayName: 'Cor', organisationCode: 'REGIO01' },
  ];
  for (const u of users) await createUser(store.db, { ...u, password: PASSWORD, role: 'user' }, now);
  await createUser(
    store.db,
    {
      email: 'beheer@example',
      displayName: 'Beheerder',
      password: PASSWORD,
      role: 'operator',
      organisationCode: null,
    },
    now,
  );
}

/**
 * A minimal cookie jar for app.request(). `connection`: the socket's address as the Node server reports it,
 * and an X-Forwarded-For header sent with every request (as a proxy would add it, or a client forge it).
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    private readonly app: {
      request: (url: string, init?: RequestInit, env?: object) => Response | Promise<Response>;
    },
    private readonly connection: { readonly remoteAddress?: string; readonly forwardedFor?: string } = {},
  ) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('Cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (this.connection.forwardedFor) headers.set('X-Forwarded-For', this.connection.forwardedFor);
    const { remoteAddress } = this.connection;
    const res = await this.app.request(
      `http://localhost${path}`,
      { ...init, headers, redirect: 'manual' },
      remoteAddress ? { incoming: { socket: { remoteAddress } } } : undefined,
    );
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** GETs a page and returns its HTML and the CSRF token of its first form. */
  async page(path: string): Promise<{ res: Response; html: string; csrf: string | undefined }> {
    const res = await this.fetch(path);
    const html = await res.text();
    return { res, html, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] };
  }

  post(path: string, fields: Record<string, string | string[]>): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields))
      for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.fetch(path, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
  }

  async login(email: string, password = PASSWORD): Promise<Response> {
    const { csrf } = await this.page('/inloggen');
    return this.post('/inloggen', { _csrf: csrf ?? '', email, password });
  }
}
