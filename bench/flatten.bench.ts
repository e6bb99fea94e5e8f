// Throughput of `ketendata flatten` against a bare saxes parse of the same corpus: `npm run bench -- flatten`.
// One core, one process per contender (see below). The corpus is every valid official example (plus derived iWmo retours) repeated with
// a fresh BerichtIdentificatie and its own client BSN, so every message is distinct.
// Target: flatten ≥ 50% of the faster bare parse (xmlns true or false) of the same files.
// Like with like: the command reads one file at a time from disk, so its figure is compared with a bare parse
// that lists and reads the same files the same way (readFileSync, UTF-8 decode). parseMessage is compared
// with a bare parse of the same corpus in memory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { examples } from '../test/support/examples.js';

const MESSAGES = Number(process.env.KETENDATA_BENCH_MESSAGES ?? 10_000);
const ROUNDS = Number(process.env.KETENDATA_BENCH_ROUNDS ?? 5);
const WARMUP = Number(process.env.KETENDATA_BENCH_WARMUP ?? 2);
const RUNS = Number(process.env.KETENDATA_BENCH_RUNS ?? 3);

/**
 * A distinct, valid BSN (eleven test) per message: every official example uses the same test BSN, and
 * with one BSN in the whole corpus the command's per-run hash cache would make hashing look free.
 */
function bsnFor(i: number): string {
  for (let n = 10_000_000 + i * 10; ; n++) {
    const d = String(n).padStart(8, '0');
    let sum = 0;
    for (let k = 0; k < 8; k++) sum += (9 - k) * Number(d[k]);
    const check = sum % 11;
    if (check < 10) return `${d}${check}`;
  }
}

const bases = examples().filter((e) => e.valid);
const corpus: Buffer[] = [];
for (let i = 0; i < MESSAGES; i++) {
  const base = bases[i % bases.length]?.text as string;
  const id = `B${String(i).padStart(11, '0')}`;
  const bsn = bsnFor(i);
  const text = base
    .replace(/(<(\w+:)?Identificatie>)[^<]*/, `$1${id}`)
    .replace(/(<(\w+:)?Bsn>)[^<]*/g, `$1${bsn}`);
  corpus.push(Buffer.from(text));
}
const totalBytes = corpus.reduce((s, b) => s + b.length, 0);
const dir = mkdtempSync(join(tmpdir(), 'ketendata-bench-flatten-'));
const inDir = join(dir, 'in');
mkdirSync(inDir);
corpus.forEach((b, i) => {
  writeFileSync(join(inDir, `m${String(i).padStart(6, '0')}.xml`), b);
});

interface Contender {
  readonly name: string;
  readonly label: string;
  /** Best (lowest) CPU and wall time of one run, ms. */
  cpu: number;
  wall: number;
}

const contenders: Contender[] = [
  ['bare-files-ns', 'bare saxes parse of the files (xmlns: true)'],
  ['bare-files', 'bare saxes parse of the files (xmlns: false)'],
  ['flatten', 'ketendata flatten (files → CSV, with hashing)'],
  ['bare-memory-ns', 'bare saxes parse in memory (xmlns: true)'],
  ['bare-memory', 'bare saxes parse in memory (xmlns: false)'],
  ['parse-memory', 'parseMessage in memory (parse + validate + flatten)'],
].map(([name, label]) => ({
  name: name as string,
  label: label as string,
  cpu: Number.POSITIVE_INFINITY,
  wall: Number.POSITIVE_INFINITY,
}));

// The contenders run the compiled code the `ketendata` bin runs: build it first.
const build = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) throw new Error('npm run build failed');

/**
 * Each contender runs alone in a process of its own, as the command does: in one shared process the
 * contenders' JIT feedback and garbage slowed each other, and by different amounts (flatten by about a
 * quarter, a bare parse by about a tenth), so the ratio measured the mix rather than the command. Rounds
 * run the contenders in turn (A B C A B C …), so a busy spell on the machine hits all of them alike. Time is
 * CPU time of the contender's process (user + system, the file system's threads included); other load does
 * not count. Within a process the first runs only warm up.
 */
const child = fileURLToPath(new URL('flatten-contender.mjs', import.meta.url));
console.log(
  `corpus: ${MESSAGES} messages, ${(totalBytes / 1e6).toFixed(1)} MB, ${bases.length} message types; ` +
    `${ROUNDS} rounds of one process per contender, each ${WARMUP} warm-up and ${RUNS} measured runs; ` +
    `best run (CPU time, one core)`,
);
for (let r = 0; r < ROUNDS; r++) {
  for (const c of contenders) {
    const p = spawnSync(
      process.execPath,
      ['--expose-gc', child, c.name, inDir, join(dir, 'out'), String(WARMUP), String(RUNS)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (p.status !== 0) throw new Error(`${c.name} failed (exit ${p.status})`);
    const t = JSON.parse(p.stdout) as { cpu: number; wall: number };
    c.cpu = Math.min(c.cpu, t.cpu);
    c.wall = Math.min(c.wall, t.wall);
  }
}

const perSecond = (c: Contender) => MESSAGES / (c.cpu / 1000);
const mbPerSecond = (c: Contender) => totalBytes / 1e6 / (c.cpu / 1000);
const byName = (name: string) => contenders.find((c) => c.name === name) as Contender;
for (const c of contenders) {
  console.log(
    `${c.label.padEnd(52)} ${perSecond(c).toFixed(0).padStart(7)} messages/s ${mbPerSecond(c).toFixed(1).padStart(6)} MB/s` +
      `  (CPU ${c.cpu.toFixed(0)} ms, wall ${c.wall.toFixed(0)} ms)`,
  );
}
const pct = (a: Contender, b: Contender) => `${((perSecond(a) / perSecond(b)) * 100).toFixed(0)}%`;
const core = byName('parse-memory');
console.log(
  `parseMessage / bare saxes in memory: ${pct(core, byName('bare-memory-ns'))} of xmlns: true, ` +
    `${pct(core, byName('bare-memory'))} of xmlns: false`,
);
// The headline: the command against whichever bare parse of the same files was faster in this run.
const bareFiles = byName('bare-files');
const bareFilesNs = byName('bare-files-ns');
const baseline = perSecond(bareFiles) >= perSecond(bareFilesNs) ? bareFiles : bareFilesNs;
const ratio = perSecond(byName('flatten')) / perSecond(baseline);
console.log(
  `ketendata flatten = ${(ratio * 100).toFixed(0)}% of the faster bare saxes parse of the same files ` +
    `${baseline.label.replace('bare saxes parse of the files ', '')}: target ≥ 50% ${ratio >= 0.5 ? 'met' : 'NOT met'}`,
);
rmSync(dir, { recursive: true, force: true });
