import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as OTPAuth from 'otpauth';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { exampleTraffic, SECRET } from '../../test/support/exchange-fixtures.js';
import { main } from '../main.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { openStore } from '../store/open.js';
import { beginTotp, confirmTotp, createUser } from '../usecases/accounts.js';
import { secretFingerprint } from '../usecases/store-secret.js';

const NOW = new Date('2026-03-02T08:00:00Z');

const traffic = exampleTraffic();
const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-cli-ingest-'));
afterAll(() => {
  rmSync(traffic.dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});
const env = { KETENDATA_DATA_DIR: dataDir, KETENDATA_SECRET: SECRET };

const run = (args: string[]) => runCli(args, env);

describe('ketendata ingest and quarantine', () => {
  it('ends an ingest with the summary that accounts for every exchange, and lists the quarantine', async () => {
    const first = await run(['ingest', traffic.dir]);
    expect(first.code).toBe(0);
    const t = traffic.expected;
    expect(first.out).toContain(
      `received ${t.received}, stored ${t.stored}, duplicates ${t.duplicates}, conflicts ${t.conflicts}, quarantined ${t.quarantined}\n`,
    );
    expect(first.out).toContain('  quarantined ingest.xsd_invalid: 1');
    expect(first.err).toContain(`ingest: ${t.received}/${t.received} exchanges`);
    const again = await run(['ingest', traffic.dir, '--no-progress']);
    expect(again.out).toContain(
      `stored 0, duplicates 0, conflicts 0, quarantined 0, already ingested ${t.received}`,
    );
    expect(again.err).toBe('');
    const list = await run(['quarantine', 'list']);
    expect(list.out).toContain(`${t.quarantined} open items`);
    expect(list.out).toMatch(/\topen\tingest\.not_well_formed\t/);
    // Each line names the file, what it came in through and the code once, in their own columns, then
    // what is wrong.
    for (const line of list.out.trim().split('\n').slice(0, -1)) {
      const [, , code, , file, ingestSource, reason] = line.split('\t');
      expect(ingestSource, line).toBe(join(traffic.dir, 'manifest.ndjson'));
      expect(reason, line).not.toContain(file!);
      expect(reason, line).not.toContain(code!);
      expect(reason!.length, line).toBeGreaterThan(10);
    }
  });

  it('dismisses quarantine items with a note: gone from the open list, kept with --all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-dismiss-'));
    try {
      const e = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      expect(await main(['ingest', traffic.dir, '--no-progress'], e)).toBe(0);
      const ids = (await runCli(['quarantine', 'list'], e)).out
        .trim()
        .split('\n')
        .slice(0, -1)
        .map((l) => l.split('\t')[0]!);
      const noNote = await runCli(['quarantine', 'dismiss', ids[0]!], e);
      expect(noNote.code).toBe(2);
      expect(noNote.err).toBe('quarantine.no_note: say why the items are closed (--note)\n');
      expect((await runCli(['quarantine', 'dismiss', 'x1', '--note', 'n'], e)).code).toBe(2);
      const done = await runCli(['quarantine', 'dismiss', ids[0]!, '999', '--note', 'nieuw bericht'], e);
      expect(done.out).toBe(`dismissed 1: ${ids[0]}\n`);
      expect(done.err).toBe('quarantine.unknown_id: no open quarantine item 999\n');
      expect(done.code).toBe(1);
      expect((await runCli(['quarantine', 'list'], e)).out).toContain(`${ids.length - 1} open items`);
      expect((await runCli(['quarantine', 'list', '--all'], e)).out).toMatch(
        new RegExp(`^${ids[0]}\tdismissed\t`, 'm'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear message when the secret is missing or the source does not exist', async () => {
    const noSecret = await main(['ingest', traffic.dir], { KETENDATA_DATA_DIR: dataDir });
    expect(noSecret).toBe(1);
    const missing = await run(['ingest', join(dataDir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ingest.source_missing');
  });

  it('re-encrypts the kept raw messages under a new secret with raw-rekey', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-rekey-'));
    try {
      const oldEnv = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      expect(await main(['ingest', traffic.dir, '--no-progress'], oldEnv)).toBe(0);
      // An operator with a second factor enrolled under the old secret.
      const store = await openStore({ databaseUrl: undefined, dataDir: dir });
      const oldKeys = deriveKeys(SECRET);
      const op = await createUser(
        store.db,
        {
          email: 'op@ketendata.nl',
          displayName: 'Op',
          password: 'correct horse battery',
          role: 'operator',
          organisationCode: null,
        },
        NOW,
      );
      const { secret } = await beginTotp(store.db, oldKeys, op.id);
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
      await confirmTotp(store.db, oldKeys, op.id, totp.generate({ timestamp: NOW.getTime() }), NOW);
      await store.close();
      // A file without the secret the store was built with: refused before anything is re-encrypted.
      const wrongFile = join(dir, 'wrong-secret');
      writeFileSync(wrongFile, 'not-the-old-secret-not-the-old-secret-not-it\n');
      const wrong = await runCli(['raw-rekey', '--previous-secret-file', wrongFile], {
        ...oldEnv,
        KETENDATA_SECRET: `${SECRET}-new`,
      });
      expect(wrong).toMatchObject({ code: 1, out: '' });
      expect(wrong.err).toMatch(
        /^ketendata: keys\.secret_mismatch: the store in .* was built with a master secret that is neither KETENDATA_SECRET .* nor one in the previous-secret file/,
      );
      const file = join(dir, 'old-secret');
      writeFileSync(file, `${SECRET}\n`);
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const code = await main(['raw-rekey', '--previous-secret-file', file], {
        ...oldEnv,
        KETENDATA_SECRET: `${SECRET}-new`,
      });
      const out = spy.mock.calls.map((c) => String(c[0])).join('');
      spy.mockRestore();
      expect(code).toBe(0);
      expect(out).toMatch(/re-encrypted (\d+) raw message/);
      expect(Number(/re-encrypted (\d+)/.exec(out)![1])).toBe(
        traffic.expected.stored + traffic.expected.quarantined,
      );
      const newKeys = deriveKeys(`${SECRET}-new`);
      expect(out).toContain(`re-encrypted 1 TOTP secret under key ${newKeys.totpKeyId}\n`);
      // The store is the new secret's now: the old one is refused, the new one goes on.
      expect(out).toContain(
        `store bound to the current KETENDATA_SECRET (fingerprint ${secretFingerprint(oldKeys)} → ${secretFingerprint(newKeys)}): every command now needs this secret\n`,
      );
      const old = await runCli(['ingest', traffic.dir, '--no-progress'], oldEnv);
      expect(old.code).toBe(1);
      expect(old.err).toContain('keys.secret_mismatch');
      const again = await runCli(['ingest', traffic.dir, '--no-progress'], {
        ...oldEnv,
        KETENDATA_SECRET: `${SECRET}-new`,
      });
      expect(again).toMatchObject({ code: 0, err: '' });
      const after = await openStore({ databaseUrl: undefined, dataDir: dir });
      try {
        const row = await after.db
          .selectFrom('app_user')
          .select('totp_secret')
          .where('id', '=', op.id)
          .executeTakeFirstOrThrow();
        expect(row.totp_secret).toMatch(new RegExp(`^v1:${newKeys.totpKeyId}:`));
      } finally {
        await after.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
