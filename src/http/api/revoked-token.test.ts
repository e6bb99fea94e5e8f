import { afterEach, describe, expect, it, vi } from 'vitest';
import { portalHarness } from '../../../test/e2e/harness.js';
import { revokeApiToken } from '../../usecases/accounts.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a request with a revoked API token', () => {
  it('is refused, and the log names the token (not its secret) once an hour, so a forgotten script is found', async () => {
    const h = await portalHarness('sqlite');
    try {
      await h.seed();
      const token = await h.apiToken('0363', 'BI-omgeving');
      const hub = await h.apiToken(null, 'hub');
      const ids = await h.store.db.selectFrom('api_token').select(['id', 'name']).orderBy('id').execute();
      const bi = ids.find((t) => t.name === 'BI-omgeving')!.id;
      const hubId = ids.find((t) => t.name === 'hub')!.id;
      expect(await revokeApiToken(h.store.db, bi, '0363', h.clock.now)).toBe(true);
      expect(await revokeApiToken(h.store.db, hubId, null, h.clock.now)).toBe(true);
      const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const get = (t: string) =>
        h.app.request('/api/v1/deliveries', { headers: { Authorization: `Bearer ${t}` } });
      expect((await get(token)).status).toBe(401);
      expect((await get(token)).status).toBe(401);
      expect((await get('kd_onbekend')).status).toBe(401);
      const lines = log.mock.calls.map((c) => String(c[0]));
      expect(lines).toEqual([
        `api: revoked API token ${bi} ("BI-omgeving", organisation 0363, revoked ${h.clock.now.toISOString()}) is still used (GET /api/v1/deliveries): the script or tool behind it gets 401 until it has a new token`,
      ]);
      expect(lines.join('\n')).not.toContain(token);
      // An hour later it is said again; the hub feed's token is named as well.
      h.clock.now = new Date(h.clock.now.getTime() + 3_600_000);
      expect((await get(token)).status).toBe(401);
      const post = await h.app.request('/api/v1/exchanges?hubId=X1&moment=2026-03-02T07:00:00Z', {
        method: 'POST',
        body: '<x/>',
        headers: { Authorization: `Bearer ${hub}`, 'Content-Type': 'application/xml' },
      });
      expect(post.status).toBe(401);
      expect(
        log.mock.calls.map((c) => String(c[0]).replace(/\(.*?\) is still used \((.*?)\).*/, '$1')),
      ).toEqual([
        `api: revoked API token ${bi} GET /api/v1/deliveries`,
        `api: revoked API token ${bi} GET /api/v1/deliveries`,
        `api: revoked API token ${hubId} POST /api/v1/exchanges`,
      ]);
      // A name with a line break in it writes one line, not a forged second one.
      const odd = await h.apiToken('0363', "nachtelijk')\napi: VERVALST");
      const oddId = (
        await h.store.db.selectFrom('api_token').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()
      ).id;
      await revokeApiToken(h.store.db, oddId, '0363', h.clock.now);
      await get(odd);
      const last = String(log.mock.calls.at(-1)?.[0]);
      expect(last).toContain(
        `api: revoked API token ${oddId} ("nachtelijk')\\napi: VERVALST", organisation 0363`,
      );
      expect(last).not.toContain('\n');
    } finally {
      await h.drop();
    }
  });
});
