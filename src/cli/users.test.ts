import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { listAudit } from '../store/audit.js';
import type { Dialect } from '../store/database.js';
import type { Store } from '../store/open.js';
import {
  changePassword,
  createApiToken,
  login,
  resolveSession,
  verifyApiToken,
} from '../usecases/accounts.js';

const run = runCli;

/** A fresh store of `dialect` and the environment that points the CLI at it; dropped afterwards. */
async function withCliStore(
  dialect: Dialect,
  test: (s: { store: Store; env: Record<string, string> }) => Promise<void>,
): Promise<void> {
  const { store, url, dataDir, drop } = await freshStore(dialect);
  try {
    await test({
      store,
      env: { KETENDATA_DATA_DIR: dataDir, ...(url ? { KETENDATA_DATABASE_URL: url } : {}) },
    });
  } finally {
    await drop();
  }
}

/** Organisation 0363 (Amsterdam) with user ana@0363.example, password 'lang genoeg wachtwoord'. */
async function addAmsterdamWithAna(env: Record<string, string>): Promise<void> {
  vi.stubEnv('KETENDATA_NEW_PASSWORD', 'lang genoeg wachtwoord');
  expect((await run(['organisations', 'add', '0363', '--name', 'Amsterdam'], env)).code).toBe(0);
  await run(['users', 'add', 'ana@0363.example', '--name', 'Ana', '--organisation', '0363'], env);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

for (const dialect of DIALECTS) {
  describe(`ketendata users and tokens on ${dialect}`, () => {
    it('adds a user who can then log in, and an API token that is printed once and verifies', async () => {
      await withCliStore(dialect, async ({ store, env }) => {
        vi.stubEnv('KETENDATA_NEW_PASSWORD', 'lang genoeg wachtwoord');
        expect((await run(['organisations', 'add', '0363', '--name', 'Amsterdam'], env)).code).toBe(0);
        const added = await run(
          ['users', 'add', 'Ana@0363.example', '--name', 'Ana', '--organisation', '0363'],
          env,
        );
        expect(added.code, added.err).toBe(0);
        expect(added.out).toContain('ana@0363.example (user, organisation 0363)');
        const [addition] = await listAudit(store.db, { actionPrefix: 'user.add' });
        expect(addition).toMatchObject({ organisation: '0363', detail: '{"user":"ana@0363.example"}' });
        expect(addition?.actor).toMatch(/^cli:/);
        const r = await login(
          store.db,
          { email: 'ana@0363.example', password: 'lang genoeg wachtwoord', address: 'cli-test' },
          new Date(),
        );
        expect(r.ok).toBe(true);
        // The operator chose it: Ana replaces it at her first login in the portal.
        expect(r.ok && r.user.passwordTemporary).toBe(true);

        const nameless = await run(['tokens', 'add', ' ', '--organisation', '0363'], env);
        expect(nameless.code).not.toBe(0);
        expect(nameless.err).toContain('accounts.token_name_required');
        const token = await run(['tokens', 'add', 'BI', '--organisation', '0363'], env);
        expect(token.code).toBe(0);
        expect(await verifyApiToken(store.db, token.out.trim(), new Date())).toMatchObject({
          scope: 'organisation',
          organisationCode: '0363',
        });
      });
    });

    it('lists the tokens in force per owner and revokes one, after which it no longer verifies', async () => {
      await withCliStore(dialect, async ({ store, env }) => {
        expect((await run(['organisations', 'add', '0363', '--name', 'Amsterdam'], env)).code).toBe(0);
        // A bad --now is refused before anything is made; a good one is the created time recorded.
        const badNow = await run(
          ['tokens', 'add', 'BI', '--organisation', '0363', '--now', '2026-12-06'],
          env,
        );
        expect(badNow.code).toBe(2);
        expect(badNow.err).toMatch(/^cli\.bad_now: --now 2026-12-06 is not an ISO-8601 moment/);
        const bi = (
          await run(
            ['tokens', 'add', 'BI', '--organisation', '0363', '--now', '2026-12-06T06:00:00+01:00'],
            env,
          )
        ).out.trim();
        const hub = (await run(['tokens', 'add', 'Hub', '--operator'], env)).out.trim();
        const listed = await run(['tokens', 'list', '--organisation', '0363'], env);
        expect(listed.code).toBe(0);
        const [line, ...rest] = listed.out.trim().split('\n');
        expect(rest).toEqual([]);
        const [id, prefix, name, created, used] = line!.split('\t');
        expect([prefix, name, created, used]).toEqual([
          `${bi.slice(0, 10)}…`,
          'BI',
          '2026-12-06T05:00:00.000Z',
          '-',
        ]);
        expect((await run(['tokens', 'list', '--operator'], env)).out).toMatch(/\tHub\t/);

        // A token is revoked only within its owner's scope.
        const wrong = await run(['tokens', 'revoke', id!, '--operator'], env);
        expect(wrong.code).toBe(1);
        expect(wrong.err).toBe(`tokens.not_found: no token ${id} in force for the operator\n`);
        expect(await verifyApiToken(store.db, bi, new Date())).toBeDefined();
        const revoked = await run(['tokens', 'revoke', id!, '--organisation', '0363'], env);
        expect(revoked).toMatchObject({ code: 0, out: `token ${id} revoked\n` });
        expect(await verifyApiToken(store.db, bi, new Date())).toBeUndefined();
        expect(await verifyApiToken(store.db, hub, new Date())).toBeDefined();
        expect((await run(['tokens', 'list', '--organisation', '0363'], env)).out).toBe('');
        expect((await run(['tokens', 'revoke', id!, '--organisation', '0363'], env)).code).toBe(1);
        expect((await run(['tokens', 'revoke', 'x1', '--operator'], env)).err).toMatch(/^tokens\.bad_id: /);
        expect((await run(['tokens', 'list'], env)).code).toBe(2);
        // Made and revoked on the command line, in the audit log as from the portal.
        const logged = (await listAudit(store.db, { actionPrefix: 'settings.token' }))
          .map((e) => [e.action, e.organisation, e.detail, /^cli:/.test(e.actor)])
          .sort();
        expect(logged).toEqual(
          [
            ['settings.token_create', '0363', JSON.stringify({ tokenId: Number(id) }), true],
            ['settings.token_create', null, expect.stringMatching(/^\{"tokenId":\d+\}$/), true],
            ['settings.token_revoke', '0363', JSON.stringify({ tokenId: Number(id) }), true],
          ].sort(),
        );
      });
    });

    it('disables a user (sessions end, listed as disabled), enables again, resets a password; unknown e-mail is exit code 1', async () => {
      await withCliStore(dialect, async ({ store, env }) => {
        await addAmsterdamWithAna(env);
        const ana = { email: 'ana@0363.example', password: 'lang genoeg wachtwoord', address: 'cli-test' };
        const open = await login(store.db, ana, new Date());
        if (!open.ok) throw new Error('login refused');

        const at = '2026-03-02T09:00:00+01:00';
        const disabled = await run(['users', 'disable', 'Ana@0363.example', '--now', at], env);
        expect(disabled).toMatchObject({
          code: 0,
          out: 'user ana@0363.example disabled at 2026-03-02T08:00:00.000Z; 1 session ended\n',
        });
        expect(await resolveSession(store.db, open.sessionToken, new Date())).toBeUndefined();
        expect((await login(store.db, ana, new Date())).ok).toBe(false);
        expect((await run(['users', 'list'], env)).out).toMatch(
          /\tana@0363\.example\tuser\t0363\t-\tdisabled since 2026-03-02T08:00:00\.000Z\n$/,
        );
        const [entry] = await listAudit(store.db, { actionPrefix: 'user.disable' });
        expect(entry?.actor).toMatch(/^cli:/);

        const unknown = await run(['users', 'disable', 'niemand@0363.example'], env);
        expect(unknown.code).toBe(1);
        expect(unknown.err).toMatch(/^users\.not_found: no user with e-mail niemand@0363\.example/);
        expect((await run(['users', 'enable', 'niemand@0363.example'], env)).code).toBe(1);
        expect((await run(['users', 'disable', 'ana@0363.example', '--now', 'gisteren'], env)).code).toBe(2);

        expect(await run(['users', 'enable', 'ana@0363.example'], env)).toMatchObject({
          code: 0,
          out: 'user ana@0363.example enabled\n',
        });
        // The password `users add` set is still the one an operator knows, until Ana chooses her own.
        expect((await run(['users', 'list'], env)).out).toMatch(/\tactive, temporary password\n$/);
        const again = await login(store.db, ana, new Date());
        if (!again.ok) throw new Error('login refused');
        const session = await resolveSession(store.db, again.sessionToken, new Date());
        await changePassword(store.db, session!, ana.password, 'mijn eigen lang wachtwoord');
        expect((await run(['users', 'list'], env)).out).toMatch(/\t-\tactive\n$/);
        ana.password = 'mijn eigen lang wachtwoord';

        vi.stubEnv('KETENDATA_NEW_PASSWORD', '');
        expect((await run(['users', 'reset-password', 'ana@0363.example'], env)).code).toBe(2);
        vi.stubEnv('KETENDATA_NEW_PASSWORD', 'een ander lang wachtwoord');
        expect(await run(['users', 'reset-password', 'ana@0363.example'], env)).toMatchObject({
          code: 0,
          out: 'password of ana@0363.example set; 1 session ended\n',
        });
        expect((await login(store.db, ana, new Date())).ok).toBe(false);
        expect(
          (await login(store.db, { ...ana, password: 'een ander lang wachtwoord' }, new Date())).ok,
        ).toBe(true);
        expect((await run(['users', 'list'], env)).out).toMatch(/\tactive, temporary password\n$/);

        expect(await run(['users', 'reset-second-factor', 'ana@0363.example'], env)).toMatchObject({
          code: 0,
          out: 'no second factor for ana@0363.example; 1 session ended\n',
        });
        expect(await run(['users', 'reset-second-factor', 'nobody@0363.example'], env)).toMatchObject({
          code: 1,
          err: expect.stringMatching(/^users\.not_found: /),
        });
      });
    });

    it('says which API tokens a disabled user made stay in force, and how to revoke them', async () => {
      await withCliStore(dialect, async ({ store, env }) => {
        await addAmsterdamWithAna(env);
        const ana = await store.db.selectFrom('app_user').select('id').executeTakeFirstOrThrow();
        const { row } = await createApiToken(
          store.db,
          { scope: 'organisation', organisationCode: '0363' },
          'BI',
          ana.id,
          new Date(),
        );
        const out = (await run(['users', 'disable', 'ana@0363.example'], env)).out;
        expect(out).toContain(
          `note: API tokens this user made are still in force (${row.id} BI); they belong to organisation 0363: revoke those it should no longer have with tokens revoke <id> --organisation 0363`,
        );
      });
    });

    it('refuses a user without organisation or password, naming what to give', async () => {
      await withCliStore(dialect, async ({ env }) => {
        vi.stubEnv('KETENDATA_NEW_PASSWORD', '');
        const noPassword = await run(['users', 'add', 'x@y.nl', '--name', 'X', '--operator'], env);
        expect(noPassword.err).toContain('users.no_password');
        expect(noPassword.code).toBe(2);
        vi.stubEnv('KETENDATA_NEW_PASSWORD', ' '.repeat(12));
        const blank = await run(['users', 'add', 'x@y.nl', '--name', 'X', '--operator'], env);
        expect(blank).toMatchObject({ code: 1 });
        expect(blank.err).toMatch(/^accounts\.weak_password: /);
        vi.stubEnv('KETENDATA_NEW_PASSWORD', 'lang genoeg wachtwoord');
        const noOrg = await run(['users', 'add', 'x@y.nl', '--name', 'X'], env);
        expect(noOrg.err).toContain('users.organisation_required');
      });
    });

    it('refuses a user or token of an organisation that is not registered, and one asking for both kinds', async () => {
      await withCliStore(dialect, async ({ store, env }) => {
        vi.stubEnv('KETENDATA_NEW_PASSWORD', 'lang genoeg wachtwoord');
        const user = await run(['users', 'add', 'x@y.nl', '--name', 'X', '--organisation', '7777'], env);
        expect(user.code).toBe(1);
        expect(user.err).toBe(
          'organisation.not_found: organisation 7777 is not registered (see: ketendata organisations list)\n',
        );
        const token = await run(['tokens', 'add', 'BI', '--organisation', '9999'], env);
        expect(token.code).toBe(1);
        expect(token.err).toMatch(/^organisation\.not_found: organisation 9999 is not registered/);
        expect(token.out).toBe('');
        expect((await run(['organisations', 'add', '0310', '--name', 'De Bilt'], env)).code).toBe(0);
        const both = await run(['tokens', 'add', 'x', '--organisation', '0310', '--operator'], env);
        expect(both.code).toBe(2);
        expect(both.err).toContain("option '--operator' cannot be used with option '--organisation <code>'");
        const bothUser = await run(
          ['users', 'add', 'y@y.nl', '--name', 'Y', '--organisation', '0310', '--operator'],
          env,
        );
        expect(bothUser.code).toBe(2);
        expect(await store.db.selectFrom('api_token').select('id').execute()).toEqual([]);
        expect(await store.db.selectFrom('app_user').select('id').execute()).toEqual([]);
      });
    });
  });
}
