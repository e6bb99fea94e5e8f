import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { exampleTraffic, SECRET, validExamples } from '../../test/support/exchange-fixtures.js';
import { listAudit } from '../store/audit.js';
import { openStore } from '../store/open.js';

const traffic = exampleTraffic();
const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-cli-qexport-'));
const out = mkdtempSync(join(tmpdir(), 'ketendata-cli-qexport-out-'));
afterAll(() => {
  for (const d of [traffic.dir, dataDir, out]) rmSync(d, { recursive: true, force: true });
});
const env = { KETENDATA_DATA_DIR: dataDir, KETENDATA_SECRET: SECRET };
const run = (args: string[]) => runCli(args, env);

interface Item {
  id: number;
  source: string;
  reasonCode: string;
}

it('quarantine export writes an item’s message as received, for a correction that retry then stores', async () => {
  expect((await run(['ingest', traffic.dir, '--no-progress'])).code).toBe(0);
  const items = (await run(['quarantine', 'list', '--json'])).out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Item);
  const truncated = items.find((i) => i.reasonCode === 'ingest.not_well_formed') as Item;
  const file = join(out, 'bericht.xml');
  const exported = await run(['quarantine', 'export', String(truncated.id), '--out', file]);
  expect(exported.code).toBe(0);
  expect(exported.out).toContain(`wrote ${file}: item ${truncated.id}, ${truncated.source}`);
  // The very bytes of the file the manifest named, readable by its owner only.
  expect(readFileSync(file)).toEqual(readFileSync(join(traffic.dir, truncated.source)));
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const store = await openStore({ dataDir, databaseUrl: undefined });
  try {
    const [entry] = await listAudit(store.db, { actionPrefix: 'quarantine.export' });
    expect(JSON.parse(String(entry?.detail))).toEqual({ ids: [truncated.id] });
  } finally {
    await store.close();
  }
  // Never over another file.
  const again = await run(['quarantine', 'export', String(truncated.id), '--out', file]);
  expect(again.code).toBe(1);
  expect(again.err).toMatch(/^quarantine\.out_unwritable: .*bericht\.xml: .*EEXIST/);
  const after = await openStore({ dataDir, databaseUrl: undefined });
  try {
    // Nothing was exported this time: one export in the audit log still.
    expect(await listAudit(after.db, { actionPrefix: 'quarantine.export' })).toHaveLength(1);
  } finally {
    await after.close();
  }
  // Corrected (the rest of the truncated JW301 put back) and retried: a passage of the JW301 stored before.
  const fixed = join(out, 'fixed.xml');
  const whole = validExamples().find((e) => e.name.endsWith('/JW301.xml'))?.xml as Buffer;
  expect(whole.subarray(0, readFileSync(file).length)).toEqual(readFileSync(file));
  writeFileSync(fixed, whole);
  const retried = await run(['quarantine', 'retry', String(truncated.id), '--file', fixed]);
  expect(retried.out).toMatch(/^tried 1, resolved 1 \(stored 0, duplicates 1\)/);
});

it('quarantine export names an item without a message and an unknown id', async () => {
  const items = (await run(['quarantine', 'list', '--json', '--all'])).out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Item);
  const missing = items.find((i) => i.reasonCode === 'ingest.file_missing') as Item;
  const none = await run(['quarantine', 'export', String(missing.id), '--out', join(out, 'x.xml')]);
  expect(none.code).toBe(1);
  expect(none.err).toBe(
    `quarantine.no_message: item ${missing.id} (ingest.file_missing) holds no message: berichten/missing.xml was not read; fix the source and ingest it again\n`,
  );
  const unknown = await run(['quarantine', 'export', '99999', '--out', join(out, 'y.xml')]);
  expect(unknown.code).toBe(1);
  expect(unknown.err).toBe('quarantine.unknown_id: no quarantine item 99999\n');
  expect((await run(['quarantine', 'export', 'x', '--out', join(out, 'z.xml')])).code).toBe(2);
});
