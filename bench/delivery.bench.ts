// `npm run bench -- delivery`: a history delivery of ≥ 1 million messages, on SQLite and on PostgreSQL,
// each in its own process; reports wall time and peak RSS. Targets: ≤ 60 s and ≤ 512 MB RSS. The dashboard
// refresh the weekly run does next is timed after it, apart (it has no target of its own here).
// KETENDATA_BENCH_MESSAGES overrides the size (default 1 000 000).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { deriveKeys } from '../src/pseudonymise/keys.js';
import type { Dialect } from '../src/store/database.js';
import { MESSAGE_COLUMNS } from '../src/store/ingest-repository.js';
import type { Store } from '../src/store/open.js';
import { runDue } from '../src/usecases/deliver.js';
import { listDeliveries } from '../src/usecases/deliveries.js';
import { refreshIndicators } from '../src/usecases/indicators.js';
import { ingestOne } from '../src/usecases/ingest-exchanges.js';
import { activateOrganisation, addOrganisation, requestHistory } from '../src/usecases/organisations.js';
import { freshStore } from '../test/support/databases.js';

const N = Number(process.env.KETENDATA_BENCH_MESSAGES ?? 1_000_000);
const SECRET = 'bench-secret-bench-secret-bench-secret-0001';
const EXAMPLES = fileURLToPath(new URL('../test/fixtures/istandaarden/', import.meta.url));
const TIME_TARGET_S = 60;

/**
 * CPU seconds of this process's main thread (Linux /proc; undefined elsewhere). The main thread reads the
 * store and writes the ZIP for all format workers, so it bounds the wall time on an idle machine.
 */
function mainThreadCpu(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
  } catch {
    return undefined;
  }
}
const RSS_TARGET_MB = 512;

/** The official examples (the corrected JW315/JW318), ingested for real: templates with real rows. */
export async function ingestTemplates(store: Store): Promise<void> {
  const keys = deriveKeys(SECRET);
  let n = 0;
  for (const dir of ['ijw-voorbeelden', 'ijw-voorbeelden-gecorrigeerd', 'iwmo-voorbeelden']) {
    for (const f of readdirSync(join(EXAMPLES, dir)).sort()) {
      if (dir === 'ijw-voorbeelden' && (f === 'JW315.xml' || f === 'JW318.xml')) continue;
      n++;
      const moment = new Date(Date.UTC(2023, 0, 1, 9, 0, n)).toISOString();
      await ingestOne(
        { store, keys, now: () => new Date(moment) },
        {
          source: `${dir}/${f}`,
          bytes: readFileSync(join(EXAMPLES, dir, f)),
          moment,
          verzender: '0363',
          ontvanger: '12345678',
          hubId: null,
        },
      );
    }
  }
}

const COLUMNS = MESSAGE_COLUMNS;

/**
 * Clones the templates to N messages in SQL (fast, no XML): each clone gets its own BerichtId and its own
 * pseudonyms, so the per-organisation re-keying works on distinct values as with real clients.
 */
export async function cloneTo(store: Store, n: number): Promise<void> {
  const templates = await store.db.selectFrom('message').select(['seq', 'rows']).orderBy('seq').execute();
  const k = templates.length;
  const dialect = store.dialect;
  await sql`CREATE TABLE tpl (k integer primary key, seq integer, p1 text, p2 text, p3 text)`.execute(
    store.db,
  );
  for (const [i, t] of templates.entries()) {
    const [p1 = '-', p2 = '-', p3 = '-'] = [...new Set(String(t.rows).match(/[0-9a-f]{64}/g) ?? [])];
    await sql`INSERT INTO tpl (k, seq, p1, p2, p3) VALUES (${i}, ${t.seq}, ${p1}, ${p2}, ${p3})`.execute(
      store.db,
    );
  }
  // Up to three distinct pseudonyms per clone (BSN, ToewijzingNummer, …): ~3N values to re-key, as in real data.
  const hex = (suffix: string) =>
    dialect === 'postgres'
      ? sql`lpad(to_hex(g.i), 63, '0') || ${suffix}`
      : sql`printf('%063x', g.i) || ${suffix}`;
  const cols = sql.raw(COLUMNS.join(', '));
  const select = COLUMNS.map((c) => {
    if (c === 'bericht_id') return sql`m.bericht_id || '-' || g.i`;
    if (c === 'gemeente') return sql`'0363'`;
    if (c === 'rows') {
      return sql`replace(replace(replace(m.rows, tpl.p1, ${hex('a')}), tpl.p2, ${hex('b')}), tpl.p3, ${hex('c')})`;
    }
    return sql.raw(`m.${c}`);
  });
  const chunk = 100_000;
  for (let from = 1; from <= n - k; from += chunk) {
    const to = Math.min(n - k, from + chunk - 1);
    const series =
      dialect === 'postgres'
        ? sql`generate_series(${from}::int, ${to}::int) AS g(i)`
        : sql`(WITH RECURSIVE s(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM s WHERE i < ${to}) SELECT i FROM s) AS g`;
    await sql`INSERT INTO message (${cols})
      SELECT ${sql.join(select)} FROM ${series}
      JOIN tpl ON tpl.k = g.i % ${k} JOIN message m ON m.seq = tpl.seq ORDER BY g.i`.execute(store.db);
  }
  await sql`UPDATE message SET gemeente = '0363'`.execute(store.db);
  await sql`ANALYZE`.execute(store.db);
}

