import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Browser, portalHarness, SECRET } from '../../test/e2e/harness.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { runDue } from '../usecases/deliver.js';
import { requestHistory } from '../usecases/organisations.js';

/** A totaalbestand whose Sunday run was missed or failed: the pages never promise a Monday already gone. */
describe('a history request whose Sunday run has passed without it', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  beforeEach(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    // Saturday 28 February 2026: made in the run of Sunday 1 March, due Monday 2 March.
    await requestHistory(h.store, { code: '0599', actor: 'bas', now: new Date('2026-02-28T12:00:00Z') });
  });
  afterEach(async () => h.drop());

  const pages = async (at: string) => {
    h.clock.now = new Date(at);
    const b = new Browser(h.app);
    await b.login('bas@0599.example');
    const token = await h.apiToken('0599', `t-${at}`);
    const api = await h.app.request('/api/v1/history-request', {
      headers: { Authorization: `Bearer ${token}` },
    });
    return {
      historie: (await b.page('/historie')).html,
      ophalen: (await b.page('/ophalen')).html,
      api: (await api.json()) as Record<string, unknown>,
    };
  };

  it('promises its Monday while that is still to come', async () => {
    const { historie, api } = await pages('2026-03-01T12:00:00Z');
    expect(historie).toContain('Klaar op maandag 2 maart 2026.');
    expect(api).toMatchObject({ readyOn: '2026-03-02T05:00:00.000Z', late: false, retryAfter: null });
  });

  it('says it is made in the next delivery run once the run was missed', async () => {
    // Tuesday 3 March: no run has been since the request (the server was down).
    const { historie, ophalen, api } = await pages('2026-03-03T09:00:00Z');
    for (const html of [historie, ophalen]) {
      expect(html).not.toContain('2 maart 2026');
      expect(html).toContain('het wordt gemaakt bij de eerstvolgende leverrun en verschijnt daarna meteen');
    }
    expect(historie).toContain(
      'Het totaalbestand is vertraagd: het wordt gemaakt bij de eerstvolgende leverrun',
    );
    expect(ophalen).toContain('Totaalbestand aangevraagd, maar vertraagd:');
    // Its first weekly was missed too: no past Monday for it either.
    expect(ophalen).toContain(
      'De eerste levering is vertraagd: die wordt gemaakt bij de eerstvolgende leverrun',
    );
    expect(api).toMatchObject({
      requestedAt: '2026-02-28T12:00:00.000Z',
      readyOn: null,
      late: true,
      retryAfter: null,
    });
  });

  it('names the retry time of a run that failed, and nothing once it is made', async () => {
    // The server came back on Monday 2 March 06:00: the catch-up of Sunday's slot fails on 0599's history.
    const at = new Date('2026-03-02T05:00:00Z');
    const keys = deriveKeys(SECRET);
    const calls = new Map<string, number>();
    const run = await runDue(
      {
        store: h.store,
        dataDir: h.dataDir,
        wallClock: () => at,
        organisationKey: (code) => {
          calls.set(code, (calls.get(code) ?? 0) + 1);
          if (code === '0599' && calls.get(code) === 2) throw new Error('disk full');
          return keys.organisation(code);
        },
      },
      at,
    );
    expect(run.failed.map((f) => [f.organisation, f.kind])).toEqual([['0599', 'history']]);
    const { historie, ophalen, api } = await pages('2026-03-02T05:10:00Z');
    expect(historie).toContain(
      'Het totaalbestand is vertraagd: de leverrun is mislukt en wordt vanaf 2 mrt 2026 om 06:20 opnieuw geprobeerd; daarna verschijnt het meteen onder Ophalen.',
    );
    expect(ophalen).toContain(
      'wordt vanaf 2 mrt 2026 om 06:20 opnieuw geprobeerd; daarna verschijnt het meteen op deze pagina.',
    );
    expect(api).toMatchObject({ readyOn: null, late: true, retryAfter: '2026-03-02T05:20:00.000Z' });
    // Past the retry time, before a run took it up: no time that has gone by either.
    expect((await pages('2026-03-02T05:30:00Z')).api).toMatchObject({ late: true, retryAfter: null });

    const retry = new Date('2026-03-02T06:00:00Z');
    const again = await runDue(
      {
        store: h.store,
        dataDir: h.dataDir,
        wallClock: () => retry,
        organisationKey: (c) => keys.organisation(c),
      },
      retry,
    );
    expect(again.made.map((d) => [d.organisation, d.kind])).toEqual([['0599', 'history']]);
    const done = await pages('2026-03-02T06:05:00Z');
    expect(done.api).toMatchObject({ requestedAt: null, readyOn: null, late: false });
    expect(done.historie).toContain('Niet aangevraagd. Laatste totaalbestand gemaakt op 2 mrt 2026, 07:00.');
  });
});
