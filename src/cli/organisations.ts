import type { Command } from 'commander';
import type { Store } from '../store/open.js';
import {
  activateOrganisation,
  addOrganisation,
  deactivateOrganisation,
  findOrganisation,
  formerMembers,
  listOrganisations,
  type Organisation,
  requestHistory,
  setFormerMunicipalities,
  setMembers,
  setPersonalData,
} from '../usecases/organisations.js';
import type { CliContext } from './command.js';
import { cliActor, withStoreAt } from './deliver.js';

/** `0363,0457 (former: 0457)`: the former municipalities among the members named as such. */
function membersText(o: Organisation): string {
  const former = formerMembers(o);
  return `${o.members.join(',')}${former.length > 0 ? ` (former: ${former.join(',')})` : ''}`;
}

const codesOption = (codes: string | undefined) =>
  codes
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean);

function describe(o: Organisation): string {
  return [
    o.code,
    o.kind,
    o.active
      ? `active since ${o.activatedAt}`
      : o.deactivatedAt
        ? `deactivated since ${o.deactivatedAt}`
        : 'not active',
    `members ${membersText(o)}`,
    o.historyRequested ? `history requested ${o.historyRequestedAt}` : '-',
    o.leavesOutPersonalData ? 'personal data left out' : 'personal data delivered',
    o.name,
  ].join('\t');
}

