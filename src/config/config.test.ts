import { describe, expect, it } from 'vitest';
import { checkDatabaseUrl, loadConfig } from './config.js';

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
