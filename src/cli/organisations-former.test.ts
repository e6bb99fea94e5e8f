import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliLines } from '../../test/support/cli.js';
import { TEST_SECRET } from '../usecases/deliveries.fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-former-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `ketendata …` on this test's store: its output lines, error lines and exit code. */
const run = (...args: string[]) =>
  runCliLines(args, { KETENDATA_DATA_DIR: work, KETENDATA_SECRET: TEST_SECRET });

const NOW = ['--now', '2024-05-01T09:00:00Z'];

describe('ketendata organisations: former municipalities', () => {
  it('registers a municipality with --former and lists the former code among its members', async () => {
    const added = await run(
      'organisations',
      'add',
      '0363',
      '--name',
      'Amsterdam',
      '--former',
      '0457',
      ...NOW,
    );
    expect(added).toMatchObject({ code: 0, err: [] });
    expect(added.out).toEqual([
      'organisation 0363 added (gemeente, members 0363,0457 (former: 0457)); activate it to start deliveries',
    ]);
    const listed = (await run('organisations', 'list')).out.map((l) => l.split('\t'));
    expect(listed.map((c) => [c[0], c[3]])).toEqual([['0363', 'members 0363,0457 (former: 0457)']]);
  });

  it('changes them with `organisations former`, and says which come with the next weekly', async () => {
    const changed = await run('organisations', 'former', '0363', '--codes', '0457,0370', ...NOW);
    expect(changed).toMatchObject({ code: 0, err: [] });
    expect(changed.out).toEqual([
      'organisation 0363 now acts for 0363,0370,0457 (former: 0370,0457)',
      'the next weekly holds all data stored so far for 0370',
    ]);
    const none = await run('organisations', 'former', '0363', '--codes', '', ...NOW);
    expect(none.out).toEqual(['organisation 0363 now acts for 0363']);
  });

  it('refuses a current code or one that is not 4 digits, with its code and exit code 1', async () => {
    const current = await run('organisations', 'former', '0363', '--codes', '0384', ...NOW);
    expect(current.code).toBe(1);
    expect(current.err).toEqual([
      'organisation.invalid_members: organisation 0363: 0384 is a municipality of the code list (2026 indeling): a current code is a member, not a former one',
    ]);
    const short = await run('organisations', 'add', '0599', '--name', 'Rotterdam', '--former', '457', ...NOW);
    expect(short.code).toBe(1);
    expect(short.err[0]).toMatch(/^organisation\.invalid_members: .*4-digit CBS code/);
    expect((await run('organisations', 'former', '9999', '--codes', '0457')).err[0]).toMatch(
      /^organisation\.not_found: /,
    );
    expect((await run('organisations', 'list')).out).toHaveLength(1);
  });
});
