import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { getDelivery } from '../store/deliveries.js';
import { openStore } from '../store/open.js';
import { ingestAt, TEST_SECRET, testBsn } from '../usecases/deliveries.fixtures.js';
import type { CliContext } from './command.js';
import { register as registerDeliver } from './deliver.js';
import { register as registerDeliveries } from './deliveries.js';
import { register as registerDownload } from './download.js';
import { register as registerIndicators } from './indicators.js';
import { register as registerOrganisations } from './organisations.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-deliver-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (...args: string[]) => runIn(work, ...args);

async function runIn(dataDir: string, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const ctx: CliContext = {
    config: {
      databaseUrl: undefined,
      dataDir,
      // The secret `ingestAt` stores the test messages under: the store is refused any other.
      secret: TEST_SECRET,
      trustedProxies: [],
    },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    setExitCode: (c) => {
      code = c;
    },
  };
  const program = new Command().exitOverride();
  for (const register of [
    registerOrganisations,
    registerDeliver,
    registerDeliveries,
    registerDownload,
    registerIndicators,
  ]) {
    register(program, ctx);
  }
  await program.parseAsync(args, { from: 'user' });
  return { out, err, code };
}

describe('ketendata organisations, deliver, deliveries and download', () => {
  it('says on stderr, with exit code 1, that a failed delivery still waits for its retry on every run until made', async () => {
    const dir = mkdtempSync(join(work, 'retry-'));
    const at = (iso: string) => ['--now', iso];
    expect(
      (await runIn(dir, 'organisations', 'add', '0599', '--name', 'Rotterdam', ...at('2024-03-01T10:00:00Z')))
        .code,
    ).toBe(0);
    expect((await runIn(dir, 'organisations', 'activate', '0599', ...at('2024-03-01T10:00:00Z'))).code).toBe(
      0,
    );
    // A file where the organisation's delivery folder should be: its delivery cannot be written.
    mkdirSync(join(dir, 'deliveries'), { recursive: true });
    writeFileSync(join(dir, 'deliveries', '0599'), 'in the way');
    const sunday = '2024-03-03T06:00:00+01:00';
    const first = await runIn(dir, 'deliver', ...at(sunday));
    expect(first.code).toBe(1);
    expect(first.err.join('\n')).toMatch(
      /weekly delivery for 0599 \(slot [^)]+\) failed: .*a later run tries again \(after a fix, deliver --retry-now tries it at once\)$/m,
    );
    const failedAt = Date.now();
    const later = await runIn(dir, 'deliver', ...at('2024-03-03T06:05:00+01:00'));
    expect(later.code).toBe(1);
    expect(later.err).toHaveLength(1);
    // Until when: the first wait is 20 minutes of the real clock (a replay's --now does not move it).
    const [, retryAt] =
      /^slot 2024-03-03T05:00:00\.000Z failed before and waits for its retry at (\S+) \(--retry-now to try it now\)$/.exec(
        later.err[0]!,
      ) ?? [];
    expect(Math.abs(Date.parse(retryAt!) - (failedAt + 20 * 60_000))).toBeLessThan(60_000);
    rmSync(join(dir, 'deliveries', '0599'));
    const fixed = await runIn(dir, 'deliver', ...at('2024-03-03T06:10:00+01:00'), '--retry-now');
    expect(fixed.code).toBe(0);
    expect(fixed.err).toEqual([]);
    expect(fixed.out[0]).toMatch(/^made weekly delivery \d+ for 0599/);
  });

  it('runs the contract commands end to end on the embedded store', async () => {
    expect(
      (await run('organisations', 'add', '0363', '--name', 'Amsterdam', '--now', '2024-03-01T10:00:00Z'))
        .code,
    ).toBe(0);
    const head = await run('organisations', 'add', 'HO-1', '--name', 'Regio', '--members', '0363,0599');
    expect(head.out[0]).toContain('hoofdorganisatie, members 0363,0599');
    expect((await run('organisations', 'activate', '0363', '--now', '2024-03-01T10:00:00Z')).code).toBe(0);
    const store = await openStore({ databaseUrl: undefined, dataDir: work });
    await ingestAt(store, new Date('2024-03-02T09:00:00Z'), {
      kind: 'JW301',
      gemeente: '0363',
      bsn: testBsn(77),
    });
    await store.close();
    expect(
      (await run('organisations', 'request-history', '0363', '--now', '2024-03-02T10:00:00Z')).code,
    ).toBe(0);
    expect((await run('organisations', 'list')).out.map((l) => l.split('\t')[0])).toEqual(['0363', 'HO-1']);
    const unclear = await run('organisations', 'personal-data', 'HO-1', 'maybe');
    expect(unclear.code).toBe(2);
    expect(unclear.err.join('\n')).toContain('(organisation.bad_option)');
    expect((await run('organisations', 'personal-data', 'HO-1', 'leave-out')).out).toEqual([
      'organisation HO-1: personal data left out of its deliveries from the next one on',
    ]);
    expect((await run('organisations', 'list')).out.map((l) => l.split('\t')[5])).toEqual([
      'personal data delivered',
      'personal data left out',
    ]);

    const deliver = await run('deliver', '--now', '2024-03-03T06:00:00+01:00');
    expect(deliver.out).toContain(
      'made weekly delivery 1 for 0363 (slot 2024-03-03T05:00:00.000Z, 1 message)',
    );
    expect(deliver.out).toContain(
      'made history delivery 2 for 0363 (slot 2024-03-03T05:00:00.000Z, 1 message)',
    );
    expect(deliver.out).toContain('1 dashboard snapshot refreshed');
    expect((await run('deliver', '--now', '2024-03-03T06:00:00+01:00')).out).toEqual([
      '0 deliveries made, 0 expired deliveries deleted',
    ]);

    // The snapshot the weekly run made; --refresh computes a new one.
    const shown = await run('indicators', '0363', '--json');
    const snap = JSON.parse(shown.out.join('\n'));
    expect(snap).toMatchObject({
      organisation: '0363',
      members: ['0363'],
      computedAt: '2024-03-03T05:00:00.000Z',
    });
    expect(snap.scopes.alle.retourErrors.types).toEqual([{ code: 'JW301', heen: 1, rejected: 0 }]);
    const text = await run('indicators', 'HO-1', '--refresh', '--now', '2024-03-05T10:00:00Z');
    expect(text.out[0]).toBe(
      `indicators of HO-1 (0363, 0599), computed 2024-03-05T10:00:00.000Z at message seq 1, link seq 0`,
    );
    expect(text.out).toContain('== 0599');
    expect(text.out).toContain('  JW301\t1\t0 (0.0%)');
    // --now alone computes as at that moment and keeps nothing: the stored snapshot stays as it was.
    const asAt = await run('indicators', '0363', '--now', '2024-06-05T10:00:00Z');
    expect(asAt.out[0]).toMatch(/computed 2024-06-05T10:00:00.000Z /);
    expect((await run('indicators', '0363')).out[0]).toMatch(/computed 2024-03-03T05:00:00.000Z /);
    // All members first, then each member in code order (1581 is no number that comes first).
    expect(
      (await run('organisations', 'add', 'HO-2', '--name', 'Heuvelrug', '--members', '1581,0363')).code,
    ).toBe(0);
    const sections = (await run('indicators', 'HO-2', '--now', '2024-03-05T10:00:00Z')).out.filter((l) =>
      l.startsWith('== '),
    );
    expect(sections).toEqual(['== all members', '== 0363', '== 1581']);

    expect((await run('deliveries', '0363', '--now', '2024-03-03T12:00:00Z')).out).toHaveLength(1); // header only
    const listed = await run('deliveries', '0363', '--now', '2024-03-04T12:00:00Z');
    expect(listed.out.slice(1).map((l) => l.split('\t')[1])).toEqual(['weekly', 'history']);
    // The first weekly holds all data so far; a history says nothing of it.
    expect(listed.out[0]?.split('\t').at(-1)).toBe('from_start');
    expect(listed.out.slice(1).map((l) => l.split('\t')[11])).toEqual(['all', '-']);

    const out = join(work, 'out');
    const got = await run('download', '0363', '--out', out, '--new', '--now', '2024-03-04T12:00:00Z');
    expect(got.out.at(-1)).toBe('2 deliveries downloaded');
    expect(readdirSync(out).sort()).toEqual([
      'ketendata-0363-historie-2024-03-03.zip',
      'ketendata-0363-wekelijks-2024-03-03.zip',
    ]);
    expect(
      (await run('download', '0363', '--out', out, '--new', '--now', '2024-03-04T12:00:00Z')).out,
    ).toEqual(['0 deliveries downloaded']);
    const after = await run('deliveries', '0363', '--now', '2024-03-04T12:00:00Z');
    expect(after.out[1]).toMatch(/\t2024-03-04T12:00:00.000Z by cli:/);
  });

  it('download copies the other deliveries when one file is missing on disk, naming it and exiting 1', async () => {
    const store = await openStore({ databaseUrl: undefined, dataDir: work });
    const first = await getDelivery(store.db, 1);
    await store.close();
    renameSync(join(work, first!.file), join(work, 'lost.zip'));
    try {
      const out = join(work, 'out-missing');
      const got = await run('download', '0363', '--out', out, '--now', '2024-03-04T12:00:00Z');
      expect(got.code).toBe(1);
      expect(got.err).toEqual([
        `delivery.file_missing: delivery 1: its file ${first!.fileName} is missing on disk`,
      ]);
      expect(readdirSync(out)).toEqual(['ketendata-0363-historie-2024-03-03.zip']);
      expect(got.out.at(-1)).toBe('1 delivery downloaded');
    } finally {
      renameSync(join(work, 'lost.zip'), join(work, first!.file));
    }
  });

  it("says when a head organisation's next weekly catches a new member up", async () => {
    const changed = await run('organisations', 'members', 'HO-1', '--members', '0363,0599,0344');
    expect(changed.out).toEqual([
      'organisation HO-1 now acts for 0344,0363,0599',
      'the next weekly holds all data stored so far for 0344',
    ]);
    expect((await run('organisations', 'members', 'HO-1', '--members', '0363,0599')).out).toEqual([
      'organisation HO-1 now acts for 0363,0599',
    ]);
  });

  it('refuses bad input with a code and a non-zero exit', async () => {
    const bad = await run('organisations', 'add', '363', '--name', 'X');
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toMatch(/^organisation\.invalid_code: /);
    expect((await run('deliveries', '9999')).err[0]).toMatch(/^organisation\.not_found: /);
    expect((await run('indicators', '9999')).err[0]).toMatch(/^organisation\.not_found: /);
    expect((await run('deliver', '--now', 'gisteren')).code).toBe(2);
  });
});
