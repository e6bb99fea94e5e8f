/**
 * `simulate()`: a whole run. Journeys start spread over the period (a spawner per day creates that day's
 * journeys, so nothing is held before it is needed); every event runs in time order, so the manifest is
 * written in hub order while only per-journey state lives in memory.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { addMonths, DAY_MS, type Day, dayFromIso, isoDay } from '../domain/calendar.js';
import type { Standard } from '../schema/model.js';
import { catalog } from './catalog.js';
import { Declarations } from './declarations.js';
import { person, testBsnPool } from './identities.js';
import { type JourneyState, journey, type World } from './journey.js';
import {
  type Aanbieder,
  chooseGemeenten,
  type Gemeente,
  headOrganisations,
  makeAanbieders,
  makeGemeenten,
} from './organisations.js';
import { type FileSink, Output } from './output.js';
import { Random } from './random.js';
import { drive, Scheduler } from './scheduler.js';
import { Sim } from './sim.js';
import { STYLES } from './xml-writer.js';

export interface SimulateOptions {
  readonly out: string;
  /** CBS codes (comma-separated) or a number of municipalities. */
  readonly gemeenten: string;
  readonly clients: number;
  readonly from: string;
  readonly to: string;
  /** The last moment written (ISO-8601), when earlier than the end of `to` (a default period ending now). */
  readonly until?: string;
  readonly seed: number;
  readonly duplicates: number;
  readonly errors: number;
  /** Share of deadlines missed (default 0.05). */
  readonly late?: number;
  /** Share of journeys in iJw (the rest iWmo); default 0.5. */
  readonly youthShare?: number;
  /**
   * Months simulated before `from` and not written, so that the output starts with care already
   * running (as a real extract does) instead of an empty system. Default 0.
   */
  readonly warmupMonths?: number;
  /** Remove an existing output folder first. */
  readonly clean?: boolean;
  /** Where message files go (default: the `out` folder); benchmarks pass a `NullSink`. */
  readonly files?: FileSink;
  /** Called once per simulated day (progress bars, memory probes in benchmarks). */
  readonly onDay?: (p: {
    readonly day: string;
    readonly exchanges: number;
    readonly pending: number;
  }) => void;
}

export interface SimulateResult {
  readonly exchanges: number;
  readonly journeys: number;
  readonly perCode: Readonly<Record<string, number>>;
  readonly perStatus: Readonly<Record<string, number>>;
  readonly perRelation: Readonly<Record<string, number>>;
}

/** The defaults of a pleasant demo: 3 municipalities, 300 clients, the last six months. */
export function defaultPeriod(now: Date): { from: string; to: string } {
  const to = now.toISOString().slice(0, 10);
  const f = new Date(now);
  f.setUTCMonth(f.getUTCMonth() - 6);
  return { from: f.toISOString().slice(0, 10), to };
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(`simulate.bad_option: ${message}`);
}

/** A `YYYY-MM-DD` that exists: `Date.parse` would read 2026-02-30 as 2 March. */
function checkedDay(option: string, value: string): Day {
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
  const day = valid ? dayFromIso(value) : undefined;
  check(
    day !== undefined && isoDay(day) === value,
    `${option} ${value} is not a date that exists (YYYY-MM-DD)`,
  );
  return day as Day;
}

