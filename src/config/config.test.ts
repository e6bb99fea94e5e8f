import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkDatabaseUrl,
  checkTrustedProxies,
  ensureDataFolder,
  loadConfig,
  requireSecret,
} from './config.js';

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
  it('defaults to ./data, the folder data in the working directory, when unset or empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cwd-'));
    const before = process.cwd();
    try {
      process.chdir(dir);
      const cwd = realpathSync(dir);
      const { KETENDATA_DATA_DIR: _, ...unset } = process.env;
      expect(loadConfig(unset).dataDir).toBe(join(cwd, 'data'));
      expect(loadConfig({}).dataDir).toBe(join(cwd, 'data'));
      expect(loadConfig({ KETENDATA_DATA_DIR: '' }).dataDir).toBe(join(cwd, 'data'));
      // Set, it is used as given (relative to the working directory too).
      expect(loadConfig({ KETENDATA_DATA_DIR: 'elders' }).dataDir).toBe(join(cwd, 'elders'));
      expect(loadConfig({ KETENDATA_DATA_DIR: '/srv/ketendata' }).dataDir).toBe('/srv/ketendata');
    } finally {
      process.chdir(before);
      rmSync(dir, { recursive: true, force: true });
    }
  });

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

  it('takes ranges (CIDR) beside addresses', () => {
    const given = ['10.1.0.0/16', 'fd00::/8', '192.0.2.7/32', '::1/128'];
    expect(checkTrustedProxies(given)).toEqual(given);
  });

  it('refuses a host name, a port or a range that is not one (or would trust everyone), naming the entry', () => {
    const bad = ['proxy.local', '127.0.0.1:8080', '10.0.0.0/0', '::/0', '10.0.0.0/33', '::/129', '10.0.0.0/'];
    for (const entry of [...bad, '10.0.0.0/8/8', 'proxy.local/8', '10.0.0.0/x'])
      expect(() => checkTrustedProxies(['127.0.0.1', entry])).toThrow(
        new RegExp(`^config\\.bad_trusted_proxies: .*"${entry.replace(/\./g, '\\.')}" is not one`),
      );
  });
});

describe('KETENDATA_SECRET', () => {
  const secret = (value: string) => () => requireSecret(loadConfig({ KETENDATA_SECRET: value }));

  it('takes a secret of at least 32 characters as given, spaces inside included', () => {
    expect(secret('a-secret-of-32-characters-length')()).toBe('a-secret-of-32-characters-length');
    expect(secret('a secret of 32 characters length')()).toBe('a secret of 32 characters length');
  });

  it('refuses one that is not set, blank or too short', () => {
    expect(secret('')).toThrow(/^KETENDATA_SECRET is not set: set it to the secret the store was built with/);
    expect(secret(' '.repeat(35))).toThrow(/^config\.blank_secret: KETENDATA_SECRET is only whitespace/);
    expect(secret('\t\n'.repeat(20))).toThrow(/^config\.blank_secret: /);
    expect(secret('too-short')).toThrow(/^KETENDATA_SECRET is too short/);
  });

  it('refuses one that starts or ends with whitespace (a copied line break), without trimming it', () => {
    for (const value of [
      'a-secret-of-32-characters-length\n',
      ' a-secret-of-32-characters-length',
      'a-secret-of-32-characters-length\t',
    ])
      expect(secret(value)).toThrow(
        /^config\.secret_whitespace: KETENDATA_SECRET starts or ends with whitespace \(a space, tab or line break\): remove it$/,
      );
  });
});
