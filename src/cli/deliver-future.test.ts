import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { openStore } from '../store/open.js';
import { ingestAt, TEST_SECRET, testBsn } from '../usecases/deliveries.fixtures.js';
import type { CliContext } from './command.js';
import { register as registerDeliver } from './deliver.js';
import { register as registerOrganisations } from './organisations.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-deliver-future-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The audit's typo: 2036 for 2026. */
const TYPO = '2036-10-25T06:00:00+01:00';

/** `ketendata …` on the embedded store in `dataDir`, with the real clock at `clock` when given. */
async function runIn(dataDir: string, clock: Date | undefined, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const ctx: CliContext = {
    config: { databaseUrl: undefined, dataDir, secret: TEST_SECRET, trustedProxies: [] },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    setExitCode: (c) => {
      code = c;
    },
    ...(clock ? { clock: () => clock } : {}),
  };
  const program = new Command().exitOverride();
  registerOrganisations(program, ctx);
  registerDeliver(program, ctx);
  await program.parseAsync(args, { from: 'user' });
  return { out, err, code };
}

/** A store with 0363 active since `activated` and one message ingested a day later. */
async function storeWithOrganisation(activated: string): Promise<string> {
  const dir = mkdtempSync(join(work, 'store-'));
  expect(
    (await runIn(dir, undefined, 'organisations', 'add', '0363', '--name', 'A', '--now', activated)).code,
  ).toBe(0);
  expect((await runIn(dir, undefined, 'organisations', 'activate', '0363', '--now', activated)).code).toBe(0);
  const store = await openStore({ databaseUrl: undefined, dataDir: dir });
  try {
    await ingestAt(store, new Date(Date.parse(activated) + 86_400_000), {
      kind: 'JW301',
      gemeente: '0363',
      bsn: testBsn(11),
    });
  } finally {
    await store.close();
  }
  return dir;
}

/** What a delivery run writes: deliveries, job runs, the audit log, the organisations' cursors. */
async function written(dataDir: string) {
  const store = await openStore({ databaseUrl: undefined, dataDir });
  try {
    return {
      delivery: await store.db.selectFrom('delivery').selectAll().execute(),
      jobRun: await store.db.selectFrom('job_run').selectAll().execute(),
      audit: await store.db.selectFrom('audit_log').selectAll().execute(),
      organisation: await store.db.selectFrom('organisation').selectAll().execute(),
      files: existsSync(join(dataDir, 'deliveries')) ? readdirSync(join(dataDir, 'deliveries')) : [],
    };
  } finally {
    await store.close();
  }
}

describe('deliver --now after the real clock', () => {
  const clock = new Date('2026-10-20T10:00:00Z');

  it('refuses a mistyped year before touching the store, naming the moment and the real clock (exit code 2)', async () => {
    const dir = await storeWithOrganisation('2026-10-01T10:00:00Z');
    const before = await written(dir);
    const r = await runIn(dir, clock, 'deliver', '--now', TYPO);
    expect(r).toEqual({
      code: 2,
      out: [],
      err: [
        `deliver: --now ${TYPO} is after the real clock (2026-10-20T10:00:00.000Z): it would make the weekly deliveries due up to that moment now, with only the data stored so far, mark those Sundays done, so the real runs make none before it, and delete files whose 60 days end before it. Nothing was run: check the date, or pass --allow-future on a replay store (deliver.future_now)`,
      ],
    });
    expect(await written(dir)).toEqual(before);
    expect(before.delivery).toEqual([]);
    expect(before.jobRun).toEqual([]);
    // The run with the right date still makes the Sundays since the activation.
    const right = await runIn(dir, clock, 'deliver', '--now', '2026-10-18T06:00:00+02:00');
    expect(right.code).toBe(0);
    expect(right.out).toContain('3 deliveries made, 0 expired deliveries deleted');
  });

  it('runs up to a moment after the clock with --allow-future', async () => {
    const dir = await storeWithOrganisation('2026-10-01T10:00:00Z');
    const at = '2026-11-15T06:00:00+01:00'; // 26 days after the clock
    const refused = await runIn(dir, clock, 'deliver', '--now', at);
    expect(refused.code).toBe(2);
    expect(refused.err.join('\n')).toContain('(deliver.future_now)');
    const r = await runIn(dir, clock, 'deliver', '--now', at, '--allow-future');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    // Every Sunday from 4 October to 15 November.
    expect(r.out).toContain('7 deliveries made, 0 expired deliveries deleted');
    expect((await written(dir)).jobRun).toHaveLength(7);
  });

  it("refuses even the coming Sunday, whose weekly would be made early and files deleted before their 60 days; the README's walk-through passes --allow-future", async () => {
    const dir = await storeWithOrganisation('2026-11-30T08:00:00Z');
    const before = await written(dir);
    // Monday 30 November, for Sunday 6 December.
    const monday = new Date('2026-11-30T16:00:00Z');
    const early = await runIn(dir, monday, 'deliver', '--now', '2026-12-06T06:00:00+01:00');
    expect(early.code).toBe(2);
    expect(early.err.join('\n')).toContain('(deliver.future_now)');
    expect(await written(dir)).toEqual(before);
    const readme = await runIn(
      dir,
      monday,
      'deliver',
      '--now',
      '2026-12-06T06:00:00+01:00',
      '--allow-future',
    );
    expect(readme).toMatchObject({ code: 0, err: [] });
    expect(readme.out[0]).toMatch(
      /^made weekly delivery 1 for 0363 \(slot 2026-12-06T05:00:00\.000Z, 1 message\)$/,
    );
    // The edge: a millisecond after the clock is refused, the clock's own moment runs.
    const edge = '2026-12-13T05:00:00Z';
    const beyond = await runIn(dir, new Date(Date.parse(edge) - 1), 'deliver', '--now', edge);
    expect(beyond.code).toBe(2);
    expect(beyond.err.join('\n')).toContain('(deliver.future_now)');
    const exactly = await runIn(dir, new Date(edge), 'deliver', '--now', edge);
    expect(exactly).toMatchObject({ code: 0, err: [] });
    expect(exactly.out[0]).toBe(
      'made weekly delivery 2 for 0363 (slot 2026-12-13T05:00:00.000Z, 0 messages)',
    );
  });

  it('runs a --now in the past (a replay, a missed run)', async () => {
    const dir = await storeWithOrganisation('2024-03-01T10:00:00Z');
    const r = await runIn(dir, clock, 'deliver', '--now', '2024-03-03T06:00:00+01:00');
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out[0]).toBe('made weekly delivery 1 for 0363 (slot 2024-03-03T05:00:00.000Z, 1 message)');
  });

  it("takes the machine's clock when none is injected", async () => {
    const dir = mkdtempSync(join(work, 'empty-'));
    const env = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: TEST_SECRET };
    const before = Date.now();
    const r = await runCli(['deliver', '--now', '2126-10-25T06:00:00+01:00'], env);
    expect(r).toMatchObject({ code: 2, out: '' });
    const [, shown] = /after the real clock \((\S+)\)/.exec(r.err) ?? [];
    expect(Date.parse(shown!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(shown!)).toBeLessThanOrEqual(Date.now());
    // Not even the store was made.
    expect(readdirSync(dir)).toEqual([]);
  });
});
