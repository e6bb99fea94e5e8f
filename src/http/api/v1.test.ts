import { beforeAll, describe, expect, it } from 'vitest';
import { portalHarness } from '../../../test/e2e/harness.js';
import { DIALECTS } from '../../../test/support/databases.js';
import { ingestAt, testBsn } from '../../usecases/deliveries.fixtures.js';
import { activateOrganisation, addOrganisation, setMembers } from '../../usecases/organisations.js';

// Sunday 1 March 2026 07:00 Amsterdam: made this morning, listed from Monday 06:00.
const SUNDAY = new Date('2026-03-01T06:30:00Z');

/** The portal with the first run's deliveries made, the clock still on Sunday, and 0363's token. */
async function world() {
  const h = await portalHarness('sqlite');
  await h.seed();
  const report = await h.deliver(SUNDAY);
  h.clock.now = SUNDAY;
  const id = report.made.find((d) => d.organisation === '0363')!.id;
  const auth = { Authorization: `Bearer ${await h.apiToken('0363')}` };
  const call = (method: string, path: string, headers: Record<string, string> = auth) =>
    h.app.request(`/api/v1${path}`, { method, headers });
  return { h, id, auth, call };
}

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe('/api/v1 as an API client reads it', () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    w = await world();
  });

  it('says "not ready yet" in the 404 of a delivery made but not listed yet, as for one unknown', async () => {
    for (const [method, path] of [
      ['GET', `/deliveries/${w.id}`],
      ['GET', `/deliveries/${w.id}/file`],
      ['DELETE', `/deliveries/${w.id}`],
      ['GET', '/deliveries/999999'],
    ] as const) {
      const res = await w.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await errorOf(res), `${method} ${path}`).toEqual({
        code: 'api.not_found',
        message: 'no such delivery, not ready yet, or expired',
      });
    }
  });

  it('answers a path it does not have with api.no_such_endpoint, not the code of a delivery not found', async () => {
    for (const [path, headers] of [
      ['/bestaat-niet', {}],
      ['/deliveries/1/bestand', w.auth],
      ['/deliveries/download-new/1', w.auth],
    ] as const) {
      const res = await w.call('GET', path, headers);
      expect(res.status, path).toBe(404);
      expect(await errorOf(res), path).toEqual({
        code: 'api.no_such_endpoint',
        message: `no such endpoint: GET /api/v1${path}`,
      });
    }
    expect((await w.call('HEAD', '/bestaat-niet')).status).toBe(404);
  });
});

describe.each(DIALECTS)('the listing of a weekly that holds more than one week on %s', (dialect) => {
  it('marks a first weekly and names the members a weekly holds from the start; a plain week has neither', async () => {
    const h = await portalHarness(dialect);
    try {
      const now = h.clock.now; // Monday 23 February 2026
      await addOrganisation(h.store, {
        code: 'REGIO01',
        name: 'Regio Een',
        members: ['0363'],
        actor: 'test',
        now,
      });
      await activateOrganisation(h.store, { code: 'REGIO01', actor: 'test', now });
      await ingestAt(h.store, new Date('2026-02-24T09:00:00Z'), {
        kind: 'JW301',
        gemeente: '0599',
        bsn: testBsn(1),
      });
      await h.deliver(new Date('2026-03-01T05:30:00Z'));
      await setMembers(h.store, {
        code: 'REGIO01',
        members: ['0363', '0599'],
        actor: 'test',
        now: new Date('2026-03-04T10:00:00Z'),
      });
      await h.deliver(new Date('2026-03-08T05:30:00Z'));
      await h.deliver(new Date('2026-03-15T05:30:00Z'));
      h.clock.now = new Date('2026-03-16T08:00:00Z');
      const auth = { Authorization: `Bearer ${await h.apiToken('REGIO01')}` };
      const { deliveries } = (await (
        await h.app.request('/api/v1/deliveries', { headers: auth })
      ).json()) as {
        deliveries: { id: number; periodFrom: string; firstWeekly: boolean; catchUp: string[] }[];
      };
      expect(
        deliveries.map(({ periodFrom, firstWeekly, catchUp }) => ({ periodFrom, firstWeekly, catchUp })),
      ).toEqual([
        { periodFrom: '2026-03-08T05:00:00.000Z', firstWeekly: false, catchUp: [] },
        { periodFrom: '2026-03-01T05:00:00.000Z', firstWeekly: false, catchUp: ['0599'] },
        { periodFrom: '2020-12-31T23:00:00.000Z', firstWeekly: true, catchUp: [] },
      ]);
      const one = await h.app.request(`/api/v1/deliveries/${deliveries[1]!.id}`, { headers: auth });
      expect(await one.json()).toMatchObject({ firstWeekly: false, catchUp: ['0599'] });
    } finally {
      await h.drop();
    }
  });
});
