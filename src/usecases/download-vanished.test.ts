import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { freshStore } from '../../test/support/databases.js';
import { runDue } from './deliver.js';
import { ingestAt, testBsn, testKeys } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';
import { downloadToFolder } from './download.js';
import { activateOrganisation, addOrganisation } from './organisations.js';

/** Source files that disappear just before they are copied (a colleague deleting it in the portal then). */
const vanishing = new Set<string>();

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fsp>();
  return {
    ...actual,
    copyFile: async (src: string, dest: string, mode?: number) => {
      if (vanishing.has(src)) await actual.rm(src);
      return actual.copyFile(src, dest, mode);
    },
  };
});

it('a file deleted while `download` is copying the others is named as missing, and the rest are copied', async () => {
  const { store, dataDir, drop } = await freshStore('sqlite');
  try {
    const t0 = new Date('2024-01-03T10:00:00Z');
    await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: t0 });
    await activateOrganisation(store, { code: '0363', actor: 'test', now: t0 });
    await ingestAt(store, new Date('2024-01-04T10:00:00Z'), {
      kind: 'JW301',
      gemeente: '0363',
      bsn: testBsn(1),
    });
    await runDue(
      { store, dataDir, organisationKey: (c) => testKeys().organisation(c) },
      new Date('2024-01-21T05:00:00Z'),
    );
    const monday = new Date('2024-01-22T09:00:00Z');
    const [gone, ...kept] = await listDeliveries(store, '0363', { now: monday });
    expect(kept.length).toBeGreaterThan(0);
    vanishing.add(join(dataDir, gone?.file as string));
    const out = await fsp.mkdtemp(join(tmpdir(), 'kd-vanished-'));
    // A copy from an earlier download (a daily sync into one folder) stays as it is.
    writeFileSync(join(out, gone?.fileName as string), 'earlier');
    const got = await downloadToFolder(
      { store, dataDir },
      { organisation: '0363', actor: 'cli:op', now: monday, outDir: out, onlyNew: true },
    );
    expect(got.missing.map((e) => e.code)).toEqual(['delivery.file_missing']);
    expect(got.missing[0]?.message).toContain(gone?.fileName);
    expect(got.copied.map((c) => c.delivery.id).sort()).toEqual(kept.map((d) => d.id).sort());
    expect(readdirSync(out).sort()).toEqual([gone, ...kept].map((d) => d?.fileName).sort());
    expect(readFileSync(join(out, gone?.fileName as string), 'utf8')).toBe('earlier');
    // Not counted as downloaded: the next `download --new` offers it again (and names it missing again).
    const again = await downloadToFolder(
      { store, dataDir },
      { organisation: '0363', actor: 'cli:op', now: monday, outDir: out, onlyNew: true },
    );
    expect(again.copied).toEqual([]);
    expect(again.missing.map((e) => e.code)).toEqual(['delivery.file_missing']);
    await fsp.rm(out, { recursive: true, force: true });
  } finally {
    await drop();
  }
});
