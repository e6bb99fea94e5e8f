import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDatabaseUrl, ensureDataFolder, loadConfig } from './config.js';

describe('KETENDATA_DATABASE_URL', () => {
  it('takes postgres:// and postgresql:// URLs, and none for the embedded store', () => {
    for (const url of ['postgres://db/k', 'postgresql://u@127.0.0.1:5432/test', 'POSTGRES://db/k'])
      expect(checkDatabaseUrl(loadConfig({ KETENDATA_DATABASE_URL: url }).databaseUrl)).toBe(url);
    expect(checkDatabaseUrl(loadConfig({ KETENDATA_DATABASE_URL: '' }).databaseUrl)).toBeUndefined();
  });

  it('refuses any other URL with a code, without repeating it', () => {
    for (const url of ['garbage', 'mysql://root:hunter2@db/k', 'sqlite:///tmp/x.db', 'postgres:/db'])
      expect(() => checkDatabaseUrl(url)).toThrow(/^config\.bad_database_url: (?!.*hunter2)/);
  });
});

describe('KETENDATA_DATA_DIR', () => {
  it('is made for its owner alone; an existing folder keeps its mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-data-dir-'));
    try {
      const made = join(dir, 'a', 'data');
      expect(ensureDataFolder(made)).toBe(made);
      expect(statSync(made).mode & 0o777).toBe(0o700);
      const existing = join(dir, 'existing');
      mkdirSync(existing);
      chmodSync(existing, 0o750);
      ensureDataFolder(existing);
      expect(statSync(existing).mode & 0o777).toBe(0o750);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
