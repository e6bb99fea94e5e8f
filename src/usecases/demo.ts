import { createReadStream, existsSync, readdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Kysely, sql } from 'kysely';
import { nextWeeklySlot, weeklySlotsBetween } from '../domain/delivery-week.js';
import { count } from '../domain/plural.js';
import type { Keys } from '../pseudonymise/keys.js';
import { simulate } from '../simulate/simulate.js';
import type { Database } from '../store/database.js';
import type { Store } from '../store/open.js';
import { createUser } from './accounts.js';
import { runDue } from './deliver.js';
import { ingestSource } from './ingest-exchanges.js';
import { openSource } from './ingest-sources.js';
import { linkPending } from './link-batch.js';
import { activateOrganisation, addOrganisation } from './organisations.js';

/** Shown on the console: the demo is local and throw-away, so one known password is the point. */
export const DEMO_PASSWORD = 'ketendata-demo';

export interface DemoLogin {
  readonly email: string;
  /** The organisation the account belongs to; null for the operator. */
  readonly organisation: string | null;
}

export interface DemoInput {
  readonly store: Store;
  readonly keys: Keys;
  readonly dataDir: string;
  readonly now: Date;
  /** Weeks of traffic to simulate and replay. */
  readonly weeks?: number;
  readonly clients?: number;
  readonly gemeenten?: number;
  readonly log?: (line: string) => void;
  /** Stops preparing between steps (a week's ingest and run is one step): `prepareDemo` throws DemoInterrupted. */
  readonly signal?: AbortSignal;
}

/** Preparing the demo stopped on request before it was ready; the next start begins it again. */
export class DemoInterrupted extends Error {
  constructor() {
    super('the demo was stopped before it was ready');
  }
}

export interface DemoResult {
  readonly created: boolean;
  readonly logins: readonly DemoLogin[];
}

const DAY = 24 * 60 * 60 * 1000;
const ACTOR = 'demo';

interface SimOrganisations {
  readonly gemeenten: readonly { code: string; name: string }[];
  readonly hoofdorganisaties: readonly { code: string; name: string; members: readonly string[] }[];
}

const slug = (name: string) =>
  name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

async function loginsOf(store: Store): Promise<DemoLogin[]> {
  const users = await store.db
    .selectFrom('app_user')
    .select(['email', 'role', 'organisation_code'])
    .orderBy('id')
    .execute();
  return users.map((u) => ({
    email: u.email,
    organisation: u.role === 'operator' ? null : u.organisation_code,
  }));
}

/**
 * What the demo finds in its store: `demo` when the demo made it (its organisations were added by the demo's
 * actor in the audit log: it is served as it is), `incomplete` when the demo began it but stopped before its
 * accounts were made (the last step: a first start interrupted), `empty` when it has nothing yet, `other` for
 * a store with data or accounts of its own — one used with `ingest`, `organisations add`, `users add` — that
 * the demo must neither fill with invented data nor serve under demo keys.
 */
export async function demoStoreState(store: Store): Promise<'demo' | 'incomplete' | 'empty' | 'other'> {
  const madeByDemo = await store.db
    .selectFrom('audit_log')
    .select('id')
    .where('actor', '=', ACTOR)
    .where('action', '=', 'organisation.add')
    .limit(1)
    .executeTakeFirst();
  if (madeByDemo !== undefined) return (await loginsOf(store)).length > 0 ? 'demo' : 'incomplete';
  const any = async (table: 'organisation' | 'exchange' | 'quarantine' | 'delivery' | 'app_user') =>
    (await store.db.selectFrom(table).select(sql<number>`1`.as('one')).limit(1).executeTakeFirst()) !==
    undefined;
  for (const table of ['organisation', 'exchange', 'quarantine', 'delivery', 'app_user'] as const)
    if (await any(table)) return 'other';
  return 'empty';
}

/** The organisations the demo registered (their delivery folders are the demo's). */
export async function demoOrganisations(store: Store): Promise<string[]> {
  const rows = await store.db
    .selectFrom('audit_log')
    .select('organisation')
    .where('actor', '=', ACTOR)
    .where('action', '=', 'organisation.add')
    .execute();
  return rows.flatMap((r) => (r.organisation ? [r.organisation] : []));
}

/**
 * Removes what an interrupted first start of the demo left in its data folder, so the demo can begin again:
 * the store, the simulated traffic, and the delivery folders of the organisations it registered (`codes`,
 * from `demoOrganisations`) with the unfinished ones in `deliveries/.tmp`. Nothing else: the demo secret stays,
 * and so does any other file. Only for a store whose state is `incomplete`, and with the store closed.
 */
export function clearIncompleteDemo(dataDir: string, codes: readonly string[]): void {
  for (const name of [
    'ketendata.sqlite',
    'ketendata.sqlite-wal',
    'ketendata.sqlite-shm',
    'ketendata.sqlite-journal',
  ])
    rmSync(join(dataDir, name), { force: true });
  const deliveries = join(dataDir, 'deliveries');
  for (const folder of [
    join(dataDir, 'demo-traffic'),
    join(deliveries, '.tmp'),
    ...codes.map((c) => join(deliveries, c)),
  ])
    rmSync(folder, { recursive: true, force: true });
}

/**
 * What in a data folder without a store the demo did not make (it makes the store first, so a folder with
 * other files and no store is someone else's: the delivery folder of a PostgreSQL deployment, say).
 */
export function foreignFiles(dataDir: string): string[] {
  if (!existsSync(dataDir) || existsSync(join(dataDir, 'ketendata.sqlite'))) return [];
  return readdirSync(dataDir).filter((name) => name !== 'demo-secret');
}

