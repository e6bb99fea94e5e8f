import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { DIALECTS, freshStore, rowCounts } from '../../test/support/databases.js';
import { exampleTraffic } from '../../test/support/exchange-fixtures.js';
import { HISTORY_START_INSTANT } from '../domain/delivery-week.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { rawKeyRing } from '../pseudonymise/raw-encryption.js';
import { openTotpSecret, sealTotpSecret } from '../pseudonymise/totp-secret.js';
import type { Dialect } from '../store/database.js';
import { openStore, type Store } from '../store/open.js';
import { readStoreSecret } from '../store/store-secret.js';
import { secretFingerprint } from '../usecases/store-secret.js';

const traffic = exampleTraffic();
const files = mkdtempSync(join(tmpdir(), 'ketendata-reprocess-'));
afterAll(() => {
  rmSync(traffic.dir, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});
const A = 'the-old-leaked-secret-the-old-leaked-secret';
const B = 'the-new-secret-after-the-leak-the-new-secret';
const C = 'yet-another-secret-yet-another-secret-yet';
const keysA = deriveKeys(A);
const keysB = deriveKeys(B);
const TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const FRIDAY = ['--now', '2024-03-01T10:00:00Z'];
const SUNDAY = '2024-03-03T06:00:00+01:00';
const NEXT_SUNDAY = '2024-03-10T06:00:00+01:00';
const TABLES = [
  'message',
  'exchange',
  'quarantine',
  'raw_message',
  'ingest_run',
  'organisation',
  'app_user',
  'api_token',
  'audit_log',
  'link',
  'store_secret',
] as const;

const secretFile = (name: string, ...secrets: string[]) => {
  const path = join(files, name);
  writeFileSync(path, `${secrets.join('\n')}\n`, { mode: 0o600 });
  return path;
};

type Fresh = Awaited<ReturnType<typeof freshStore>>;
const envOf = (f: Fresh, secret?: string): NodeJS.ProcessEnv => ({
  KETENDATA_DATA_DIR: f.dataDir,
  ...(f.url ? { KETENDATA_DATABASE_URL: f.url } : {}),
  ...(secret ? { KETENDATA_SECRET: secret } : {}),
});
/** How the reprocess names `f` as its old store. */
const fromOf = (f: Fresh) => (f.url ? ['--from-database-url', f.url] : ['--from-data-dir', f.dataDir]);

async function withStore<T>(f: Fresh, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore({ databaseUrl: f.url, dataDir: f.dataDir });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** The old store: the example traffic under secret A, an organisation, a head organisation, a user with TOTP, a token, a dismissed item. */
async function buildOld(dialect: Dialect): Promise<Fresh> {
  const old = await freshStore(dialect);
  await old.store.close();
  const env = envOf(old, A);
  expect((await runCli(['ingest', traffic.dir, '--no-progress'], env)).code).toBe(0);
  for (const argv of [
    ['organisations', 'add', '0384', '--name', 'Diemen', ...FRIDAY],
    ['organisations', 'activate', '0384', ...FRIDAY],
    ['organisations', 'add', 'regio-amstel', '--name', 'Regio Amstel', '--members', '0384,0363', ...FRIDAY],
  ])
    expect((await runCli(argv, env)).code, argv.join(' ')).toBe(0);
  vi.stubEnv('KETENDATA_NEW_PASSWORD', 'a-long-enough-password');
  const user = await runCli(
    ['users', 'add', 'ann@example.nl', '--name', 'Ann', '--organisation', '0384'],
    env,
  );
  vi.unstubAllEnvs();
  expect(user.code).toBe(0);
  expect((await runCli(['tokens', 'add', 'feed', '--organisation', '0384'], env)).code).toBe(0);
  await withStore(old, async (s) => {
    const u = await s.db
      .selectFrom('app_user')
      .select('id')
      .where('email', '=', 'ann@example.nl')
      .executeTakeFirstOrThrow();
    await s.db
      .updateTable('app_user')
      .set({ totp_secret: sealTotpSecret(keysA, Number(u.id), TOTP), totp_enabled: 1 })
      .where('id', '=', u.id)
      .execute();
  });
  const first = await withStore(old, (s) =>
    s.db.selectFrom('quarantine').select('id').orderBy('id').executeTakeFirstOrThrow(),
  );
  expect(
    (await runCli(['quarantine', 'dismiss', String(first.id), '--note', 'the sender corrected it'], env))
      .code,
  ).toBe(0);
  // A weekly in the old hashes: its cursor is the old store's and must not be carried.
  expect((await runCli(['deliver', '--now', SUNDAY], env)).code).toBe(0);
  return old;
}

describe.each(DIALECTS)('ketendata reprocess (%s)', (dialect) => {
  it('re-processes every exchange into a fresh store under the new secret, carries organisations, users and tokens over, refuses what is not a rotation, and adds nothing when run again', async () => {
    const old = await buildOld(dialect);
    const fresh = await freshStore(dialect);
    await fresh.store.close();
    const other = await freshStore(dialect);
    await other.store.close();
    const oldFile = secretFile('old', C, A);
    const run = (argv: string[], into: Fresh, secret = B) =>
      runCli(['reprocess', '--no-progress', ...argv], envOf(into, secret));
    try {
      const oldBefore = await withStore(old, (s) => rowCounts(s, TABLES));
      const freshBefore = await withStore(fresh, (s) => rowCounts(s, TABLES));
      expect(freshBefore.store_secret).toBe(0);

      // No old store named, or both ways; a batch too large for one statement's parameters.
      expect((await run(['--previous-secret-file', oldFile], fresh)).code).toBe(2);
      const big = await run(
        ['--previous-secret-file', oldFile, ...fromOf(old), '--batch-size', '10001'],
        fresh,
      );
      expect(big.code).toBe(2);
      expect(big.err).toContain(
        'reprocess.bad_option: --batch-size must be a positive whole number of at most 10000',
      );
      // The old store's secret is not in the file.
      const wrong = await run(['--previous-secret-file', secretFile('wrong', C), ...fromOf(old)], fresh);
      expect(wrong.code).toBe(1);
      expect(wrong.err).toContain('keys.secret_mismatch: the old store');
      expect(wrong.err).toContain(`its fingerprint is ${secretFingerprint(keysA)}`);
      // The old store named as the new one.
      const same = await run(['--previous-secret-file', oldFile, ...fromOf(old)], old);
      expect(same.code).toBe(2);
      expect(same.err).toMatch(/^reprocess\.same_store: /);
      // A new store bound to another secret than KETENDATA_SECRET.
      await withStore(other, async (s) => {
        await s.db
          .insertInto('store_secret')
          .values({ id: 1, key_id: secretFingerprint(deriveKeys(C)), recorded_at: '2024-01-01T00:00:00Z' })
          .execute();
      });
      const bound = await run(['--previous-secret-file', oldFile, ...fromOf(old)], other);
      expect(bound.code).toBe(1);
      expect(bound.err).toContain('keys.secret_mismatch');
      // A new store with messages of its own (ingested under the new secret).
      await withStore(other, (s) => s.db.deleteFrom('store_secret').execute());
      expect((await runCli(['ingest', traffic.dir, '--no-progress'], envOf(other, B))).code).toBe(0);
      const otherBefore = await withStore(other, (s) => rowCounts(s, TABLES));
      const notFresh = await run(['--previous-secret-file', oldFile, ...fromOf(old)], other);
      expect(notFresh.code).toBe(2);
      expect(notFresh.err).toMatch(/^reprocess\.target_not_fresh: .* that did not come from re-processing/);
      expect(await withStore(other, (s) => rowCounts(s, TABLES))).toEqual(otherBefore);
      // None of the refusals wrote anything, in the new store or the old.
      expect(await withStore(fresh, (s) => rowCounts(s, TABLES))).toEqual(freshBefore);
      expect(await withStore(old, (s) => rowCounts(s, TABLES))).toEqual(oldBefore);

      const done = await run(['--previous-secret-file', oldFile, ...fromOf(old)], fresh);
      expect(done.err).toBe('');
      expect(done.code).toBe(0);
      const n = oldBefore.exchange;
      expect(done.out).toContain(
        'carried over 2 organisations (3 members), 1 user (1 TOTP secret sealed under key',
      );
      expect(done.out).toContain('1 API token');
      expect(done.out).toContain(
        `re-processed ${n} exchanges of ${n}: stored ${traffic.expected.stored} (1 conflict), duplicates 1, quarantined ${traffic.expected.quarantined}, already re-processed 0`,
      );
      expect(done.out).toContain('dismissed 1 quarantine item as in the old store, with their notes');
      expect(done.out).toContain('next: verify the new store');
      expect(await withStore(old, (s) => rowCounts(s, TABLES))).toEqual(oldBefore);

      const after = await withStore(fresh, (s) => rowCounts(s, TABLES));
      expect(after.message).toBe(oldBefore.message);
      expect(after.exchange).toBe(oldBefore.exchange);
      expect(after.quarantine).toBe(oldBefore.quarantine);
      // Links rebuilt: the same relations, in the new BerichtIds.
      expect(after.link).toBeGreaterThan(0);
      expect(after.link).toBe(oldBefore.link);

      const oldData = await withStore(old, async (s) => ({
        messages: await s.db.selectFrom('message').select(['bericht_id', 'rows', 'hub_id']).execute(),
        exchanges: await s.db
          .selectFrom('exchange')
          .select(['hub_id', 'moment', 'verzender', 'ontvanger', 'source'])
          .orderBy('id')
          .execute(),
        items: await s.db
          .selectFrom('quarantine')
          .select(['source', 'status', 'reason_code'])
          .orderBy('id')
          .execute(),
        token: await s.db.selectFrom('api_token').selectAll().executeTakeFirstOrThrow(),
      }));
      const newData = await withStore(fresh, async (s) => ({
        messages: await s.db.selectFrom('message').select(['bericht_id', 'rows', 'hub_id']).execute(),
        exchanges: await s.db
          .selectFrom('exchange')
          .select(['hub_id', 'moment', 'verzender', 'ontvanger', 'source'])
          .orderBy('id')
          .execute(),
        items: await s.db
          .selectFrom('quarantine')
          .select(['source', 'status', 'reason_code'])
          .orderBy('id')
          .execute(),
        links: await s.db.selectFrom('link').select(['from_bericht_id', 'to_bericht_id']).execute(),
        token: await s.db.selectFrom('api_token').selectAll().executeTakeFirstOrThrow(),
        user: await s.db.selectFrom('app_user').selectAll().executeTakeFirstOrThrow(),
        organisations: await s.db.selectFrom('organisation').selectAll().orderBy('code').execute(),
        members: await s.db
          .selectFrom('organisation_member')
          .selectAll()
          .orderBy('organisation')
          .orderBy('gemeente')
          .execute(),
        raws: await s.db.selectFrom('raw_message').select('key_id').distinct().execute(),
        secret: await readStoreSecret(s.db),
        dismissals: await s.db
          .selectFrom('audit_log')
          .select(['detail'])
          .where('action', '=', 'quarantine.dismiss')
          .orderBy('id')
          .execute(),
      }));
      // Hub metadata of every exchange kept, in the old store's order.
      expect(newData.exchanges).toEqual(oldData.exchanges);
      expect(newData.items).toEqual(oldData.items);
      expect(newData.items.filter((i) => i.status === 'dismissed')).toHaveLength(1);
      expect(newData.dismissals.at(-1)?.detail).toContain('"note":"the sender corrected it"');
      expect(newData.messages.map((m) => m.hub_id).sort()).toEqual(
        oldData.messages.map((m) => m.hub_id).sort(),
      );
      // Nothing of the old secret: no BerichtId, no pseudonym (every hex value of 32+ characters in the rows).
      const oldIds = new Set(oldData.messages.map((m) => m.bericht_id));
      expect(newData.messages.filter((m) => oldIds.has(m.bericht_id))).toEqual([]);
      const hexes = (rows: string) => rows.match(/[0-9a-f]{32,}/g) ?? [];
      const oldPseudonyms = new Set(oldData.messages.flatMap((m) => hexes(m.rows)));
      expect(oldPseudonyms.size).toBeGreaterThan(oldIds.size);
      const newText = newData.messages.map((m) => m.rows).join('\n');
      expect([...oldPseudonyms].filter((p) => newText.includes(p))).toEqual([]);
      const newIds = new Set(newData.messages.map((m) => m.bericht_id));
      expect(newData.links.every((l) => newIds.has(l.from_bericht_id) && newIds.has(l.to_bericht_id))).toBe(
        true,
      );
      expect(newData.raws).toEqual([{ key_id: keysB.rawKeyId }]);
      expect(newData.secret?.keyId).toBe(secretFingerprint(keysB));
      // The user's second factor opens under the new key, bound to the same user id, and no longer under the old.
      expect(
        openTotpSecret(rawKeyRing(keysB.totpEncryption), Number(newData.user.id), newData.user.totp_secret!),
      ).toMatchObject({
        kind: 'sealed',
        secret: TOTP,
      });
      expect(
        openTotpSecret(rawKeyRing(keysA.totpEncryption), Number(newData.user.id), newData.user.totp_secret!),
      ).toMatchObject({
        kind: 'unknown_key',
      });
      // API tokens are a plain SHA-256 of the token: carried over as they are.
      expect(newData.token).toEqual(oldData.token);
      expect(
        newData.organisations.map((o) => [o.code, Number(o.weekly_seq), Number(o.weekly_link_seq)]),
      ).toEqual([
        ['0384', 0, 0],
        ['regio-amstel', 0, 0],
      ]);
      expect(newData.members.map((m) => [m.organisation, m.gemeente, Number(m.catch_up)])).toEqual([
        ['0384', '0384', 0],
        ['regio-amstel', '0363', 0],
        ['regio-amstel', '0384', 0],
      ]);

      // The commands of the new store run under the new secret: the user is there, the first weekly re-delivers
      // the whole history of 0384 in the new hashes (its cursor starts at 0).
      const users = await runCli(['users', 'list'], envOf(fresh));
      expect(users.out).toContain('ann@example.nl');
      const deliver = await runCli(['deliver', '--now', NEXT_SUNDAY], envOf(fresh, B));
      expect(deliver.code).toBe(0);
      const weekly = await withStore(fresh, async (s) => ({
        delivery: await s.db
          .selectFrom('delivery')
          .selectAll()
          .where('organisation', '=', '0384')
          .executeTakeFirstOrThrow(),
        messages: Number(
          (
            await s.db
              .selectFrom('message')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('gemeente', '=', '0384')
              .executeTakeFirstOrThrow()
          ).n,
        ),
      }));
      expect(Number(weekly.delivery.seq_from)).toBe(0);
      expect(weekly.messages).toBeGreaterThan(0);
      expect(Number(weekly.delivery.message_count)).toBe(weekly.messages);
      // Said as what it is, a first weekly (all data so far, from 1-1-2021), and made for the next Sunday only:
      // the Sunday the old store delivered is not owed again.
      expect(Date.parse(weekly.delivery.period_start)).toBeLessThanOrEqual(Date.parse(HISTORY_START_INSTANT));
      const listed = await runCli(['deliveries', '0384', '--now', NEXT_SUNDAY, '--all'], envOf(fresh));
      expect(
        listed.out
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => [l.split('\t')[1], l.split('\t')[11]]),
      ).toEqual([['weekly', 'all']]);
      // Not the old store's cursor, which its own weekly had moved past everything.
      const oldCursor = await withStore(old, (s) =>
        s.db
          .selectFrom('organisation')
          .select('weekly_seq')
          .where('code', '=', '0384')
          .executeTakeFirstOrThrow(),
      );
      expect(Number(oldCursor.weekly_seq)).toBe(oldBefore.message);

      // Run again: everything is there already; nothing is added.
      const before = await withStore(fresh, (s) =>
        rowCounts(s, [
          'message',
          'exchange',
          'quarantine',
          'link',
          'app_user',
          'api_token',
          'organisation',
          'audit_log',
        ]),
      );
      const again = await run(['--previous-secret-file', oldFile, ...fromOf(old)], fresh);
      expect(again.code).toBe(0);
      expect(again.out).toContain(
        `re-processed ${n} exchanges of ${n}: stored 0 (0 conflicts), duplicates 0, quarantined 0, already re-processed ${n}`,
      );
      expect(
        await withStore(fresh, (s) =>
          rowCounts(s, [
            'message',
            'exchange',
            'quarantine',
            'link',
            'app_user',
            'api_token',
            'organisation',
            'audit_log',
          ]),
        ),
      ).toEqual(before);
    } finally {
      await old.drop();
      await fresh.drop();
      await other.drop();
    }
  }, 120_000);

  it('warns when the new secret is the old one (a change of canonicalisation, not a leak) and goes on', async () => {
    const old = await buildOld(dialect);
    const fresh = await freshStore(dialect);
    await fresh.store.close();
    try {
      const r = await runCli(
        ['reprocess', '--no-progress', '--previous-secret-file', secretFile('same', A), ...fromOf(old)],
        envOf(fresh, A),
      );
      expect(r.code).toBe(0);
      expect(r.err).toMatch(
        new RegExp(
          `^reprocess\\.same_secret: warning: KETENDATA_SECRET is the old store's own secret \\(fingerprint ${secretFingerprint(keysA)}\\)`,
          'm',
        ),
      );
    } finally {
      await old.drop();
      await fresh.drop();
    }
  }, 120_000);
});
