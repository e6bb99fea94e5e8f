import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('takes postgres:// and postgresql:// URLs, and none for the embedded store', () => {
    for (const url of ['postgres://db/k', 'postgresql://u@127.0.0.1:5432/test', 'POSTGRES://db/k'])
      expect(loadConfig({ KETENDATA_DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(loadConfig({ KETENDATA_DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('refuses any other URL with a code, without repeating it', () => {
    for (const url of ['garbage', 'mysql://root:hunter2@db/k', 'sqlite:///tmp/x.db', 'postgres:/db'])
      expect(() => loadConfig({ KETENDATA_DATABASE_URL: url })).toThrow(
        /^config\.bad_database_url: (?!.*hunter2)/,
      );
  });
});
