import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as OTPAuth from 'otpauth';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { EXAMPLES, exampleTraffic, SECRET } from '../../test/support/exchange-fixtures.js';
import { main } from '../main.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { openStore, type Store } from '../store/open.js';
import { beginTotp, confirmTotp, createUser } from '../usecases/accounts.js';
import { MAX_EXCHANGE_BYTES } from '../usecases/ingest-sources.js';
import { bindStoreSecret, secretFingerprint } from '../usecases/store-secret.js';
import { MAX_ITEM_LINES } from './item-lines.js';

const NOW = new Date('2026-03-02T08:00:00Z');

const traffic = exampleTraffic();
const dataDir = mkdtempSync(join(tmpdir(), 'ketendata-cli-ingest-'));
afterAll(() => {
  rmSync(traffic.dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});
const env = { KETENDATA_DATA_DIR: dataDir, KETENDATA_SECRET: SECRET };

const run = (args: string[]) => runCli(args, env);

/** The operator whose second factor the rotation tests follow. */
const operatorUser = (store: Store) =>
  createUser(
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

describe('ketendata ingest and quarantine', () => {
  it('ends an ingest with the summary that accounts for every exchange, and lists the quarantine', async () => {
    const first = await run(['ingest', traffic.dir]);
    expect(first.code).toBe(0);
    const t = traffic.expected;
    expect(first.out).toContain(
      `received ${t.received}, stored ${t.stored} (${t.conflicts} conflict), duplicates ${t.duplicates}, quarantined ${t.quarantined}\n`,
    );
    expect(first.out).toContain('  quarantined ingest.xsd_invalid: 1');
    expect(first.err).toContain(`ingest: ${t.received}/${t.received} exchanges`);
    const again = await run(['ingest', traffic.dir, '--no-progress']);
    expect(again.out).toContain(
      `stored 0 (0 conflicts), duplicates 0, quarantined 0, already ingested ${t.received}`,
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

  it('lists the conflicting versions afterwards, each with its file (ketendata conflicts)', async () => {
    // The first test ingested the traffic: one JW305 came twice with other content.
    const list = await run(['conflicts']);
    expect(list.code).toBe(0);
    const lines = list.out.trim().split('\n');
    expect(lines.at(-1)).toBe('2 versions of 1 message');
    const versions = lines.slice(0, -1).map((l) => l.split('\t'));
    expect(versions.map((v) => [v[0], v[2], v[3]])).toEqual([
      ['1', 'JW305', '0363'],
      ['1', 'JW305', '0363'],
    ]);
    for (const v of versions) {
      expect(v).toHaveLength(14);
      expect(v[12]).toMatch(/^berichten\/\d{3}\.xml$/);
      expect(v[13]).toBe(join(traffic.dir, 'manifest.ndjson'));
    }
    expect(versions[0]![8]).not.toBe(versions[1]![8]);
    const json = await run(['conflicts', '--json', '--gemeente', '0363']);
    expect(
      json.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toEqual(versions.map((v) => Number(v[1])));
    const none = await run(['conflicts', '--gemeente', '0599']);
    expect(none.out).toBe('0 versions of 0 messages\n');
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
      // A BSN in the note is masked before it is stored, and the operator is shown the note as stored.
      const bsn = await runCli(['quarantine', 'dismiss', ids[1]!, '--note', 'bsn 111222333 fout'], e);
      expect(bsn.out).toBe(
        `dismissed 1: ${ids[1]}\nnote stored as: bsn ********* fout (runs of 9 or more digits, and a BSN written in groups, are masked; words of more than 300 characters cut)\n`,
      );
      expect((await runCli(['quarantine', 'list'], e)).out).toContain(`${ids.length - 2} open items`);
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
    const t = traffic.expected;
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-rekey-'));
    try {
      const oldEnv = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      expect(await main(['ingest', traffic.dir, '--no-progress'], oldEnv)).toBe(0);
      // An operator with a second factor enrolled under the old secret.
      const store = await openStore({ databaseUrl: undefined, dataDir: dir });
      const oldKeys = deriveKeys(SECRET);
      const op = await operatorUser(store);
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
      const newEnv = { ...oldEnv, KETENDATA_SECRET: `${SECRET}-new` };
      const newKeys = deriveKeys(`${SECRET}-new`);
      // The store holds messages: moving it to the new secret would split it, so not without the flag.
      const keyIds = async () => {
        const s = await openStore({ databaseUrl: undefined, dataDir: dir });
        try {
          const raw = await s.db.selectFrom('raw_message').select('key_id').distinct().execute();
          const fp = await s.db.selectFrom('store_secret').select('key_id').execute();
          const totp = await s.db.selectFrom('app_user').select('totp_secret').execute();
          return { raw: raw.map((r) => r.key_id), fp: fp.map((r) => r.key_id), totp };
        } finally {
          await s.close();
        }
      };
      const before = await keyIds();
      expect(before.raw).toEqual([oldKeys.rawKeyId]);
      const refused = await runCli(['raw-rekey', '--previous-secret-file', file], newEnv);
      expect(refused).toMatchObject({ code: 2, out: '' });
      expect(refused.err).toBe(
        `keys.rekey_would_split: the store in ${dir} holds ${t.stored} messages and ${t.received} exchanges pseudonymised with the old secret (fingerprint ${secretFingerprint(oldKeys)}): moving it to the new secret (fingerprint ${secretFingerprint(newKeys)}) makes re-ingested messages count as new (stored twice), new messages not link with the old, and organisations' hashes change. Nothing was re-encrypted. For a suspected leak see docs/keys.md, "Rotation"; to move it anyway, run again with --new-pseudonyms\n`,
      );
      expect(await keyIds()).toEqual(before);
      expect(before.fp).toEqual([secretFingerprint(oldKeys)]);
      const help = await runCli(['raw-rekey', '--help'], newEnv);
      expect(help.out.replace(/\s+/g, ' ')).toContain(
        `--new-pseudonyms move a store that holds messages to the new secret anyway, accepting that re-ingested messages are stored again, new messages do not link with the old and organisations' hashes change`,
      );
      const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const code = await main(['raw-rekey', '--previous-secret-file', file, '--new-pseudonyms'], newEnv);
      const out = spy.mock.calls.map((c) => String(c[0])).join('');
      const err = e.mock.calls.map((c) => String(c[0])).join('');
      spy.mockRestore();
      e.mockRestore();
      expect(code).toBe(0);
      // Allowed, and said again after the move.
      expect(err).toBe(
        `keys.new_pseudonyms: warning: the store in ${dir} still holds ${t.stored} messages and ${t.received} exchanges pseudonymised with the old secret (fingerprint ${secretFingerprint(oldKeys)}): from now on re-ingested messages count as new (stored twice), new messages do not link with the old, and organisations' hashes change (docs/keys.md, "Rotation")\n`,
      );
      expect(out).toMatch(/re-encrypted (\d+) raw message/);
      expect(Number(/re-encrypted (\d+)/.exec(out)![1])).toBe(
        traffic.expected.stored + traffic.expected.quarantined,
      );
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
      // Under the new secret the exchanges hash anew (docs/keys.md): what cannot be stored is named again.
      expect(again.code).toBe(0);
      expect(again.err).not.toContain('keys.');
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

  it('raw-rekey without --new-pseudonyms: the current secret in the file on a store with messages, and a store without messages moved to the new secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-rekey-ok-'));
    const empty = mkdtempSync(join(tmpdir(), 'ketendata-cli-rekey-empty-'));
    try {
      // The upgrade case: the file holds the current secret, the fingerprint does not move; a TOTP secret
      // stored in clear by an older version is encrypted.
      const e = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      expect(await main(['ingest', traffic.dir, '--no-progress'], e)).toBe(0);
      const store = await openStore({ databaseUrl: undefined, dataDir: dir });
      const op = await operatorUser(store);
      await store.db
        .updateTable('app_user')
        .set({ totp_secret: 'JBSWY3DPEHPK3PXP' })
        .where('id', '=', op.id)
        .execute();
      await store.close();
      const current = join(dir, 'current-secret');
      writeFileSync(current, `${SECRET}\n`);
      const keys = deriveKeys(SECRET);
      const upgrade = await runCli(['raw-rekey', '--previous-secret-file', current], e);
      expect(upgrade).toMatchObject({
        code: 0,
        err: '',
        out: `re-encrypted 0 raw messages under key ${keys.rawKeyId}\nre-encrypted 0 TOTP secrets under key ${keys.totpKeyId} (and encrypted 1 TOTP secret stored in clear)\n`,
      });
      // A store without messages or exchanges, bound to the old secret: moved without the flag, no warning.
      const oldKeys = deriveKeys(SECRET);
      const newKeys = deriveKeys(`${SECRET}-new`);
      const bare = await openStore({ databaseUrl: undefined, dataDir: empty });
      await bindStoreSecret(bare, oldKeys, { now: NOW });
      await bare.close();
      const old = join(empty, 'old-secret');
      writeFileSync(old, `${SECRET}\n`);
      const moved = await runCli(['raw-rekey', '--previous-secret-file', old], {
        KETENDATA_DATA_DIR: empty,
        KETENDATA_SECRET: `${SECRET}-new`,
      });
      expect(moved).toMatchObject({ code: 0, err: '' });
      expect(moved.out).toContain(
        `store bound to the current KETENDATA_SECRET (fingerprint ${secretFingerprint(oldKeys)} → ${secretFingerprint(newKeys)}): every command now needs this secret\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('names each quarantined exchange on stderr as it happens: file, reason, code and the item id that list and retry know', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-lines-'));
    try {
      const e = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      const first = await runCli(['ingest', traffic.dir, '--no-progress'], e);
      expect(first.code).toBe(0);
      const lines = first.err.split('\n').filter((l) => l.startsWith('quarantined '));
      expect(lines).toHaveLength(traffic.expected.quarantined);
      // Each line is the listing's item: its id, file, reason (the parser's own error) and code.
      const listed = (await runCli(['quarantine', 'list'], e)).out.trim().split('\n').slice(0, -1);
      expect(lines).toEqual(
        listed.map((row) => {
          const [id, , code, , file, , reason] = row.split('\t');
          return `quarantined (item ${id}): ${file}: ${reason} (${code})`;
        }),
      );
      const xsd = lines.find((l) => l.endsWith('(ingest.xsd_invalid)'))!;
      expect(xsd).toMatch(/^quarantined \(item \d+\): berichten\/\d+\.xml: JW315 \/\S+ line \d+: .{10,}/);
      // The exchange that came with other content: named, with the message and the version it joins.
      expect(first.err).toMatch(
        /^conflict: berichten\/\d+\.xml: JW305 Identificatie 123456789012 came again with other content: stored as message \d+ beside the earlier version, message \d+ \(both flagged conflict\)$/m,
      );
      // quarantine retry names what is still quarantined the same way.
      const id = /^quarantined \(item (\d+)\)/.exec(xsd)![1]!;
      const retry = await runCli(['quarantine', 'retry', id], e);
      expect(retry).toMatchObject({ code: 0, err: `${xsd}\n` });
      expect(retry.out).toContain('still quarantined 1');
      // Fixing the file on disk is no use to a retry: it says so, and what is.
      expect(retry.out).toContain('retry reads the message as it was received, not the file on disk');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names at most MAX_ITEM_LINES quarantined exchanges in a run, then how many more and where to find them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-flood-'));
    const src = mkdtempSync(join(tmpdir(), 'ketendata-cli-flood-src-'));
    try {
      const n = MAX_ITEM_LINES + 3;
      for (let i = 0; i < n; i++) writeFileSync(join(src, `${String(i).padStart(3, '0')}.xml`), '<a>');
      const r = await runCli(['ingest', src, '--no-progress'], {
        KETENDATA_DATA_DIR: dir,
        KETENDATA_SECRET: SECRET,
      });
      expect(r.code).toBe(0);
      const err = r.err.trim().split('\n');
      expect(err).toHaveLength(MAX_ITEM_LINES + 1);
      expect(err[0]).toMatch(
        /^quarantined \(item \d+\): 000\.xml: line 1: root element \{\}a is not an iJw\/iWmo 3\.2 message \(ingest\.unknown_type\)$/,
      );
      expect(err.at(-1)).toBe('… and 3 more quarantined: see `ketendata quarantine list`');
      expect(r.out).toContain(`received ${n}, stored 0 (0 conflicts), duplicates 0, quarantined ${n}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('names each conflict, and its summary adds up: stored includes the conflicts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-conflict-'));
    const src = mkdtempSync(join(tmpdir(), 'ketendata-cli-conflict-src-'));
    try {
      const jw305 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW305.xml'), 'utf8');
      // One message three times, each with another Begindatum: the same message key, other content.
      for (const [file, year] of [
        ['a.xml', 0],
        ['b.xml', 1],
        ['c.xml', 2],
      ] as const)
        writeFileSync(
          join(src, file),
          jw305.replace(
            /<([a-z0-9]+:)?Begindatum>(\d{4})-/,
            (_m, p = '', y) => `<${p}Begindatum>${Number(y) - year}-`,
          ),
        );
      const r = await runCli(['ingest', src, '--no-progress'], {
        KETENDATA_DATA_DIR: dir,
        KETENDATA_SECRET: SECRET,
      });
      expect(r.code).toBe(0);
      expect(r.out).toBe('received 3, stored 3 (2 conflicts), duplicates 0, quarantined 0\n');
      const conflicts = [
        ...r.err.matchAll(
          /^conflict: (\S+): JW305 Identificatie 123456789012 came again with other content: stored as message (\d+) beside the earlier version, message (\d+) \(both flagged conflict\)$/gm,
        ),
      ];
      expect(conflicts.map((m) => m[1])).toEqual(['b.xml', 'c.xml']);
      const store = await openStore({ databaseUrl: undefined, dataDir: dir });
      try {
        const rows = await store.db
          .selectFrom('exchange')
          .select(['source', 'message_seq'])
          .orderBy('source')
          .execute();
        const seq = Object.fromEntries(rows.map((x) => [x.source, String(x.message_seq)]));
        // b beside a, c beside the latest earlier version, b.
        expect(conflicts.map((m) => [m[2], m[3]])).toEqual([
          [seq['b.xml'], seq['a.xml']],
          [seq['c.xml'], seq['b.xml']],
        ]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('escapes control characters in the quarantine listing, so a tab or line break in a name keeps one record per line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-tsv-'));
    const src = mkdtempSync(join(tmpdir(), 'ketendata-cli-tsv-src-'));
    try {
      writeFileSync(join(src, 'a\tb\nc.xml'), '<a>');
      const e = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      const ingest = await runCli(['ingest', src, '--no-progress'], e);
      const list = await runCli(['quarantine', 'list'], e);
      const lines = list.out.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]!.split('\t')).toHaveLength(7);
      expect(lines[0]!.split('\t')[4]).toBe('a\\x09b\\x0ac.xml');
      expect(lines[1]).toBe('1 open item');
      // JSON keeps the name as it is.
      const json = await runCli(['quarantine', 'list', '--json'], e);
      expect(JSON.parse(json.out).source).toBe('a\tb\nc.xml');
      // The stderr line of the ingest too.
      expect(ingest.err).toMatch(
        /^quarantined \(item \d+\): a\\x09b\\x0ac\.xml: .* \(ingest\.unknown_type\)\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('refuses a retry --file that is no regular file or too large, with a coded error and without waiting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-cli-retry-file-'));
    try {
      const e = { KETENDATA_DATA_DIR: dir, KETENDATA_SECRET: SECRET };
      const fifo = join(dir, 'pipe.xml');
      execFileSync('mkfifo', [fifo]);
      const big = join(dir, 'big.xml');
      writeFileSync(big, '');
      truncateSync(big, MAX_EXCHANGE_BYTES + 1);
      const cases: [string, string][] = [
        [fifo, 'is a named pipe (FIFO), not a regular file: only regular files are read'],
        [dir, 'is a folder, not a regular file: only regular files are read'],
        ['/dev/zero', 'is a character device, not a regular file: only regular files are read'],
        [big, 'has 20,971,521 bytes, more than the 20,971,520 (20 MB) of one exchange'],
      ];
      for (const [file, why] of cases) {
        const r = await runCli(['quarantine', 'retry', '7', '--file', file], e);
        expect(r).toEqual({ code: 1, out: '', err: `quarantine.file_unreadable: ${file}: ${why}\n` });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 10_000);
});
