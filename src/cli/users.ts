import { type Command, Option } from 'commander';
import { openStore } from '../store/open.js';
import { listUsers } from '../store/users.js';
import { createApiToken, createUser } from '../usecases/accounts.js';
import { AccountError } from '../usecases/accounts-errors.js';
import { type CliContext, parseNow } from './command.js';

/** `ketendata users …` and `ketendata tokens …`: accounts for the portal and tokens for the API. */
export function register(program: Command, ctx: CliContext): void {
  const open = () => openStore({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.dataDir });
  const users = program.command('users').description('portal accounts');

  users
    .command('add <email>')
    .description('add a user of an organisation (--organisation) or an operator (--operator)')
    .requiredOption('--name <name>', 'display name')
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
        const store = await open();
        try {
          const u = await createUser(
            store.db,
            {
              email,
              displayName: o.name,
              password,
              role: o.operator ? 'operator' : 'user',
              organisationCode: o.operator ? null : (o.organisation ?? null),
            },
            now,
          );
          ctx.out(
            `user ${u.id} added: ${u.email} (${u.role}${u.organisationCode ? `, organisation ${u.organisationCode}` : ''})`,
          );
        } catch (err) {
          if (!(err instanceof AccountError)) throw err;
          ctx.err(`${err.code}: ${err.message}`);
          ctx.setExitCode(1);
        } finally {
          await store.close();
        }
      },
    );

  users
    .command('list')
    .description('list users')
    .action(async () => {
      const store = await open();
      try {
        for (const u of await listUsers(store.db)) {
          ctx.out(
            [u.id, u.email, u.role, u.organisation_code ?? '-', u.totp_enabled ? 'totp' : '-'].join('\t'),
          );
        }
      } finally {
        await store.close();
      }
    });

  program
    .command('tokens')
    .description('API tokens')
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
    .action(async (name: string, o: { organisation?: string; operator?: boolean }) => {
      if (!o.operator && !o.organisation) {
        ctx.err('tokens.owner_required: give --organisation <code> or --operator');
        ctx.setExitCode(2);
        return;
      }
      const store = await open();
      try {
        const owner = o.operator
          ? ({ scope: 'operator', organisationCode: null } as const)
          : ({ scope: 'organisation', organisationCode: o.organisation ?? null } as const);
        const { token } = await createApiToken(store.db, owner, name, null, new Date());
        ctx.out(token);
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        ctx.err(`${err.code}: ${err.message}`);
        ctx.setExitCode(1);
      } finally {
        await store.close();
      }
    });
}
