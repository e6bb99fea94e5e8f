import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'ketendata-demo-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const NOW = '2024-06-05T12:00:00Z';

describe('ketendata demo', () => {
  it('refuses a data folder holding a store that is not a demo, before writing anything', async () => {
    const env = { KETENDATA_DATA_DIR: join(work, 'real') };
    expect((await runCli(['organisations', 'add', '0310', '--name', 'De Bilt'], env)).code).toBe(0);
    const before = readdirSync(env.KETENDATA_DATA_DIR).sort();
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `demo.not_demo_store: ${env.KETENDATA_DATA_DIR} holds a store that is not a demo: use another KETENDATA_DATA_DIR (a new or empty folder) for the demo\n`,
      );
    }
    expect(readdirSync(env.KETENDATA_DATA_DIR).sort()).toEqual(before);
    expect(existsSync(join(env.KETENDATA_DATA_DIR, 'demo-secret'))).toBe(false);
  });

  it('refuses a store that has accounts but is not a demo (it would serve it under demo keys)', async () => {
    const env = { KETENDATA_DATA_DIR: join(work, 'accounts') };
    process.env.KETENDATA_NEW_PASSWORD = 'een lang genoeg wachtwoord';
    try {
      const user = await runCli(
        ['users', 'add', 'beheer@example.org', '--operator', '--name', 'Beheer'],
        env,
      );
      expect(user.code, user.err).toBe(0);
    } finally {
      delete process.env.KETENDATA_NEW_PASSWORD;
    }
    const r = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
    expect(r.code).toBe(1);
    expect(r.err).toContain('demo.not_demo_store');
    expect(existsSync(join(env.KETENDATA_DATA_DIR, 'demo-secret'))).toBe(false);
  });

  it('makes a demo in an empty folder, and a restart finds it and leaves it as it is', async () => {
    const env = { KETENDATA_DATA_DIR: join(work, 'demo') };
    const first = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/demo: ready in /);
    expect(first.out).toContain('demo: simulating 1 week of traffic …\n');
    const again = await runCli(['demo', '--no-serve', '--weeks', '1', '--now', NOW], env);
    expect(again).toMatchObject({ code: 0, err: '' });
    expect(again.out).toBe(`demo: existing data in ${env.KETENDATA_DATA_DIR}\n`);
  });
});
