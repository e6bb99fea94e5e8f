import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, PASSWORD, portalHarness } from '../../test/e2e/harness.js';
import { listAudit } from '../store/audit.js';
import { listApiTokens } from '../usecases/accounts.js';
import { NEW_TOKEN_TTL_MS } from './portal/instellingen.js';

const TOKEN = /data-testid="nieuw-token">([^<]+)</;
const SHOWN_BEFORE = 'Het wordt maar één keer getoond en is hier niet meer op te vragen.';

describe('Instellingen: making an API token is Post/Redirect/Get', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
  });
  afterAll(async () => h.drop());
  afterEach(() => vi.restoreAllMocks());

  const tokensOf0363 = async () => (await listApiTokens(h.store.db, '0363')).length;

  const loggedIn = async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const { csrf } = await b.page('/instellingen');
    return { b, csrf: csrf! };
  };

  it('redirects (303) after making a token and shows its secret once, to this session only', async () => {
    const output = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    const { b, csrf } = await loggedIn();
    const { b: otherTab } = await loggedIn();
    const before = await tokensOf0363();

    const res = await b.post('/instellingen/tokens', {
      _csrf: csrf,
      name: 'BI-omgeving',
      password: PASSWORD,
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('Location')!;
    expect(location).toMatch(/^\/instellingen\?aangemaakt=\d+#api-tokens$/);
    expect(await res.text()).not.toContain('kd_');
    expect(await tokensOf0363()).toBe(before + 1);

    // Another session of the same user neither sees the secret nor uses up its one showing.
    const other = (await otherTab.page(location)).html;
    expect(other).not.toMatch(TOKEN);
    expect(other).toContain(`Het token ‘BI-omgeving’ is aangemaakt. ${SHOWN_BEFORE}`);

    const shown = await b.page(location);
    expect(shown.res.status).toBe(200);
    expect(shown.html).toContain('Nieuw token ‘BI-omgeving’ (wordt maar één keer getoond; bewaar het nu):');
    const token = TOKEN.exec(shown.html)?.[1];
    expect(token).toMatch(/^kd_/);
    expect(location).not.toContain(token);
    const api = await h.app.request('/api/v1/deliveries', { headers: { Authorization: `Bearer ${token}` } });
    expect(api.status).toBe(200);

    // A reload shows it no more and makes no second token.
    const reload = await b.page(location);
    expect(reload.html).not.toContain(token);
    expect(reload.html).toContain(SHOWN_BEFORE);
    expect((await b.page('/instellingen')).html).not.toContain(token);
    expect(await tokensOf0363()).toBe(before + 1);

    // Not in the audit log, not on the console.
    const audit = await listAudit(h.store.db, { organisation: '0363' });
    expect(audit.some((a) => a.action === 'settings.token_create')).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(token);
    for (const spy of output) expect(JSON.stringify(spy.mock.calls)).not.toContain(token);
  });

  it('keeps the one showing for the page itself: a HEAD request (a link checker, a proxy) does not use it up', async () => {
    const { b, csrf } = await loggedIn();
    const res = await b.post('/instellingen/tokens', { _csrf: csrf, name: 'Kop', password: PASSWORD });
    const location = res.headers.get('Location')!;
    const head = await b.fetch(location, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(TOKEN.exec((await b.page(location)).html)?.[1]).toMatch(/^kd_/);
  });

  it('keeps an unshown secret for five minutes only', async () => {
    const { b, csrf } = await loggedIn();
    const res = await b.post('/instellingen/tokens', { _csrf: csrf, name: 'Laat', password: PASSWORD });
    expect(res.status).toBe(303);
    const start = h.clock.now;
    try {
      h.clock.now = new Date(start.getTime() + NEW_TOKEN_TTL_MS + 1000);
      const late = (await b.page(res.headers.get('Location')!)).html;
      expect(late).not.toMatch(TOKEN);
      expect(late).toContain(`Het token ‘Laat’ is aangemaakt. ${SHOWN_BEFORE}`);
    } finally {
      h.clock.now = start;
    }
  });

  it('answers a failed attempt with the form and its error, as before: no redirect, no token', async () => {
    const { b, csrf } = await loggedIn();
    const before = await tokensOf0363();
    const wrong = await b.post('/instellingen/tokens', { _csrf: csrf, name: 'BI', password: 'fout' });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('Location')).toBeNull();
    expect(await wrong.text()).toContain('Uw huidige wachtwoord is onjuist.');
    const forged = await b.post('/instellingen/tokens', { _csrf: 'fout', name: 'BI', password: PASSWORD });
    expect(forged.status).toBe(403);
    expect(await tokensOf0363()).toBe(before);
  });

  it('ignores an id in the address that is not a token of this organisation', async () => {
    // A token of another organisation: its id in 0363's address names nothing of it.
    const bas = new Browser(h.app);
    await bas.login('bas@0599.example');
    const { csrf: basCsrf } = await bas.page('/instellingen');
    const made = await bas.post('/instellingen/tokens', {
      _csrf: basCsrf!,
      name: 'Geheim-0599',
      password: PASSWORD,
    });
    const theirs = /aangemaakt=(\d+)/.exec(made.headers.get('Location') ?? '')?.[1];
    expect(theirs).toMatch(/^\d+$/);
    const { b } = await loggedIn();
    const page = await b.page(`/instellingen?aangemaakt=${theirs}`);
    expect(page.html).not.toContain('Geheim-0599');
    expect(page.html).not.toMatch(TOKEN);
    expect(page.html).not.toContain('is aangemaakt');
    for (const q of ['999999', 'abc', '', '1e3']) {
      const page = await b.page(`/instellingen?aangemaakt=${q}`);
      expect(page.res.status, q).toBe(200);
      expect(page.html, q).not.toContain('is aangemaakt');
    }
  });
});

describe('Instellingen: the curl example names the address the portal is reached at', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    // A plain-http test install (--insecure-cookies) behind a proxy at 127.0.0.1.
    h = await portalHarness('sqlite', { secureCookies: false, trustedProxies: ['127.0.0.1'] });
    await h.seed();
  });
  afterAll(async () => h.drop());

  /** The origin in the example, for a request to `url` from `remoteAddress` with `headers`. */
  const exampleOrigin = async (
    b: Browser,
    o: { url?: string; remoteAddress?: string; headers?: Record<string, string> } = {},
  ) => {
    const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await h.app.request(
      o.url ?? 'http://localhost/instellingen',
      { headers: { ...o.headers, Cookie: cookie } },
      o.remoteAddress ? { incoming: { socket: { remoteAddress: o.remoteAddress } } } : undefined,
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('curl -H &quot;Authorization: Bearer &lt;token&gt;&quot; ');
    return /data-testid="api-voorbeeld">[^<]* (\S+)\/api\/v1\/deliveries</.exec(html)?.[1];
  };

  it('says http:// on plain http and https:// over TLS', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    expect(await exampleOrigin(b)).toBe('http://localhost');
    expect(await exampleOrigin(b, { url: 'http://127.0.0.1:3000/instellingen' })).toBe(
      'http://127.0.0.1:3000',
    );
    expect(await exampleOrigin(b, { url: 'https://ketendata.example/instellingen' })).toBe(
      'https://ketendata.example',
    );
  });

  it('believes X-Forwarded-Proto from a trusted proxy only', async () => {
    const b = new Browser(h.app);
    await b.login('ana@0363.example');
    const https = { 'X-Forwarded-Proto': 'https' };
    expect(await exampleOrigin(b, { remoteAddress: '127.0.0.1', headers: https })).toBe('https://localhost');
    expect(await exampleOrigin(b, { remoteAddress: '::ffff:127.0.0.1', headers: https })).toBe(
      'https://localhost',
    );
    // The outermost proxy's value, as it wrote it.
    expect(
      await exampleOrigin(b, { remoteAddress: '127.0.0.1', headers: { 'X-Forwarded-Proto': 'HTTPS, http' } }),
    ).toBe('https://localhost');
    expect(
      await exampleOrigin(b, { remoteAddress: '127.0.0.1', headers: { 'X-Forwarded-Proto': 'http' } }),
    ).toBe('http://localhost');
    expect(
      await exampleOrigin(b, { remoteAddress: '127.0.0.1', headers: { 'X-Forwarded-Proto': 'javascript' } }),
    ).toBe('http://localhost');
    // From any other address anyone can send the header.
    expect(await exampleOrigin(b, { remoteAddress: '192.0.2.10', headers: https })).toBe('http://localhost');
    expect(await exampleOrigin(b, { headers: https })).toBe('http://localhost');
  });
});

describe('Instellingen: the curl example with Secure cookies', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
  });
  afterAll(async () => h.drop());

  it('says https:// behind a TLS proxy not listed as trusted: the browser sent the Secure cookie over https', async () => {
    const b = new Browser(h.app, { remoteAddress: '10.0.0.2' });
    await b.login('ana@0363.example');
    expect((await b.page('/instellingen')).html).toContain(
      'curl -H &quot;Authorization: Bearer &lt;token&gt;&quot; https://localhost/api/v1/deliveries',
    );
  });
});
