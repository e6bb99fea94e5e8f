import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryWriter } from './delivery-writer.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the folders and files of a delivery', () => {
  let dataDir: string;
  let umask: number;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ketendata-writer-'));
    // The usual umask of a service: without modes of their own, folders would be 0755 and files 0644.
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are for the owner alone (personal data in clear), whatever the umask', async () => {
    const tmpRoot = join(dataDir, 'deliveries', '.tmp');
    const writer = await DeliveryWriter.open(tmpRoot, [{ name: 'JW301', header: ['a', 'b'] }]);
    // Past the flush size, so the CSV goes to a temp file before the ZIP is written.
    await writer.add(
      'JW301',
      Array.from({ length: 20_000 }, (_, i) => [`rij-${i}`, 'x'.repeat(20)]),
    );
    const [temp] = readdirSync(tmpRoot);
    const csvs = readdirSync(join(tmpRoot, temp!));
    expect(csvs).toEqual(['0.csv']);
    expect(mode(join(tmpRoot, temp!))).toBe(0o700);
    expect(mode(join(tmpRoot, temp!, '0.csv'))).toBe(0o600);

    const zipPath = join(dataDir, 'deliveries', '0363', 'weekly.zip');
    await writer.finish(zipPath, { manifest: {}, mtime: new Date('2026-03-01T05:00:00Z') });
    for (const folder of ['deliveries', 'deliveries/.tmp', 'deliveries/0363'])
      expect([folder, mode(join(dataDir, folder))]).toEqual([folder, 0o700]);
    expect(mode(zipPath)).toBe(0o600);
  });

  it('leave an existing folder as it is', async () => {
    mkdirSync(join(dataDir, 'deliveries'));
    chmodSync(join(dataDir, 'deliveries'), 0o750);
    const writer = await DeliveryWriter.open(join(dataDir, 'deliveries', '.tmp'), []);
    await writer.finish(join(dataDir, 'deliveries', '0363', 'w.zip'), { manifest: {}, mtime: new Date() });
    expect(mode(join(dataDir, 'deliveries'))).toBe(0o750);
    expect(mode(join(dataDir, 'deliveries', '0363'))).toBe(0o700);
  });
});