export function simulate(opts: SimulateOptions): SimulateResult {
  check(
    Number.isInteger(opts.clients) && opts.clients >= 1,
    `--clients must be a positive whole number (got ${opts.clients})`,
  );
  check(opts.duplicates >= 0 && opts.duplicates <= 1, '--duplicates must be between 0 and 1');
  check(opts.errors >= 0 && opts.errors <= 1, '--errors must be between 0 and 1');
  check(Number.isInteger(opts.seed), '--seed must be a whole number');
  const written = checkedDay('--from', opts.from);
  const to = checkedDay('--to', opts.to);
  check(written <= to, `--from ${opts.from} is after --to ${opts.to}`);
  const warmup = opts.warmupMonths ?? 0;
  check(Number.isInteger(warmup) && warmup >= 0 && warmup <= 36, '--warmup must be 0–36 months');
  const from = warmup > 0 ? addMonths(written, -warmup) : written;
  if (opts.clean) rmSync(opts.out, { recursive: true, force: true });

  const seed = opts.seed >>> 0;
  const setup = new Random(seed, 1);
  const gemeenteRows = chooseGemeenten(opts.gemeenten, setup);
  const gemeenten = makeGemeenten(gemeenteRows, setup, STYLES.length);
  const heads = headOrganisations(gemeenteRows);
  const aanbiederCount = Math.max(
    6,
    Math.min(600, 4 + Math.round(3 * gemeenten.length) + Math.floor(opts.clients / 400)),
  );
  const aanbieders = makeAanbieders(aanbiederCount, setup, STYLES.length, (s) =>
    catalog(s).map((p) => p.code),
  );
  // Larger runs: providers work in a few regions (or nationally); small runs: everyone everywhere.
  const regions = [...new Set(gemeenten.map((g) => g.regio))];
  const serves = new Map<string, Set<string>>();
  for (const a of aanbieders) {
    const national = regions.length <= 2 || setup.chance(0.15);
    serves.set(
      a.agb,
      new Set(national ? regions : Array.from({ length: setup.int(1, 3) }, () => setup.pick(regions))),
    );
  }
  const candidates = new Map<string, Aanbieder[]>();
  const candidatesFor = (g: Gemeente, standard: Standard): Aanbieder[] => {
    const key = `${g.regio}|${standard}`;
    let list = candidates.get(key);
    if (!list) {
      list = aanbieders.filter((a) => a.standards.includes(standard) && serves.get(a.agb)?.has(g.regio));
      if (list.length === 0) list = aanbieders.filter((a) => a.standards.includes(standard));
      candidates.set(key, list);
    }
    return list;
  };

  // The same options give the same ids (determinism); other options, other ids, so that runs over other
  // periods or with other settings can share a store. Not `until`: it only cuts the period short, and a later
  // moment of the same day writes the same exchanges (same ids) plus the ones after it; the clock's
  // milliseconds in the tag gave every re-run new ids, so re-ingesting it passed every message twice.
  const runTag = createHash('sha256')
    .update(
      JSON.stringify([
        opts.gemeenten,
        opts.clients,
        opts.from,
        opts.to,
        seed,
        opts.duplicates,
        opts.errors,
        opts.late ?? 0.05,
        opts.youthShare ?? 0.5,
        warmup,
      ]),
    )
    .digest('hex')
    .slice(0, 6)
    .toUpperCase();
  const out = new Output(opts.out, opts.files, written * DAY_MS, runTag);
  out.writeJson('organisations.json', {
    gemeenten: gemeenten.map((g) => ({ code: g.code, name: g.name, provincie: g.provincie, regio: g.regio })),
    hoofdorganisaties: heads,
    aanbieders: aanbieders.map((a) => ({ agb: a.agb, name: a.name, standards: a.standards })),
  });

  const endMoment = Math.min(
    (to + 1) * DAY_MS - 1,
    opts.until ? Date.parse(opts.until) : Number.POSITIVE_INFINITY,
  );
  const scheduler = new Scheduler(endMoment);
  scheduler.now = from * DAY_MS;
  const sim = new Sim(scheduler, out, new Random(seed, 2), {
    duplicates: opts.duplicates,
    errors: opts.errors,
    late: opts.late ?? 0.05,
  });
  for (const g of gemeenten) sim.registerStyle(g.code, g.style);
  for (const a of aanbieders) sim.registerStyle(a.agb, a.style);
  const declarations = new Declarations(sim, new Random(seed, 3));

  const twNumbers = new Map<string, number>();
  const referenties = new Map<string, number>();
  const beschikkingen = new Map<string, number>();
  const numbering = new Random(seed, 4);
  const world: World = {
    sim,
    declarations,
    gemeenten,
    products: catalog,
    nextToewijzingNummer(gemeente, standard) {
      const key = `${gemeente}|${standard}`;
      const n = twNumbers.get(key) ?? numbering.int(1, 9) * 100_000 + numbering.int(0, 9_999);
      twNumbers.set(key, n + 1);
      return n + 1;
    },
    nextReferentie(agb) {
      const n = (referenties.get(agb) ?? 0) + 1;
      referenties.set(agb, n);
      return `${agb.slice(-4)}-${isoDay(sim.today()).slice(0, 4)}-${String(n).padStart(6, '0')}`;
    },
    nextBeschikking(gemeente) {
      const n = (beschikkingen.get(gemeente) ?? numbering.int(10_000, 90_000)) + 1;
      beschikkingen.set(gemeente, n);
      return n;
    },
  };

  // Journey starts: spread over the period, fewer in weekends; counts per day only.
  const span = to - from + 1;
  const lastStart = Math.max(from, to - Math.min(14, Math.floor(span / 4)));
  const perDay = new Int32Array(lastStart - from + 1);
  const spread = new Random(seed, 5);
  for (let i = 0; i < opts.clients; i++) {
    let d = from + spread.int(0, lastStart - from);
    const wd = (d + 4) % 7;
    if ((wd === 0 || wd === 6) && spread.chance(0.8)) d = Math.min(lastStart, d + (wd === 6 ? 2 : 1));
    perDay[d - from] = (perDay[d - from] ?? 0) + 1;
  }
  const bsns = testBsnPool(new Random(seed, 6));
  const gemeenteWeights = gemeenten.map((g) => g.weight);
  const youthShare = opts.youthShare ?? 0.5;
  let spawned = 0;
  const spawnDay = (day: Day) => {
    const n = perDay[day - from] ?? 0;
    for (let k = 0; k < n; k++) {
      const index = spawned++;
      const r = new Random(seed, 1000 + index);
      const standard: Standard = r.chance(youthShare) ? 'ijw' : 'iwmo';
      const gemeente = r.weighted(gemeenten, gemeenteWeights);
      const pool = candidatesFor(gemeente, standard);
      const aanbieder = r.weighted(
        pool,
        pool.map((a) => a.weight),
      );
      const j: JourneyState = {
        id: `J${String(index + 1).padStart(8, '0')}`,
        random: r,
        person: person(r, String(bsns[index % bsns.length]), standard === 'ijw', day, gemeente),
        standard,
        gemeente,
        aanbieder,
        startDay: day,
        tws: [],
      };
      drive(scheduler, journey(world, j));
    }
    if (day < lastStart) scheduler.at((day + 1) * DAY_MS, () => spawnDay(day + 1));
  };
  scheduler.at(from * DAY_MS, () => spawnDay(from));
  const onDay = opts.onDay;
  if (onDay) {
    const tick = (day: Day) => {
      onDay({ day: isoDay(day), exchanges: out.exchanges, pending: scheduler.pending });
      if (day < to) scheduler.at((day + 1) * DAY_MS, () => tick(day + 1));
    };
    scheduler.at(from * DAY_MS, () => tick(from));
  }
  scheduler.run();
  sim.close();

  const deadlines = Object.fromEntries(
    [...sim.deadlines.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en'))
      .map(([k, [kept, missed]]) => [k, { kept, missed }]),
  );
  out.close({
    journeys: spawned,
    seed: opts.seed,
    from: opts.from,
    to: opts.to,
    gemeenten: gemeenten.map((g) => g.code),
    deadlines,
  });
  const obj = (m: Map<string, number>) => Object.fromEntries(m);
  return {
    exchanges: out.exchanges,
    journeys: spawned,
    perCode: obj(out.perCode),
    perStatus: obj(out.perStatus),
    perRelation: obj(out.perRelation),
  };
}