/**
 * The first look (`npm start`): simulate some weeks of hub traffic for a few municipalities and their head
 * organisation, register and activate them, then replay time week by week — ingest what the hub passed that
 * week, run that Sunday's deliveries — and make one account per organisation plus an operator, all in one
 * transaction and last, so a store with accounts is a finished demo. Idempotent: a store that already has users
 * is left as it is.
 */
export async function prepareDemo(input: DemoInput): Promise<DemoResult> {
  const { store, keys, dataDir, now } = input;
  const log = input.log ?? (() => {});
  const stopIfAsked = () => {
    if (input.signal?.aborted) throw new DemoInterrupted();
  };
  const existing = await loginsOf(store);
  if (existing.length > 0) return { created: false, logins: existing };

  const weeks = input.weeks ?? 16;
  const from = new Date(now.getTime() - weeks * 7 * DAY);
  const traffic = join(dataDir, 'demo-traffic');
  log(`simulating ${count(weeks, 'week')} of traffic …`);
  const sim = simulate({
    out: traffic,
    gemeenten: String(input.gemeenten ?? 3),
    clients: input.clients ?? 250,
    from: from.toISOString().slice(0, 10),
    to: new Date(now.getTime() - DAY).toISOString().slice(0, 10),
    seed: 7,
    duplicates: 0.01,
    errors: 0.02,
    clean: true,
  });
  log(`${count(sim.exchanges, 'exchange')} simulated`);
  stopIfAsked();

  const orgs = JSON.parse(await readFile(join(traffic, 'organisations.json'), 'utf8')) as SimOrganisations;
  const activation = new Date(from.getTime() - DAY);
  for (const g of orgs.gemeenten)
    await addOrganisation(store, { code: g.code, name: g.name, actor: ACTOR, now: activation });
  for (const h of orgs.hoofdorganisaties) {
    await addOrganisation(store, {
      code: h.code,
      name: h.name,
      members: h.members,
      actor: ACTOR,
      now: activation,
    });
  }
  for (const o of [...orgs.gemeenten, ...orgs.hoofdorganisaties]) {
    await activateOrganisation(store, { code: o.code, actor: ACTOR, now: activation });
  }

  // One manifest per delivery week, so each week is ingested before its own Sunday run.
  const slots = weeklySlotsBetween(activation, now);
  const perWeek = await splitManifest(traffic, slots);
  const deliveryDeps = { store, dataDir, organisationKey: (code: string) => keys.organisation(code) };
  let made = 0;
  for (const [i, file] of perWeek.entries()) {
    stopIfAsked();
    const slot = slots[i];
    const ingestAt = slot ? new Date(slot.getTime() - 60_000) : now;
    if (file) {
      await ingestSource({ store, keys, now: () => ingestAt }, await openSource(file));
      await linkPending(store, { now: ingestAt });
    }
    if (slot) made += (await runDue(deliveryDeps, new Date(slot.getTime() + 60_000))).made.length;
  }
  await runDue(deliveryDeps, now);
  log(`${count(slots.length, 'weekly run')} replayed, ${count(made, 'delivery', 'deliveries')} made`);
  stopIfAsked();
  await store.db.transaction().execute((trx) => createDemoUsers(trx, orgs, now));
  return { created: true, logins: await loginsOf(store) };
}

async function createDemoUsers(db: Kysely<Database>, orgs: SimOrganisations, now: Date): Promise<void> {
  for (const g of orgs.gemeenten) {
    await createUser(
      db,
      {
        email: `${slug(g.name)}@demo.ketendata.nl`,
        displayName: `Analist ${g.name}`,
        password: DEMO_PASSWORD,
        role: 'user',
        organisationCode: g.code,
      },
      now,
    );
  }
  for (const h of orgs.hoofdorganisaties) {
    await createUser(
      db,
      {
        email: `${h.code.toLowerCase()}@demo.ketendata.nl`,
        displayName: `Analist ${h.name}`,
        password: DEMO_PASSWORD,
        role: 'user',
        organisationCode: h.code,
      },
      now,
    );
  }
  await createUser(
    db,
    {
      email: 'beheer@demo.ketendata.nl',
      displayName: 'Beheerder',
      password: DEMO_PASSWORD,
      role: 'operator',
      organisationCode: null,
    },
    now,
  );
}

/** Writes manifest-week-<i>.ndjson beside the manifest: exchanges up to slot i, the rest in a last file. */
async function splitManifest(folder: string, slots: readonly Date[]): Promise<(string | undefined)[]> {
  const buckets: string[][] = Array.from({ length: slots.length + 1 }, () => []);
  const manifest = join(folder, 'manifest.ndjson');
  if (!existsSync(manifest)) return [];
  const lines = createInterface({
    input: createReadStream(manifest, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const moment = Date.parse((JSON.parse(line) as { moment: string }).moment);
    // The slot that delivers this exchange is the first Sunday run after it.
    const due = nextWeeklySlot(new Date(moment)).getTime();
    let i = slots.findIndex((s) => s.getTime() >= due);
    if (i < 0) i = slots.length;
    buckets[i]!.push(line);
  }
  const files: (string | undefined)[] = [];
  for (const [i, bucket] of buckets.entries()) {
    if (bucket.length === 0) {
      files.push(undefined);
      continue;
    }
    const file = join(folder, `manifest-week-${String(i).padStart(2, '0')}.ndjson`);
    await writeFile(file, `${bucket.join('\n')}\n`);
    files.push(file);
  }
  return files;
}
