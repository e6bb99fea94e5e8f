import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { exampleTraffic, SECRET } from '../../test/support/exchange-fixtures.js';
import { main } from '../main.js';

const traffic = exampleTraffic();
const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-cli-ingest-'));
afterAll(() => {
  rmSync(traffic.dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});
const env = { KETENDATA_DATA_DIR: dataDir, KETENDATA_SECRET: SECRET };

const run = (args: string[]) => runCli(args, env);

describe('ketendata ingest and quarantine', () => {
  it('ends an ingest with the summary that accounts for every exchange, and lists the quarantine', async () => {
    const first = await run(['ingest', traffic.dir]);
    expect(first.code).toBe(0);
    const t = traffic.expected;
    expect(first.out).toContain(
      `received ${t.received}, stored ${t.stored}, duplicates ${t.duplicates}, conflicts ${t.conflicts}, quarantined ${t.quarantined}\n`,
    );
    expect(first.out).toContain('  quarantined ingest.xsd_invalid: 1');
    expect(first.err).toContain(`ingest: ${t.received}/${t.received} exchanges`);
    const again = await run(['ingest', traffic.dir, '--no-progress']);
    expect(again.out).toContain(
      `stored 0, duplicates 0, conflicts 0, quarantined 0, already ingested ${t.received}`,
    );
    expect(again.err).toBe('');
    const list = await run(['quarantine', 'list']);
    expect(list.out).toContain(`${t.quarantined} open items`);
    expect(list.out).toMatch(/\topen\tingest\.not_well_formed\t/);
    // Each line names the file and the code once, in their own columns, then what is wrong.
    for (const line of list.out.trim().split('\n').slice(0, -1)) {
      const [, , code, , file, reason] = line.split('\t');
      expect(reason, line).not.toContain(file!);
      expect(reason, line).not.toContain(code!);
      expect(reason!.length, line).toBeGreaterThan(10);
    }
  });

  it('dismisses quarantine items with a note: gone from the open list, kept with --all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-dismiss-'));
    try {
      const e = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      expect(await main(['ingest', traffic.dir, '--no-progress'], e)).toBe(0);
      const ids = (await runCli(['quarantine', 'list'], e)).out
        .trim()
        .split('\n')
        .slice(0, -1)
        .map((l) => l.split('\t')[0]!);
      const noNote = await runCli(['quarantine', 'dismiss', ids[0]!], e);
      expect(noNote.code).toBe(2);
      expect((await runCli(['quarantine', 'dismiss', 'x1', '--note', 'n'], e)).code).toBe(2);
      const done = await runCli(['quarantine', 'dismiss', ids[0]!, '999', '--note', 'nieuw bericht'], e);
      expect(done.out).toBe(`dismissed 1: ${ids[0]}\n`);
      expect(done.err).toBe('quarantine.unknown_id: no open quarantine item 999\n');
      expect(done.code).toBe(1);
      expect((await runCli(['quarantine', 'list'], e)).out).toContain(`${ids.length - 1} open items`);
      expect((await runCli(['quarantine', 'list', '--all'], e)).out).toMatch(
        new RegExp(`^${ids[0]}\tdismissed\t`, 'm'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear message when the secret is missing or the source does not exist', async () => {
    const noSecret = await main(['ingest', traffic.dir], { KETENDATA_DATA_DIR: dataDir });
    expect(noSecret).toBe(1);
    const missing = await run(['ingest', join(dataDir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ingest.source_missing');
  });

  it('re-encrypts the kept raw messages under a new secret with raw-rekey', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-rekey-'));
    try {
      const oldEnv = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      expect(await main(['ingest', traffic.dir, '--no-progress'], oldEnv)).toBe(0);
      const file = join(dir, 'old-secret');
      writeFileSync(file, `${SECRET}\n`);
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const code = await main(['raw-rekey', '--previous-secret-file', file], {
        ...oldEnv,
        KETENDATA_SECRET: `${SECRET}-new`,
      });
      const out = spy.mock.calls.map((c) => String(c[0])).join('');
      spy.mockRestore();
      expect(code).toBe(0);
      expect(out).toMatch(/re-encrypted (\d+) raw message/);
      expect(Number(/re-encrypted (\d+)/.exec(out)![1])).toBe(
        traffic.expected.stored + traffic.expected.quarantined,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