/** `ketendata organisations …`: municipalities and head organisations that receive deliveries. */
export function register(program: Command, ctx: CliContext): void {
  /** What a change of members leaves: whom it acts for now, and who comes with the next weekly. */
  const membersChanged = (org: Organisation) => {
    ctx.out(`organisation ${org.code} now acts for ${membersText(org)}`);
    if (org.catchUp.length > 0)
      ctx.out(`the next weekly holds all data stored so far for ${org.catchUp.join(',')}`);
  };
  const cmd = program
    .command('organisations')
    .description('receiving organisations (municipalities, head organisations)');

  const run = (now: string | undefined, fn: (store: Store, at: Date) => Promise<void>) =>
    withStoreAt(ctx, now, fn);

  cmd
    .command('add <code>')
    .description('register a municipality (by CBS code) or, with --members, a head organisation')
    .requiredOption('--name <name>', 'the organisation name (required)')
    .option('--members <codes>', "a head organisation's member municipalities: CBS codes, comma-separated")
    .option(
      '--former <codes>',
      'former municipalities (merged since, not in the 2026 code list) whose messages it receives too: CBS codes, comma-separated',
    )
    .option(
      '--leave-out-personal-data',
      'deliveries leave names, addresses, contact details and free text empty, and keep a birth year and a 4-digit postcode',
    )
    .option('--now <iso>', 'the moment to record (default: now)')
    .action(
      async (
        code: string,
        o: { name: string; members?: string; former?: string; leaveOutPersonalData?: boolean; now?: string },
      ) =>
        run(o.now, async (store, now) => {
          const members = codesOption(o.members);
          const former = codesOption(o.former);
          const org = await addOrganisation(store, {
            code,
            name: o.name,
            ...(members ? { members } : {}),
            ...(former ? { former } : {}),
            leaveOutPersonalData: o.leaveOutPersonalData === true,
            actor: cliActor(),
            now,
          });
          ctx.out(
            `organisation ${org.code} added (${org.kind}, members ${membersText(org)}${
              org.leavesOutPersonalData ? ', personal data left out' : ''
            }); activate it to start deliveries`,
          );
        }),
    );

  cmd
    .command('personal-data <code> <choice>')
    .description(
      'leave-out: from the next delivery on, leave the columns with personal data in clear empty (names, ' +
        'addresses, contact details, free text; of a birth date the year stays, of a postcode its 4 digits; the ' +
        'data dictionary marks them); deliver: fill them again',
    )
    .option('--now <iso>', 'the moment to record (default: now)')
    .action(async (code: string, choice: string, o: { now?: string }) => {
      if (choice !== 'leave-out' && choice !== 'deliver') {
        ctx.err(
          `organisations personal-data: choose leave-out or deliver, not ${JSON.stringify(choice)} (organisation.bad_option)`,
        );
        ctx.setExitCode(2);
        return;
      }
      await run(o.now, async (store, now) => {
        const org = await setPersonalData(store, {
          code,
          leaveOut: choice === 'leave-out',
          actor: cliActor(),
          now,
        });
        ctx.out(
          `organisation ${org.code}: personal data ${org.leavesOutPersonalData ? 'left out of' : 'delivered in'} its deliveries from the next one on`,
        );
      });
    });

  cmd
    .command('activate <code>')
    .description('start weekly deliveries; the first holds all data stored for it so far')
    .option('--now <iso>', 'the moment of activation (default: now)')
    .action(async (code: string, o: { now?: string }) =>
      run(o.now, async (store, now) => {
        const was = await findOrganisation(store, code);
        const org = await activateOrganisation(store, { code, actor: cliActor(), now });
        ctx.out(`organisation ${org.code} active from ${org.activatedAt}`);
        // A re-activation keeps the cursor: said so, with the weekly it resumes after.
        if (was?.activatedAt) {
          ctx.out(
            org.weeklySlot && org.weeklySlot !== org.activatedAt
              ? `active again: its next weekly holds everything not delivered before (since its weekly of ${org.weeklySlot})`
              : 'active again: it had no weekly yet, so its first one holds all data stored for it so far',
          );
        }
      }),
    );

  cmd
    .command('deactivate <code>')
    .description(
      'stop weekly deliveries (deliveries made stay downloadable until they expire); activate again later to ' +
        'resume where they stopped',
    )
    .option('--now <iso>', 'the moment of deactivation (default: now)')
    .action(async (code: string, o: { now?: string }) =>
      run(o.now, async (store, now) => {
        const { organisation: org, historyWithdrawn } = await deactivateOrganisation(store, {
          code,
          actor: cliActor(),
          now,
        });
        ctx.out(
          `organisation ${org.code} deactivated at ${now.toISOString()}: no new deliveries are made for it; ` +
            'those made stay downloadable until they expire (60 days)',
        );
        if (historyWithdrawn) {
          ctx.out(
            `its pending history request (requested ${historyWithdrawn.requestedAt} by ${historyWithdrawn.requestedBy}) ` +
              `is withdrawn: it is not served while inactive, nor after a new activation (request it again then)`,
          );
        }
        ctx.out(
          `activate it again (ketendata organisations activate ${org.code}) to resume: its next weekly then holds everything not delivered before`,
        );
      }),
    );

  cmd
    .command('members <code>')
    .description("change a head organisation's member municipalities")
    .requiredOption(
      '--members <codes>',
      'CBS codes, comma-separated, replacing the current list, former municipalities included (required)',
    )
    .option('--now <iso>', 'the moment to record (default: now)')
    .action(async (code: string, o: { members: string; now?: string }) =>
      run(o.now, async (store, now) => {
        const org = await setMembers(store, { code, members: o.members.split(','), actor: cliActor(), now });
        membersChanged(org);
      }),
    );

  cmd
    .command('former <code>')
    .description(
      'name the former municipalities (merged since, not in the 2026 code list; e.g. Weesp 0457 for Amsterdam) ' +
        'whose messages a municipality or head organisation receives too',
    )
    .requiredOption(
      '--codes <codes>',
      'their CBS codes, comma-separated, replacing those named before ("" names none) (required)',
    )
    .option('--now <iso>', 'the moment to record (default: now)')
    .action(async (code: string, o: { codes: string; now?: string }) =>
      run(o.now, async (store, now) => {
        const org = await setFormerMunicipalities(store, {
          code,
          former: codesOption(o.codes) ?? [],
          actor: cliActor(),
          now,
        });
        membersChanged(org);
      }),
    );

  cmd
    .command('request-history <code>')
    .description('the next weekly run also makes a delivery of everything since 1-1-2021')
    .option('--now <iso>', 'the moment of the request (default: now)')
    .action(async (code: string, o: { now?: string }) =>
      run(o.now, async (store, now) => {
        const org = await requestHistory(store, { code, actor: cliActor(), now });
        ctx.out(`history requested for ${org.code} at ${org.historyRequestedAt}`);
      }),
    );

  cmd
    .command('list')
    .description('list organisations: code, kind, state, members, history request, personal data, name')
    .action(async () =>
      run(undefined, async (store) => {
        for (const o of await listOrganisations(store)) ctx.out(describe(o));
      }),
    );
}
