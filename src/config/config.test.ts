import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDatabaseUrl, checkTrustedProxies, ensureDataFolder, loadConfig } from './config.js';

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

describe('KETENDATA_TRUSTED_PROXIES', () => {
  it('is a comma-separated list of IP addresses; unset or empty: none', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ KETENDATA_TRUSTED_PROXIES: ' ' }).trustedProxies).toEqual([]);
    const given = loadConfig({ KETENDATA_TRUSTED_PROXIES: '127.0.0.1, ::1,,10.0.0.2 ' }).trustedProxies;
    expect(checkTrustedProxies(given)).toEqual(['127.0.0.1', '::1', '10.0.0.2']);
  });

  it('refuses a host name or a range with a code, naming the entry', () => {
    for (const entry of ['proxy.local', '10.0.0.0/8', '127.0.0.1:8080'])
      expect(() => checkTrustedProxies(['127.0.0.1', entry])).toThrow(
        new RegExp(`^config\\.bad_trusted_proxies: .*"${entry.replace(/\./g, '\\.')}" is not one`),
      );
  });
});
