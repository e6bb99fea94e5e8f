import { sql } from 'kysely';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { deriveKeys } from '../pseudonymise/keys.js';
import { listAudit } from '../store/audit.js';
import type { Dialect } from '../store/database.js';
import type { Store } from '../store/open.js';
import { findUserByEmail } from '../store/users.js';
import {
  type ActiveSession,
  addressKey,
  beginTotp,
  changePassword,
  confirmPassword,
  confirmTotp,
  createApiToken,
  createUser,
  disableUser,
  enableUser,
  login,
  pendingTotp,
  reencryptTotpSecrets,
  resetPassword,
  resetSecondFactor,
  resolveSession,
  revokeApiToken,
  THROTTLE,
  verifyApiToken,
  verifySecondFactor,
} from './accounts.js';
import { addOrganisation } from './organisations.js';

const NOW = new Date('2026-03-02T08:00:00Z');
const keys = deriveKeys('accounts-test-secret-accounts-test-secret');
const later = (ms: number) => new Date(NOW.getTime() + ms);

for (const dialect of DIALECTS) {
  describe(`accounts on ${dialect}`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ store, drop } = await freshStore(dialect));
      await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: NOW });
      await addAmsterdamUser(store, 'Ana@Gemeente.nl', 'Ana');
    });
    afterAll(async () => drop());

    it('stores the password only as an argon2id hash', async () => {
      const row = await store.db
        .selectFrom('app_user')
        .selectAll()
        .where('email', '=', 'ana@gemeente.nl')
        .executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect(row.password_hash).not.toContain('correct horse');
    });

    it('opens a session for the right password, case-insensitive e-mail, and resolves it', async () => {
      const r = await login(
        store.db,
        { email: 'ANA@gemeente.nl', password: 'correct horse battery', address: '10.0.0.1' },
        NOW,
      );
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const s = await resolveSession(store.db, r.sessionToken, later(1000));
      expect(s?.user.organisationCode).toBe('0363');
      expect(await resolveSession(store.db, r.sessionToken, later(9 * 3600 * 1000))).toBeUndefined();
    });

    it('refuses a user without an organisation', async () => {
      await expect(
        createUser(
          store.db,
          {
            email: 'x@y.nl',
            displayName: 'X',
            password: 'long enough password',
            role: 'user',
            organisationCode: null,
          },
          NOW,
        ),
      ).rejects.toThrow(/organisation/);
    });

    it('refuses an account or a token for an organisation that is not registered', async () => {
      const user = {
        email: 'z@y.nl',
        displayName: 'Z',
        password: 'long enough password',
        role: 'user',
        organisationCode: '7777',
      } as const;
      await expect(createUser(store.db, user, NOW)).rejects.toMatchObject({
        code: 'organisation.not_found',
        message: 'organisation 7777 is not registered (see: ketendata organisations list)',
      });
      await expect(
        createApiToken(store.db, { scope: 'organisation', organisationCode: '9999' }, 'BI', null, NOW),
      ).rejects.toMatchObject({ code: 'organisation.not_found' });
      await expect(
        createApiToken(store.db, { scope: 'organisation', organisationCode: null }, 'BI', null, NOW),
      ).rejects.toMatchObject({ code: 'accounts.owner_required' });
      const tokens = await store.db.selectFrom('api_token').select('id').execute();
      const users = await store.db
        .selectFrom('app_user')
        .select('email')
        .where('email', '=', 'z@y.nl')
        .execute();
      expect({ tokens, users }).toEqual({ tokens: [], users: [] });
    });

    it('throttles an e-mail after repeated failures, even with the right password', async () => {
      await addAmsterdamUser(store, 'bo@gemeente.nl', 'Bo');
      for (let i = 0; i < THROTTLE.perEmail; i++) {
        const r = await login(
          store.db,
          { email: 'bo@gemeente.nl', password: 'wrong', address: `10.1.0.${i}` },
          NOW,
        );
        expect(r).toEqual({ ok: false, reason: 'invalid' });
      }
      const blocked = await login(
        store.db,
        { email: 'bo@gemeente.nl', password: 'correct horse battery', address: '10.1.1.1' },
        NOW,
      );
      expect(blocked).toEqual({ ok: false, reason: 'throttled' });
      const afterWindow = await login(
        store.db,
        { email: 'bo@gemeente.nl', password: 'correct horse battery', address: '10.1.1.1' },
        later(THROTTLE.window + 1000),
      );
      expect(afterWindow.ok).toBe(true);
    });

    it('checks no more guesses than the limit when they arrive at the same time', async () => {
      await addAmsterdamUser(store, 'fay@gemeente.nl', 'Fay');
      // Each password check takes argon2 time: before, every guess of a burst passed the count first.
      const burst = await Promise.all(
        Array.from({ length: 4 * THROTTLE.perEmail }, (_, i) =>
          login(store.db, { email: 'fay@gemeente.nl', password: `wrong-${i}`, address: '10.5.0.1' }, NOW),
        ),
      );
      const reasons = burst.map((r) => (r.ok ? 'ok' : r.reason));
      const checked = reasons.filter((r) => r === 'invalid').length;
      expect(checked).toBeLessThanOrEqual(THROTTLE.perEmail);
      expect(reasons.filter((r) => r === 'throttled')).toHaveLength(burst.length - checked);
      // Only checked guesses are failures: refused ones leave the limit as it was.
      const failures = await store.db
        .selectFrom('login_failure')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('throttle_key', '=', 'ip:10.5.0.1')
        .executeTakeFirstOrThrow();
      expect(Number(failures.n)).toBe(checked);
      for (let i = checked; i < THROTTLE.perEmail; i++) {
        const r = await login(
          store.db,
          { email: 'fay@gemeente.nl', password: 'wrong', address: '10.5.0.1' },
          NOW,
        );
        expect(r).toEqual({ ok: false, reason: 'invalid' });
      }
      const right = { email: 'fay@gemeente.nl', password: 'correct horse battery', address: '10.5.0.1' };
      expect(await login(store.db, right, NOW)).toEqual({ ok: false, reason: 'throttled' });
      expect((await login(store.db, right, later(THROTTLE.window + 1000))).ok).toBe(true);
    });

    it('asks for the TOTP code once the second factor is on', async () => {
      const u = await addAmsterdamUser(store, 'cy@gemeente.nl', 'Cy');
      const { secret } = await beginTotp(store.db, keys, u.id);
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
      const codeAt = (t: number) => totp.generate({ timestamp: t });
      // Enrol where the next step's code differs (equal 1 in a million): the used code would pass for it.
      let enrolAt = NOW.getTime();
      while (codeAt(enrolAt + 30_000) === codeAt(enrolAt)) enrolAt += 30_000;
      const enrolment = new Date(enrolAt);
      // Wrong also for the steps before and after, which the window accepts too.
      const valid = [-30_000, 0, 30_000].map((d) => codeAt(enrolAt + d));
      const wrong = ['000000', '111111', '222222'].find((c) => !valid.includes(c))!;
      await expect(confirmTotp(store.db, keys, u.id, wrong, enrolment)).rejects.toThrow();
      await confirmTotp(store.db, keys, u.id, codeAt(enrolAt), enrolment);
      // The second factor on: a new secret takes switching it off (with the password) first.
      await expect(beginTotp(store.db, keys, u.id)).rejects.toThrow('the second factor is on');
      const later = new Date(enrolAt + 30_000);
      const r = await login(
        store.db,
        { email: 'cy@gemeente.nl', password: 'correct horse battery', address: '10.2.0.1' },
        later,
      );
      expect(r.ok && r.pendingSecondFactor).toBe(true);
      if (!r.ok) return;
      const s = await resolveSession(store.db, r.sessionToken, later);
      expect(s?.pendingSecondFactor).toBe(true);
      // The code of the enrolment is used up; the next one works, once.
      const used = codeAt(enrolAt);
      expect(await verifySecondFactor(store.db, keys, s!, used, '10.2.0.1', later)).toEqual({
        ok: false,
        reason: 'used',
      });
      const code = codeAt(later.getTime());
      const done = await verifySecondFactor(store.db, keys, s!, code, '10.2.0.1', later);
      if (!done.ok) throw new Error('code refused');
      // A new session in place of the half-logged-in one, with a CSRF token of its own.
      expect(await resolveSession(store.db, r.sessionToken, later)).toBeUndefined();
      const full = await resolveSession(store.db, done.sessionToken, later);
      expect(full?.pendingSecondFactor).toBe(false);
      expect(full?.user.id).toBe(u.id);
      expect(full?.id).not.toBe(s!.id);
      expect(full?.csrfToken).not.toBe(s!.csrfToken);
      const again = await login(
        store.db,
        { email: 'cy@gemeente.nl', password: 'correct horse battery', address: '10.2.0.1' },
        later,
      );
      if (!again.ok) throw new Error('login refused');
      const s2 = await resolveSession(store.db, again.sessionToken, later);
      expect((await verifySecondFactor(store.db, keys, s2!, code, '10.2.0.1', later)).ok).toBe(false);
    });

    it('takes a code once, also when requests with it arrive at the same time', async () => {
      const u = await enrolled(store, 'ole@gemeente.nl', keys);
      const at = later(60_000);
      const sessions: ActiveSession[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await login(
          store.db,
          { email: 'ole@gemeente.nl', password: PASSWORD, address: '10.8.0.1' },
          at,
        );
        if (!r.ok) throw new Error('login refused');
        sessions.push((await resolveSession(store.db, r.sessionToken, at))!);
      }
      const code = u.totp.generate({ timestamp: at.getTime() });
      const outcomes = await readTogether(store, dialect, sessions.length, () =>
        Promise.all(sessions.map((s) => verifySecondFactor(store.db, keys, s, code, '10.8.0.1', at))),
      );
      // The others' code was right, but taken meanwhile.
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason)).sort()).toEqual(['ok', 'used', 'used', 'used']);
      const pending = await store.db
        .selectFrom('user_session')
        .select('pending_second_factor')
        .where(
          'id',
          'in',
          sessions.map((s) => s.id),
        )
        .execute();
      // The one that passed was replaced by a new session; the others still wait.
      expect(pending.map((s) => s.pending_second_factor)).toEqual([1, 1, 1]);
      // Enrolment likewise: the code that switches the factor on is taken by one request only.
      const v = await createUser(store.db, person('pia@gemeente.nl'), NOW);
      const { secret } = await beginTotp(store.db, keys, v.id);
      const first = totpOf(secret).generate({ timestamp: NOW.getTime() });
      const confirmed = await readTogether(store, dialect, 3, () =>
        Promise.allSettled([0, 1, 2].map(() => confirmTotp(store.db, keys, v.id, first, NOW))),
      );
      expect(confirmed.map((c) => c.status).sort()).toEqual(['fulfilled', 'rejected', 'rejected']);
    });

    describe('TOTP secrets at rest', () => {
      it('never keeps the base32 secret in the column, from enrolment on; the code works at login', async () => {
        const u = await createUser(store.db, person('totp-ez@gemeente.nl'), NOW);
        const { secret } = await beginTotp(store.db, keys, u.id);
        const pending = await storedSecret(store, u.id);
        expect(pending).toMatch(new RegExp(`^v1:${keys.totpKeyId}:[A-Za-z0-9_-]+$`));
        expect(pending).not.toContain(secret);
        expect((await pendingTotp(store.db, keys, u.id))?.secret).toBe(secret);
        const totp = totpOf(secret);
        await confirmTotp(store.db, keys, u.id, totp.generate({ timestamp: NOW.getTime() }), NOW);
        expect(await storedSecret(store, u.id)).toBe(pending);
        expect(await secondFactor(store, 'totp-ez@gemeente.nl', totp, later(30_000))).toBe('ok');
        expect(await storedSecret(store, u.id)).toBe(pending);
      });

      it('accepts a secret stored in clear before encryption and encrypts it on first use', async () => {
        const u = await enrolled(store, 'totp-fy@gemeente.nl', keys);
        // As an enrolment from before this change left it.
        await store.db
          .updateTable('app_user')
          .set({ totp_secret: u.secret })
          .where('id', '=', u.id)
          .execute();
        expect(await secondFactor(store, 'totp-fy@gemeente.nl', u.totp, later(30_000))).toBe('ok');
        const sealed = await storedSecret(store, u.id);
        expect(sealed).toMatch(new RegExp(`^v1:${keys.totpKeyId}:`));
        expect(sealed).not.toContain(u.secret);
        expect(await secondFactor(store, 'totp-fy@gemeente.nl', u.totp, later(60_000))).toBe('ok');
      });

      it('refuses with accounts.totp_key_unknown, pointing to raw-rekey, when the secret is under another key', async () => {
        const u = await enrolled(store, 'totp-gus@gemeente.nl', oldKeys);
        await expect(
          secondFactor(store, 'totp-gus@gemeente.nl', u.totp, later(30_000)),
        ).rejects.toMatchObject({
          code: 'accounts.totp_key_unknown',
          message: expect.stringContaining(`key ${oldKeys.totpKeyId}`),
        });
        await expect(secondFactor(store, 'totp-gus@gemeente.nl', u.totp, later(30_000))).rejects.toThrow(
          /ketendata raw-rekey --previous-secret-file/,
        );
        // A pending enrolment under the old key was never in use: the user starts again.
        const v = await createUser(store.db, person('totp-hal@gemeente.nl'), NOW);
        await beginTotp(store.db, oldKeys, v.id);
        expect(await pendingTotp(store.db, keys, v.id)).toBeUndefined();
      });
    });

    it('disables a user: login refused, every open session ended at once, audited; enabling gives access back', async () => {
      const dee = { email: 'dee@gemeente.nl', password: 'correct horse battery', address: '10.3.0.1' };
      const u = await createUser(
        store.db,
        { ...dee, displayName: 'Dee', role: 'user', organisationCode: '0363' },
        NOW,
      );
      const { row: token } = await createApiToken(
        store.db,
        { scope: 'organisation', organisationCode: '0363' },
        'Dee BI',
        u.id,
        NOW,
      );
      const sessions = [await login(store.db, dee, NOW), await login(store.db, dee, NOW)];
      const tokens = sessions.map((r) => (r.ok ? r.sessionToken : ''));
      const r = await disableUser(store.db, {
        email: ' Dee@Gemeente.nl',
        actor: 'beheer@example',
        now: later(1),
      });
      expect(r).toMatchObject({ changed: true, sessionsEnded: 2, disabledAt: later(1).toISOString() });
      expect(r.tokensMade.map((t) => t.id)).toEqual([token.id]);
      const left = await store.db
        .selectFrom('user_session')
        .select('id')
        .where('user_id', '=', u.id)
        .execute();
      expect(left).toEqual([]);
      for (const t of tokens) expect(await resolveSession(store.db, t, later(2))).toBeUndefined();
      // The right password of a blocked account is told apart (for the audit log), a wrong one is not.
      expect(await login(store.db, dee, later(3))).toEqual({ ok: false, reason: 'disabled' });
      expect(await login(store.db, { ...dee, password: 'not the password' }, later(3))).toEqual({
        ok: false,
        reason: 'invalid',
      });
      const [entry] = await listAudit(store.db, { actionPrefix: 'user.disable' });
      expect(entry).toMatchObject({ actor: 'beheer@example', organisation: '0363' });
      expect(JSON.parse(entry!.detail!)).toEqual({ user: 'dee@gemeente.nl' });

      // Again: nothing changes, the first moment stays.
      const again = await disableUser(store.db, { email: dee.email, actor: 'x', now: later(4) });
      expect(again).toMatchObject({ changed: false, disabledAt: later(1).toISOString() });
      expect(await listAudit(store.db, { actionPrefix: 'user.disable' })).toHaveLength(1);

      expect(
        await enableUser(store.db, { email: dee.email, actor: 'beheer@example', now: later(5) }),
      ).toMatchObject({ changed: true });
      expect((await login(store.db, dee, later(6))).ok).toBe(true);
      expect(await listAudit(store.db, { actionPrefix: 'user.enable' })).toHaveLength(1);
    });

    it('refuses to disable an unknown e-mail and an operator disabling themself', async () => {
      await expect(
        disableUser(store.db, { email: 'niemand@gemeente.nl', actor: 'x', now: NOW }),
      ).rejects.toMatchObject({ code: 'users.not_found' });
      await expect(
        enableUser(store.db, { email: 'niemand@gemeente.nl', actor: 'x', now: NOW }),
      ).rejects.toMatchObject({
        code: 'users.not_found',
      });
      const op = await createUser(
        store.db,
        {
          email: 'op@example.org',
          displayName: 'Op',
          password: 'correct horse battery',
          role: 'operator',
          organisationCode: null,
        },
        NOW,
      );
      await expect(
        disableUser(store.db, { email: 'op@example.org', actor: op.email, actingUserId: op.id, now: NOW }),
      ).rejects.toMatchObject({ code: 'users.cannot_disable_self' });
      expect(
        (
          await login(
            store.db,
            { email: 'op@example.org', password: 'correct horse battery', address: '10.3.0.2' },
            NOW,
          )
        ).ok,
      ).toBe(true);
    });

    it('resets a password: the old one stops working and the open sessions end', async () => {
      const eve = { email: 'eve@gemeente.nl', password: 'correct horse battery', address: '10.4.0.1' };
      await createUser(store.db, { ...eve, displayName: 'Eve', role: 'user', organisationCode: '0363' }, NOW);
      const open = await login(store.db, eve, NOW);
      if (!open.ok) throw new Error('login refused');
      await expect(
        resetPassword(store.db, { email: eve.email, password: 'kort', actor: 'x', now: NOW }),
      ).rejects.toMatchObject({ code: 'accounts.weak_password' });
      const r = await resetPassword(store.db, {
        email: eve.email,
        password: 'een nieuw wachtwoord',
        actor: 'x',
        now: NOW,
      });
      expect(r.sessionsEnded).toBe(1);
      expect(await resolveSession(store.db, open.sessionToken, NOW)).toBeUndefined();
      expect((await login(store.db, eve, NOW)).ok).toBe(false);
      const again = await login(store.db, { ...eve, password: 'een nieuw wachtwoord' }, NOW);
      if (!again.ok) throw new Error('login refused');
      expect(await listAudit(store.db, { actionPrefix: 'user.reset_password' })).toHaveLength(1);
      // The operator knows the new password: it is temporary until Eve chooses her own (not the same one).
      const session = (await resolveSession(store.db, again.sessionToken, NOW))!;
      expect(session.user.passwordTemporary).toBe(true);
      await expect(
        changePassword(store.db, session, 'een nieuw wachtwoord', 'een nieuw wachtwoord'),
      ).rejects.toMatchObject({ code: 'accounts.same_password' });
      // A wrong current password and a short new one end nothing.
      await expect(
        changePassword(store.db, session, 'geraden', 'eve haar eigen wachtwoord'),
      ).rejects.toMatchObject({ code: 'accounts.wrong_password' });
      await expect(changePassword(store.db, session, 'een nieuw wachtwoord', 'kort')).rejects.toMatchObject({
        code: 'accounts.weak_password',
      });
      expect((await resolveSession(store.db, again.sessionToken, NOW))?.csrfToken).toBe(session.csrfToken);
      const other = await login(store.db, { ...eve, password: 'een nieuw wachtwoord' }, NOW);
      if (!other.ok) throw new Error('login refused');
      const token = await changePassword(
        store.db,
        session,
        'een nieuw wachtwoord',
        'eve haar eigen wachtwoord',
      );
      // The session of the temporary password ends too (and every other one): a fresh one takes its place.
      expect(await resolveSession(store.db, again.sessionToken, NOW)).toBeUndefined();
      expect(await resolveSession(store.db, other.sessionToken, NOW)).toBeUndefined();
      const fresh = await resolveSession(store.db, token!, NOW);
      expect(fresh?.user.id).toBe(session.user.id);
      expect(fresh?.user.passwordTemporary).toBe(false);
      expect(fresh?.pendingSecondFactor).toBe(false);
      expect(fresh?.id).not.toBe(session.id);
      expect(fresh?.csrfToken).not.toBe(session.csrfToken);
      // A session ended meanwhile (logged out in another tab) changes nothing and opens none.
      expect(await changePassword(store.db, session, 'eve haar eigen wachtwoord', 'nog een wachtwoord')).toBe(
        undefined,
      );
      expect(await resolveSession(store.db, token!, NOW)).toBeDefined();
      expect((await login(store.db, { ...eve, password: 'eve haar eigen wachtwoord' }, NOW)).ok).toBe(true);
    });

    it('counts wrong passwords asked again after login with the login failures, and refuses past the limit', async () => {
      const zoe = { email: 'zoe@gemeente.nl', password: 'correct horse battery', address: '10.6.0.1' };
      const user = await createUser(
        store.db,
        { ...zoe, displayName: 'Zoe', role: 'user', organisationCode: '0363' },
        NOW,
      );
      expect((await confirmPassword(store.db, user.id, zoe.password, NOW)).email).toBe(zoe.email);
      for (let i = 0; i < THROTTLE.perEmail; i++)
        await expect(confirmPassword(store.db, user.id, 'geraden', NOW)).rejects.toMatchObject({
          code: 'accounts.wrong_password',
        });
      // Past the limit even the right one is refused unchecked, here and at the login of that e-mail.
      await expect(confirmPassword(store.db, user.id, zoe.password, NOW)).rejects.toMatchObject({
        code: 'accounts.throttled',
      });
      expect(await login(store.db, zoe, NOW)).toEqual({ ok: false, reason: 'throttled' });
      expect((await confirmPassword(store.db, user.id, zoe.password, later(THROTTLE.window + 1000))).id).toBe(
        user.id,
      );
    });

    it("lets a signed-in user confirm the password while strangers fail that e-mail's login", async () => {
      const yara = { email: 'yara@gemeente.nl', password: 'correct horse battery', address: '10.6.0.2' };
      const user = await createUser(
        store.db,
        { ...yara, displayName: 'Yara', role: 'user', organisationCode: '0363' },
        NOW,
      );
      for (let i = 0; i <= THROTTLE.perEmail; i++)
        await login(store.db, { ...yara, password: 'geraden', address: `10.7.0.${i}` }, NOW);
      expect(await login(store.db, yara, NOW)).toEqual({ ok: false, reason: 'throttled' });
      // The user, logged in before, can still change the password the strangers are after.
      expect((await confirmPassword(store.db, user.id, yara.password, NOW)).id).toBe(user.id);
    });

    it('marks a password an operator chose as temporary, and one the user chose as not', async () => {
      const tim = await createUser(
        store.db,
        {
          email: 'tim@gemeente.nl',
          displayName: 'Tim',
          password: 'een tijdelijk wachtwoord',
          role: 'user',
          organisationCode: '0363',
          temporaryPassword: true,
        },
        NOW,
      );
      expect(tim.passwordTemporary).toBe(true);
      const ana = await findUserByEmail(store.db, 'ana@gemeente.nl');
      expect(ana?.password_temporary).toBe(0);
    });

    it('verifies API tokens by digest and forgets revoked ones, only within their organisation', async () => {
      const { token, row } = await createApiToken(
        store.db,
        { scope: 'organisation', organisationCode: '0363' },
        'BI',
        null,
        NOW,
      );
      expect(await verifyApiToken(store.db, token, NOW)).toMatchObject({
        scope: 'organisation',
        organisationCode: '0363',
      });
      expect(await revokeApiToken(store.db, row.id, '0599', NOW)).toBe(false);
      expect(await revokeApiToken(store.db, row.id, '0363', NOW)).toBe(true);
      expect(await verifyApiToken(store.db, token, NOW)).toBeUndefined();
    });

    it('records when a token was last used at most once a minute, so a GET is no write each time', async () => {
      const { token, row } = await createApiToken(
        store.db,
        { scope: 'organisation', organisationCode: '0363' },
        'BI',
        null,
        NOW,
      );
      const lastUsed = async () =>
        (
          await store.db
            .selectFrom('api_token')
            .select('last_used_at')
            .where('id', '=', row.id)
            .executeTakeFirst()
        )?.last_used_at;
      const at = (ms: number) => new Date(NOW.getTime() + ms);
      await verifyApiToken(store.db, token, at(0));
      expect(await lastUsed()).toBe(at(0).toISOString());
      await verifyApiToken(store.db, token, at(59_999));
      expect(await lastUsed()).toBe(at(0).toISOString());
      await verifyApiToken(store.db, token, at(60_000));
      expect(await lastUsed()).toBe(at(60_000).toISOString());
      // A clock set back (a replay) writes again rather than keep a moment after it.
      await verifyApiToken(store.db, token, at(-5_000));
      expect(await lastUsed()).toBe(at(-5_000).toISOString());
    });
  });
}