async function one(dialect: Dialect): Promise<boolean> {
  const { store, dataDir, drop } = await freshStore(dialect);
  try {
    let t = performance.now();
    await ingestTemplates(store);
    await cloneTo(store, N);
    const setup = (performance.now() - t) / 1000;
    const T0 = new Date('2024-06-03T10:00:00Z');
    await addOrganisation(store, { code: '0363', name: 'Bench', actor: 'bench', now: T0 });
    await activateOrganisation(store, { code: '0363', actor: 'bench', now: T0 });
    await requestHistory(store, { code: '0363', actor: 'bench', now: T0 });
    const keys = deriveKeys(SECRET);
    globalThis.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    t = performance.now();
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpu();
    const sunday = new Date('2024-06-09T04:00:00Z');
    const report = await runDue({ store, dataDir, organisationKey: (c) => keys.organisation(c) }, sunday, {
      refreshIndicators: false,
    });
    const seconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const main1 = mainThreadCpu();
    const mainCpu =
      main0 !== undefined && main1 !== undefined ? `, main thread ${(main1 - main0).toFixed(1)} s` : '';
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    const history = (await listDeliveries(store, '0363', { now: new Date('2024-06-10T12:00:00Z') })).find(
      (d) => d.kind === 'history',
    );
    const made = report.made.find((m) => m.kind === 'history');
    const mb = (b: number) => Math.round(b / 1024 / 1024);
    const ok = seconds <= TIME_TARGET_S && mb(peak) <= RSS_TARGET_MB && made?.messages === N;
    console.log(
      `${dialect}: history of ${made?.messages ?? 0} messages in ${seconds.toFixed(1)} s ` +
        `(${Math.round((made?.messages ?? 0) / seconds)} msg/s; CPU ${cpuSeconds.toFixed(1)} s${mainCpu}), peak RSS ${mb(peak)} MB (before ${mb(base)} MB), ` +
        `ZIP ${mb(history?.size ?? 0)} MB; setup ${setup.toFixed(0)} s — ` +
        `${ok ? 'OK' : 'MISSED'} (targets ≤ ${TIME_TARGET_S} s, ≤ ${RSS_TARGET_MB} MB)`,
    );
    // The weekly run then refreshes the dashboards (`refreshIndicators`), which count the whole history and
    // keep about 300 bytes per message while they do: timed apart, as the delivery's targets are its own.
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let dashPeak = before;
    const dashTimer = setInterval(() => {
      dashPeak = Math.max(dashPeak, process.memoryUsage().rss);
    }, 50);
    const t2 = performance.now();
    await refreshIndicators(store, '0363', { now: sunday });
    clearInterval(dashTimer);
    dashPeak = Math.max(dashPeak, process.memoryUsage().rss);
    console.log(
      `${dialect}: the dashboard refresh after it (the weekly run's next step) in ${((performance.now() - t2) / 1000).toFixed(1)} s, ` +
        `peak RSS ${mb(dashPeak)} MB (before ${mb(before)} MB)${mb(dashPeak) > RSS_TARGET_MB ? ` — over ${RSS_TARGET_MB} MB: the dashboards grow with the history` : ''}`,
    );
    return ok;
  } finally {
    await drop();
  }
}

const arg = process.argv[2] as Dialect | undefined;
const isMain = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (!isMain) {
  // imported for its seeding helpers
} else if (arg) {
  process.exitCode = (await one(arg)) ? 0 : 1;
} else {
  // One process per dialect: an honest RSS for each.
  let failed = 0;
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), dialect], {
      stdio: 'inherit',
    });
    if (r.status !== 0) failed++;
  }
  process.exitCode = failed ? 1 : 0;
}
