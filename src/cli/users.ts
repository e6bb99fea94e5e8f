import { type Command, Option } from 'commander';
import { count } from '../domain/plural.js';
import { audit } from '../store/audit.js';
import { openStore, type Store } from '../store/open.js';
import { listUsers } from '../store/users.js';
import {
  createApiToken,
  createUser,
  disableUser,
  enableUser,
  listApiTokens,
  resetPassword,
  resetSecondFactor,
  revokeApiToken,
} from '../usecases/accounts.js';
import { AccountError } from '../usecases/accounts-errors.js';
import { type CliContext, parseNow } from './command.js';
import { cliActor } from './deliver.js';

/** The audit line the portal writes for the same change, with the command line's user as actor. */
const cliAudit = (
  db: Store['db'],
  at: Date,
  organisation: string | null,
  action: string,
  detail: Record<string, unknown>,
) => audit(db, { at, actor: cliActor(), organisation, action, detail });

/** `ketendata users …` and `ketendata tokens …`: accounts for the portal and tokens for the API. */
export function register(program: Command, ctx: CliContext): void {
  const open = () => openStore({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir });
  const users = program.command('users').description('portal accounts');

  /** Runs an account or token change, printing its refusal as `code: reason` with exit code 1. */
  const change = async (act: (db: Store['db']) => Promise<void>) => {
    const store = await open();
    try {
      await act(store.db);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      ctx.err(`${err.code}: ${err.message}`);
      ctx.setExitCode(1);
    } finally {
      await store.close();
    }
  };

  users
    .command('add <email>')
    .description(
      'add a user of an organisation (--organisation) or an operator (--operator), with a temporary password the user replaces at the first login',
    )
    .requiredOption('--name <name>', 'display name (required)')
    .option('--organisation <code>', 'the organisation the user belongs to (registered)')
    .addOption(
      new Option('--operator', 'an operator (beheerder) instead of an organisation user').conflicts(
        'organisation',
      ),
    )
    .option(
      '--password-env <var>',
      'read the password from this environment variable',
      'KETENDATA_NEW_PASSWORD',
    )
    .option('--now <iso>', 'the moment to record (default: now)')
    .action(
      async (
        email: string,
        o: { name: string; organisation?: string; operator?: boolean; passwordEnv: string; now?: string },
      ) => {
        const password = process.env[o.passwordEnv];
        if (!password) {
          ctx.err(`users.no_password: set the password in the environment variable ${o.passwordEnv}`);
          ctx.setExitCode(2);
          return;
        }
        if (!o.operator && !o.organisation) {
          ctx.err('users.organisation_required: give --organisation <code> or --operator');
          ctx.setExitCode(2);
          return;
        }
        const now = parseNow(ctx, o.now);
        if (!now) return;
        await change(async (db) => {
          const u = await createUser(
            db,
            {
              email,
              displayName: o.name,
              password,
              role: o.operator ? 'operator' : 'user',
              organisationCode: o.operator ? null : (o.organisation ?? null),
              temporaryPassword: true,
            },
            now,
          );
          // As the portal's Beheer → Gebruikers does: createUser itself writes no audit line.
          await cliAudit(db, now, u.organisationCode, 'user.add', { user: u.email });
          ctx.out(
            `user ${u.id} added: ${u.email} (${u.role}${u.organisationCode ? `, organisation ${u.organisationCode}` : ''})`,
          );
        });
      },
    );

  users
    .command('list')
    .description('list users: id, e-mail, role, organisation, second factor, state (tab-separated)')
    .action(async () => {
      const store = await open();
      try {
        for (const u of await listUsers(store.db)) {
          ctx.out(
            [
              u.id,
              u.email,
              u.role,
              u.organisation_code ?? '-',
              u.totp_enabled ? 'totp' : '-',
              u.disabled_at
                ? `disabled since ${u.disabled_at}`
                : u.password_temporary
                  ? 'active, temporary password'
                  : 'active',
            ].join('\t'),
          );
        }
      } finally {
        await store.close();
      }
    });

  const ended = (n: number) => `${count(n, 'session')} ended`;

  /** `users <name> <email> [--now ISO]`: one account change, refused through `change`. */
  const accountCommand = (
    name: string,
    description: string,
    act: (db: Store['db'], email: string, now: Date) => Promise<void>,
  ) =>
    users
      .command(`${name} <email>`)
      .description(description)
      .option('--now <iso>', 'the moment to record (default: now)')
      .action(async (email: string, o: { now?: string }) => {
        const now = parseNow(ctx, o.now);
        if (now) await change((db) => act(db, email, now));
      });

  accountCommand(
    'disable',
    "cut off a user's access: login refused and every open session ended (the organisation's API tokens stay: see tokens revoke)",
    async (db, email, now) => {
      const r = await disableUser(db, { email, actor: cliActor(), now });
      ctx.out(
        r.changed
          ? `user ${r.user.email} disabled at ${r.disabledAt}; ${ended(r.sessionsEnded)}`
          : `user ${r.user.email} was already disabled (since ${r.disabledAt})`,
      );
      if (r.tokensMade.length > 0) {
        const code = r.user.organisationCode;
        const owner = code ? `--organisation ${code}` : '--operator';
        ctx.out(
          `note: API tokens this user made are still in force (${r.tokensMade.map((t) => `${t.id} ${t.name}`).join(', ')}); they belong to ${code ? `organisation ${code}` : 'the operator'}: revoke those it should no longer have with tokens revoke <id> ${owner}`,
        );
      }
    },
  );

  accountCommand(
    'enable',
    'give a disabled user access again (same password and second factor)',
    async (db, email, now) => {
      const r = await enableUser(db, { email, actor: cliActor(), now });
      ctx.out(r.changed ? `user ${r.user.email} enabled` : `user ${r.user.email} was not disabled`);
    },
  );

  users
    .command('reset-password <email>')
    .description(
      "set a temporary password for a user (from an environment variable; replaced at the next login) and end the user's sessions",
    )
    .option(
      '--password-env <var>',
      'read the password from this environment variable',
      'KETENDATA_NEW_PASSWORD',
    )
    .option('--now <iso>', 'the moment to record (default: now)')
    .action(async (email: string, o: { passwordEnv: string; now?: string }) => {
      const password = process.env[o.passwordEnv];
      if (!password) {
        ctx.err(`users.no_password: set the password in the environment variable ${o.passwordEnv}`);
        ctx.setExitCode(2);
        return;
      }
      const now = parseNow(ctx, o.now);
      if (!now) return;
      await change(async (db) => {
        const r = await resetPassword(db, { email, password, actor: cliActor(), now });
        ctx.out(`password of ${r.user.email} set; ${ended(r.sessionsEnded)}`);
      });
    });

  accountCommand(
    'reset-second-factor',
    "take a user's second factor (TOTP) away, e.g. after a lost phone; ends the user's sessions",
    async (db, email, now) => {
      const r = await resetSecondFactor(db, { email, actor: cliActor(), now });
      ctx.out(
        `${r.changed ? 'second factor of' : 'no second factor for'} ${r.user.email}${r.changed ? ' taken away: the password alone logs in, and a new one can be set up' : ''}; ${ended(r.sessionsEnded)}`,
      );
    },
  );

  const tokens = program.command('tokens').description('API tokens');
  const ownerOptions = (c: Command, what: string) =>
    c
      .option('--organisation <code>', `the organisation whose ${what}`)
      .addOption(new Option('--operator', `the operator's ${what}`).conflicts('organisation'));
  /** The owner from --organisation/--operator (null: the operator), or undefined after saying it is missing. */
  const ownerOf = (o: { organisation?: string; operator?: boolean }): string | null | undefined => {
    if (o.operator) return null;
    if (o.organisation) return o.organisation;
    ctx.err('tokens.owner_required: give --organisation <code> or --operator');
    ctx.setExitCode(2);
    return undefined;
  };

  tokens
    .command('add <name>')
    .description(
      'make an API token for an organisation (--organisation) or the operator (--operator); printed once',
    )
    .option('--organisation <code>', 'the organisation the token acts for (registered)')
    .addOption(
      new Option('--operator', 'an operator token (post exchanges, list quarantine)').conflicts(
        'organisation',
      ),
    )
    .option('--now <iso>', 'the moment to record (default: now)')
    .action(async (name: string, o: { organisation?: string; operator?: boolean; now?: string }) => {
      const code = ownerOf(o);
      if (code === undefined) return;
      const now = parseNow(ctx, o.now);
      if (!now) return;
      const owner =
        code === null
          ? ({ scope: 'operator', organisationCode: null } as const)
          : ({ scope: 'organisation', organisationCode: code } as const);
      await change(async (db) => {
        const { token, row } = await createApiToken(db, owner, name, null, now);
        // A token downloads an organisation's data: who made it is in the audit log, as from the portal.
        await cliAudit(db, now, row.organisation_code, 'settings.token_create', { tokenId: row.id });
        ctx.out(token);
      });
    });

  ownerOptions(
    tokens
      .command('list')
      .description('list the tokens in force: id, prefix, name, created, last used (tab-separated)'),
    'tokens',
  ).action(async (o: { organisation?: string; operator?: boolean }) => {
    const code = ownerOf(o);
    if (code === undefined) return;
    const store = await open();
    try {
      for (const t of await listApiTokens(store.db, code)) {
        ctx.out([t.id, `${t.prefix}…`, t.name, t.created_at, t.last_used_at ?? '-'].join('\t'));
      }
    } finally {
      await store.close();
    }
  });

  ownerOptions(
    tokens
      .command('revoke <id>')
      .description('revoke a token (by its id from `tokens list`): the API refuses it from then on')
      .option('--now <iso>', 'the moment to record (default: now)'),
    'token',
  ).action(async (id: string, o: { organisation?: string; operator?: boolean; now?: string }) => {
    const code = ownerOf(o);
    if (code === undefined) return;
    if (!/^[1-9]\d*$/.test(id)) {
      ctx.err(`tokens.bad_id: ${id} is not a token id (a number from tokens list)`);
      ctx.setExitCode(2);
      return;
    }
    const now = parseNow(ctx, o.now);
    if (!now) return;
    const store = await open();
    try {
      if (await revokeApiToken(store.db, Number(id), code, now)) {
        await cliAudit(store.db, now, code, 'settings.token_revoke', { tokenId: Number(id) });
        ctx.out(`token ${id} revoked`);
      } else {
        ctx.err(`tokens.not_found: no token ${id} in force for ${code ?? 'the operator'}`);
        ctx.setExitCode(1);
      }
    } finally {
      await store.close();
    }
  });
}
