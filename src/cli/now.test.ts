import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { parseMoment } from '../domain/moment.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-cli-now-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const env = { KETENDATA_DATA_DIR: dataDir, KETENDATA_SECRET: 'cli-now-secret-cli-now-secret-cli-now' };

describe('--now', () => {
  it('takes a full ISO-8601 date-time with a zone on a real date, and nothing else', () => {
    expect(parseMoment('2026-12-06T06:00:00+01:00')?.toISOString()).toBe('2026-12-06T05:00:00.000Z');
    expect(parseMoment('2026-12-06T06:00Z')?.toISOString()).toBe('2026-12-06T06:00:00.000Z');
    expect(parseMoment('2026-12-06T06:00:00.25-03:30')?.toISOString()).toBe('2026-12-06T09:30:00.250Z');
    expect(parseMoment('2024-02-29T00:00:00Z')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    // The basic form of the offset, as hub manifests may write it.
    expect(parseMoment('2026-12-06T06:00:00+0100')?.toISOString()).toBe('2026-12-06T05:00:00.000Z');
    for (const bad of [
      '12345',
      '2026-12-06',
      '2026-12-06T06:00:00',
      '2026-12-06 06:00:00Z',
      '2026-02-30T06:00:00Z',
      '2023-02-29T06:00:00Z',
      '2026-13-01T06:00:00Z',
      '2026-12-06T24:00:00Z',
      '2026-12-06T06:60:00Z',
      '2026-12-06T06:00:00+1:00',
      '+012345-12-06T06:00:00Z',
      'gisteren',
      '',
    ]) {
      expect(parseMoment(bad), bad).toBeUndefined();
    }
  });

  const commands: string[][] = [
    ['deliver'],
    ['deliveries', '0363'],
    ['download', '0363', '--out', join(dataDir, 'out')],
    ['indicators', '0363'],
    ['organisations', 'add', '0363', '--name', 'Amsterdam'],
    ['organisations', 'activate', '0363'],
    ['organisations', 'members', 'HO-1', '--members', '0363'],
    ['organisations', 'request-history', '0363'],
    ['ingest', join(dataDir, 'nowhere')],
    ['quarantine', 'retry'],
    ['orphans'],
    ['simulate', '--out', join(dataDir, 'sim')],
    ['users', 'add', 'x@y.nl', '--name', 'X', '--operator'],
    ['users', 'disable', 'x@y.nl'],
    ['users', 'enable', 'x@y.nl'],
    ['users', 'reset-second-factor', 'x@y.nl'],
    ['users', 'reset-password', 'x@y.nl'],
    ['tokens', 'add', 'script', '--operator'],
    ['tokens', 'revoke', '1', '--operator'],
    ['organisations', 'personal-data', '0363', 'leave-out'],
    ['quarantine', 'dismiss', '1', '--note', 'x'],
    ['demo', '--no-serve'],
  ];
  for (const command of commands) {
    const label = command.slice(
      0,
      ['organisations', 'quarantine', 'users', 'tokens'].includes(command[0] ?? '') ? 2 : 1,
    );
    it(`is refused by ${label.join(' ')} unless it is a moment with a zone (exit code 2)`, async () => {
      vi.stubEnv('KETENDATA_NEW_PASSWORD', 'lang genoeg wachtwoord');
      try {
        for (const value of ['12345', '2026-12-06T06:00:00', '2026-12-06', '2026-02-30T06:00:00Z']) {
          const r = await runCli([...command, '--now', value], env);
          expect(r.code, `${command.join(' ')} --now ${value}`).toBe(2);
          expect(r.err).toBe(
            `cli.bad_now: --now ${value} is not an ISO-8601 moment with a time zone, e.g. 2026-12-06T06:00:00+01:00\n`,
          );
          expect(r.out).toBe('');
        }
      } finally {
        vi.unstubAllEnvs();
      }
    });
  }

  it('refuses before anything is written', () => {
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
