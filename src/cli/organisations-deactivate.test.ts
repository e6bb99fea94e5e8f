import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliLines } from '../../test/support/cli.js';
import { TEST_SECRET } from '../usecases/deliveries.fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-deactivate-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `ketendata …` on this test's store: its output lines, error lines and exit code. */
const run = (...args: string[]) =>
  runCliLines(args, { KETENDATA_DATA_DIR: work, KETENDATA_SECRET: TEST_SECRET });

const state = async () =>
  (await run('organisations', 'list')).out.map((l) => l.split('\t')).map((c) => [c[0], c[2]]);

describe('ketendata organisations deactivate', () => {
  it('deactivates an active organisation, says its pending history request is withdrawn, and lists it so', async () => {
    await run('organisations', 'add', '0363', '--name', 'Amsterdam', '--now', '2024-05-01T09:00:00Z');
    await run('organisations', 'add', '0599', '--name', 'Rotterdam', '--now', '2024-05-01T09:00:00Z');
    await run('organisations', 'activate', '0363', '--now', '2024-05-01T10:00:00Z');
    await run('organisations', 'request-history', '0363', '--now', '2024-05-02T08:00:00Z');
    const r = await run('organisations', 'deactivate', '0363', '--now', '2024-05-03T09:00:00Z');
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out[0]).toBe(
      'organisation 0363 deactivated at 2024-05-03T09:00:00.000Z: no new deliveries are made for it; those made stay downloadable until they expire (60 days)',
    );
    expect(r.out[1]).toMatch(
      /^its pending history request \(requested 2024-05-02T08:00:00\.000Z by cli:.+\) is withdrawn: it is not served while inactive, nor after a new activation \(request it again then\)$/,
    );
    expect(r.out[2]).toBe(
      'activate it again (ketendata organisations activate 0363) to resume: its next weekly then holds everything not delivered before',
    );
    expect(await state()).toEqual([
      ['0363', 'deactivated since 2024-05-03T09:00:00.000Z'],
      ['0599', 'not active'],
    ]);
    // The history column is empty again: the request went with the deactivation.
    expect((await run('organisations', 'list')).out[0]!.split('\t')[4]).toBe('-');
  });

  it('refuses an organisation that is not active (exit code 1, organisation.not_active) or not registered', async () => {
    for (const c of ['0363', '0599']) {
      const r = await run('organisations', 'deactivate', c, '--now', '2024-05-04T09:00:00Z');
      expect(r.code).toBe(1);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(new RegExp(`^organisation\\.not_active: organisation ${c} is not active`));
    }
    const unknown = await run('organisations', 'deactivate', '9999', '--now', '2024-05-04T09:00:00Z');
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/^organisation\.not_found: /);
  });

  it('activates it again: said to go on where it stopped', async () => {
    const r = await run('organisations', 'activate', '0363', '--now', '2024-05-06T09:00:00Z');
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out).toEqual([
      'organisation 0363 active from 2024-05-06T09:00:00.000Z',
      'active again: it had no weekly yet, so its first one holds all data stored for it so far',
    ]);
    expect(await state()).toEqual([
      ['0363', 'active since 2024-05-06T09:00:00.000Z'],
      ['0599', 'not active'],
    ]);
    // Deactivated without a pending request, it says nothing of one.
    const again = await run('organisations', 'deactivate', '0363', '--now', '2024-05-07T09:00:00Z');
    expect(again.out).toHaveLength(2);
  });
});
