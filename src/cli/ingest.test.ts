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
    expect(list.out).toContain(`${t.quarantined} open item(s)`);
    expect(list.out).toMatch(/\topen\tingest\.not_well_formed\t/);
    // Each line names the file and the code once, in their own columns, then what is wrong.
    for (const line of list.out.trim().split('\n').slice(0, -1)) {
      const [, , code, , file, reason] = line.split('\t');
      expect(reason, line).not.toContain(file!);
      expect(reason, line).not.toContain(code!);
      expect(reason!.length, line).toBeGreaterThan(10);
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