describe('the throttle key of a client address', () => {
  it('is the address for IPv4, also written as IPv4-mapped IPv6, and the /64 for IPv6', () => {
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '::FFFF:a00:1', '0:0:0:0:0:ffff:10.0.0.1'])
      expect(addressKey(a), a).toBe('ip:10.0.0.1');
    expect(addressKey('10.0.0.2')).toBe('ip:10.0.0.2');
    for (const a of ['2001:db8::1', '2001:DB8:0:0:ffff:1:2:3', '2001:0db8:0000:0000::', '2001:db8::1%eth0'])
      expect(addressKey(a), a).toBe('ip:2001:db8:0:0::/64');
    expect(addressKey('2001:db8:0:1::1')).toBe('ip:2001:db8:0:1::/64');
    expect(addressKey('unknown')).toBe('ip:unknown');
  });
});

/**
 * Runs `requests` so that they all read the user before any of them writes. SQLite's one connection already
 * interleaves them so; on PostgreSQL a transaction holds the user rows until `writers` updates wait for them.
 */
async function readTogether<T>(
  store: Store,
  dialect: Dialect,
  writers: number,
  requests: () => Promise<T>,
): Promise<T> {
  if (dialect === 'sqlite') return requests();
  let result: Promise<T> | undefined;
  await store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('app_user')
      .set((eb) => ({ display_name: eb.ref('display_name') }))
      .execute();
    result = requests();
    // Polled outside the transaction: inside it, PostgreSQL shows the activity as it was at its first look.
    for (let i = 0; ; i++) {
      const { rows } = await sql<{ n: string }>`
        select count(*) as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db);
      if (Number(rows[0]?.n) >= writers) break;
      if (i === 500) throw new Error('the requests never came to write');
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  return result!;
}

const oldKeys = deriveKeys('accounts-old-secret-accounts-old-secret!');
const PASSWORD = 'correct horse battery';

function person(email: string) {
  return { email, displayName: email, password: PASSWORD, role: 'user', organisationCode: '0363' } as const;
}

const totpOf = (secret: string) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });

/** A user of organisation 0363 with the password 'correct horse battery'. */
function addAmsterdamUser(store: Store, email: string, displayName: string) {
  return createUser(
    store.db,
    { email, displayName, password: 'correct horse battery', role: 'user', organisationCode: '0363' },
    NOW,
  );
}

async function storedSecret(store: Store, id: number): Promise<string | null> {
  const row = await store.db
    .selectFrom('app_user')
    .select('totp_secret')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.totp_secret;
}

/** A user with the second factor on, enrolled under `k`. */
async function enrolled(store: Store, email: string, k: typeof keys) {
  const u = await createUser(store.db, person(email), NOW);
  const { secret } = await beginTotp(store.db, k, u.id);
  const totp = totpOf(secret);
  await confirmTotp(store.db, k, u.id, totp.generate({ timestamp: NOW.getTime() }), NOW);
  return { id: u.id, secret, totp };
}

/** Password, then the current code, with the current keys. */
async function secondFactor(store: Store, email: string, totp: OTPAuth.TOTP, at: Date, k = keys) {
  const r = await login(store.db, { email, password: PASSWORD, address: '10.9.0.1' }, at);
  if (!r.ok) throw new Error('login refused');
  const s = await resolveSession(store.db, r.sessionToken, at);
  const result = await verifySecondFactor(
    store.db,
    k,
    s!,
    totp.generate({ timestamp: at.getTime() }),
    '10.9.0.1',
    at,
  );
  return result.ok ? 'ok' : result.reason;
}

describe.each(DIALECTS)('TOTP key rotation on %s', (dialect) => {
  it('re-encrypts the TOTP secrets of the previous key (and those still in clear) under the current one; login works after', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: NOW });
      const rotated = await enrolled(store, 'ida@gemeente.nl', oldKeys);
      const clear = await enrolled(store, 'jan@gemeente.nl', oldKeys);
      await store.db
        .updateTable('app_user')
        .set({ totp_secret: clear.secret })
        .where('id', '=', clear.id)
        .execute();
      const lost = deriveKeys('a-secret-nobody-kept-a-secret-nobody-kept');
      const stray = await enrolled(store, 'kim@gemeente.nl', lost);
      const current = await enrolled(store, 'lia@gemeente.nl', keys);
      const untouched = await storedSecret(store, current.id);
      // A secret copied into another user's row does not open there: damaged, and it stops nothing. It has
      // the lowest id, so it comes first.
      const damaged = await enrolled(store, 'abe@gemeente.nl', oldKeys);
      await store.db
        .updateTable('app_user')
        .set({ id: 0, totp_secret: await storedSecret(store, rotated.id) })
        .where('id', '=', damaged.id)
        .execute();

      const first = await reencryptTotpSecrets(store.db, keys, [oldKeys.totpEncryption]);
      expect(first).toMatchObject({
        reencrypted: 1,
        sealed: 1,
        unreadable: 1,
        unreadableKeyIds: [lost.totpKeyId],
      });
      expect(first.damaged).toEqual([
        expect.stringMatching(/^keys\.totp_unreadable: the TOTP secret of user 0 /),
      ]);
      for (const u of [rotated, clear]) {
        const sealed = await storedSecret(store, u.id);
        expect(sealed).toMatch(new RegExp(`^v1:${keys.totpKeyId}:`));
        expect(sealed).not.toContain(u.secret);
      }
      expect(await storedSecret(store, current.id)).toBe(untouched);
      expect(await storedSecret(store, stray.id)).toMatch(new RegExp(`^v1:${lost.totpKeyId}:`));
      expect(await secondFactor(store, 'ida@gemeente.nl', rotated.totp, later(30_000))).toBe('ok');
      expect(await secondFactor(store, 'jan@gemeente.nl', clear.totp, later(30_000))).toBe('ok');
      expect(await secondFactor(store, 'lia@gemeente.nl', current.totp, later(30_000))).toBe('ok');
      expect(await reencryptTotpSecrets(store.db, keys, [oldKeys.totpEncryption])).toMatchObject({
        reencrypted: 0,
        sealed: 0,
        unreadable: 1,
        unreadableKeyIds: [lost.totpKeyId],
      });
      // The user whose secret no key opens gets a fresh start: the password alone, the sessions ended.
      const r = await resetSecondFactor(store.db, { email: 'kim@gemeente.nl', actor: 'test', now: NOW });
      expect(r.changed).toBe(true);
      const kim = await login(
        store.db,
        { email: 'kim@gemeente.nl', password: PASSWORD, address: '10.9.0.2' },
        NOW,
      );
      expect(kim.ok && kim.pendingSecondFactor).toBe(false);
      expect(await listAudit(store.db, { actionPrefix: 'user.reset_second_factor' })).toHaveLength(1);
    } finally {
      await drop();
    }
  });
});
