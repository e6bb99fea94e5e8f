import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliContext } from './command.js';
import { register } from './simulate.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-cli-sim-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const ctx: CliContext = {
    config: { databaseUrl: undefined, dataDir: work, secret: undefined, trustedProxies: [] },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    setExitCode: (c) => {
      code = c;
    },
  };
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => err.push(s) });
  register(program, ctx);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  }
  return { out, err, code };
}

describe('ketendata simulate', () => {
  it('writes messages, manifest, ground truth and organisations for the six months before --now', async () => {
    const dir = join(work, 'a');
    const r = await run([
      'simulate',
      '--out',
      dir,
      '--clients',
      '25',
      '--now',
      '2025-06-13T10:00:00Z',
      '--seed',
      '9',
    ]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/simulate: \d+ exchanges .* for 25 journeys/);
    const manifest = readFileSync(join(dir, 'manifest.ndjson'), 'utf8').trim().split('\n');
    expect(manifest.length).toBeGreaterThan(50);
    const first = JSON.parse(manifest[0] as string) as { file: string; moment: string };
    const last = JSON.parse(manifest[manifest.length - 1] as string) as { moment: string };
    expect(first.moment >= '2024-12-13').toBe(true);
    // Nothing after --now itself, not only nothing after its day.
    expect(last.moment <= '2025-06-13T10:00:00.000Z', last.moment).toBe(true);
    expect(existsSync(join(dir, first.file))).toBe(true);
    const orgs = JSON.parse(readFileSync(join(dir, 'organisations.json'), 'utf8')) as {
      gemeenten: unknown[];
    };
    expect(orgs.gemeenten).toHaveLength(3);
    // Again into the same folder: the earlier run's files stay, and it says so (not with --clean).
    const again = ['simulate', '--out', dir, '--clients', '5', '--now', '2025-06-13T10:00:00Z', '--quiet'];
    const second = await run(again);
    expect(second.code).toBe(0);
    expect(second.err.join('\n')).toContain('holds an earlier run; its files stay beside the new ones');
    expect((await run([...again, '--clean'])).err.join('\n')).not.toContain('earlier run');
  });

  // It printed `2025-12 … 75 exchanges` for what was written up to the end of November, which read as
  // 75 exchanges in December.
  it('names each month when it is done, with the exchanges written so far, warm-up months as such', async () => {
    const dir = join(work, 'months');
    const r = await run(
      ['simulate', '--out', dir, '--clients', '20', '--seed', '5', '--gemeenten', '0363'].concat([
        '--from',
        '2025-11-01',
        '--to',
        '2026-01-31',
        '--warmup',
        '1',
      ]),
    );
    expect(r.code).toBe(0);
    const months = r.err.filter((l) => / done/.test(l));
    expect(months.map((l) => l.replace(/\d+ exchanges?/, 'N'))).toEqual([
      'simulate: 2025-10 done (warm-up, not written): N so far',
      'simulate: 2025-11 done: N so far',
      'simulate: 2025-12 done: N so far',
    ]);
    const perMonth = new Map<string, number>();
    for (const line of readFileSync(join(dir, 'manifest.ndjson'), 'utf8').trim().split('\n')) {
      const month = (JSON.parse(line) as { moment: string }).moment.slice(0, 7);
      perMonth.set(month, (perMonth.get(month) ?? 0) + 1);
    }
    const soFar = (l: string) => Number(/(\d+) exchanges? so far/.exec(l)?.[1]);
    expect(soFar(months[0]!)).toBe(0);
    expect(soFar(months[1]!)).toBe(perMonth.get('2025-11'));
    expect(soFar(months[2]!)).toBe((perMonth.get('2025-11') ?? 0) + (perMonth.get('2025-12') ?? 0));
  });

  it('writes the same bytes at another moment of the clock, and other ids for another period', async () => {
    // --now is the clock here: two runs a moment apart, as two plain `simulate` runs without --to.
    const at = async (name: string, now: string) => {
      const dir = join(work, name);
      const args = ['simulate', '--out', dir, '--clients', '25', '--seed', '7', '--now', now, '--quiet'];
      expect((await run(args)).code).toBe(0);
      return dir;
    };
    const files = (dir: string): Map<string, string> => {
      const lines = readFileSync(join(dir, 'manifest.ndjson'), 'utf8').trim().split('\n');
      const names = lines.map((l) => (JSON.parse(l) as { file: string }).file);
      return new Map(
        ['manifest.ndjson', 'ground-truth.ndjson', 'organisations.json', ...names].map((f) => [
          f,
          readFileSync(join(dir, f), 'utf8'),
        ]),
      );
    };
    const first = files(await at('clock-1', '2025-06-13T10:00:00.123Z'));
    expect(files(await at('clock-2', '2025-06-13T10:00:00.456Z'))).toEqual(first);
    // A week later is another period: none of its hub ids is one of the first run's.
    const hubIds = (m: Map<string, string>) =>
      (m.get('manifest.ndjson') as string)
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { hubId: string }).hubId);
    const known = new Set(hubIds(first));
    const later = hubIds(files(await at('clock-3', '2025-06-20T10:00:00.123Z')));
    expect(later.filter((id) => known.has(id))).toEqual([]);
  });

  it('refuses a rate outside 0–1 and an unknown municipality code, with a non-zero exit code', async () => {
    const bad = await run(['simulate', '--out', join(work, 'b'), '--errors', '1.5']);
    expect(bad.code).not.toBe(0);
    expect(bad.err.join('')).toContain('--errors must be a share between 0 and 1');
    const unknown = await run(['simulate', '--out', join(work, 'c'), '--gemeenten', '0001', '--quiet']);
    expect(unknown.code).toBe(2);
    expect(unknown.err.join('')).toContain('0001 is not a CBS municipality code');
    for (const [option, value] of [
      ['--from', '2026-02-30'],
      ['--to', '2025-13-01'],
      ['--from', '2025-1-1'],
      ['--to', 'morgen'],
    ] as const) {
      const r = await run(['simulate', '--out', join(work, 'd'), option, value, '--quiet']);
      expect(r.code, `${option} ${value}`).toBe(2);
      expect(r.err.join('')).toBe(
        `simulate: simulate.bad_option: ${option} ${value} is not a date that exists (YYYY-MM-DD)`,
      );
      expect(existsSync(join(work, 'd'))).toBe(false);
    }
  });
});
