// Throughput of `ketendata flatten` against a bare saxes parse of the same corpus: `npm run bench -- flatten`.
// One process, one core. The corpus is every valid official example (plus derived iWmo retours) repeated with
// a fresh BerichtIdentificatie and its own client BSN, so every message is distinct.
// Target: flatten ≥ 50% of the faster bare parse (xmlns true or false) of the same files.
// Like with like: the command reads one file at a time from disk, so its figure is compared with a bare parse
// that lists and reads the same files the same way (readFileSync, UTF-8 decode). parseMessage is compared
// with a bare parse of the same corpus in memory.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { flattenFiles, xmlFiles } from '../src/cli/flatten.js';
import { parseMessage } from '../src/ingest/index.js';
import { examples } from '../test/support/examples.js';

const MESSAGES = Number(process.env.KETENDATA_BENCH_MESSAGES ?? 10_000);
const ROUNDS = Number(process.env.KETENDATA_BENCH_ROUNDS ?? 7);
const WARMUP = Number(process.env.KETENDATA_BENCH_WARMUP ?? 2);

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
  readonly label: string;
  readonly run: () => void | Promise<void>;
  /** Best (lowest) CPU and wall time of one round, ms. */
  cpu: number;
  wall: number;
}

const contenders: Contender[] = [];
function contender(label: string, run: () => void | Promise<void>): Contender {
  const c = { label, run, cpu: Number.POSITIVE_INFINITY, wall: Number.POSITIVE_INFINITY };
  contenders.push(c);
  return c;
}

const noop = () => {};
function bareParse(xmlns: boolean, text: string): void {
  const p = new SaxesParser({ xmlns });
  p.on('opentag', noop);
  p.on('text', noop);
  p.on('closetag', noop);
  p.write(text).close();
}
/** The same files, listed and read the way `ketendata flatten` lists and reads them. */
function bareSaxesFiles(xmlns: boolean) {
  return () => {
    for (const file of xmlFiles([inDir], noop)) bareParse(xmlns, readFileSync(file).toString('utf8'));
  };
}
function bareSaxes(xmlns: boolean) {
  return () => {
    for (const b of corpus) bareParse(xmlns, b.toString('utf8'));
  };
}

const bareFilesNs = contender('bare saxes parse of the files (xmlns: true)', bareSaxesFiles(true));
const bareFiles = contender('bare saxes parse of the files (xmlns: false)', bareSaxesFiles(false));
const flatten = contender('ketendata flatten (files → CSV, with hashing)', async () => {
  const r = await flattenFiles({
    inputs: [inDir],
    out: join(dir, 'out'),
    secret: 'bench-secret-bench-secret-bench-secret',
    onError: (l) => {
      throw new Error(l);
    },
  });
  if (r.messages !== MESSAGES) throw new Error(`flattened ${r.messages}`);
});
const bareNs = contender('bare saxes parse in memory (xmlns: true)', bareSaxes(true));
const bare = contender('bare saxes parse in memory (xmlns: false)', bareSaxes(false));
const core = contender('parseMessage in memory (parse + validate + flatten)', () => {
  for (const b of corpus) if (!parseMessage(b, { file: 'bench' }).ok) throw new Error('invalid');
});

/**
 * One round runs every contender once, in turn (A B C A B C …), so a busy spell on the shared machine or
 * the JIT's progress hits all of them alike. Time is CPU time of this process (user + system, the
 * file system's threads included): other load does not count. The first rounds only warm up.
 */
async function round(measured: boolean): Promise<void> {
  for (const c of contenders) {
    globalThis.gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await c.run();
    const wall = performance.now() - t0;
    const d = process.cpuUsage(cpu0);
    if (measured) {
      c.cpu = Math.min(c.cpu, (d.user + d.system) / 1000);
      c.wall = Math.min(c.wall, wall);
    }
  }
}

const perSecond = (c: Contender) => MESSAGES / (c.cpu / 1000);
const mbPerSecond = (c: Contender) => totalBytes / 1e6 / (c.cpu / 1000);

console.log(
  `corpus: ${MESSAGES} messages, ${(totalBytes / 1e6).toFixed(1)} MB, ${bases.length} message types; ` +
    `${WARMUP} warm-up rounds, best of ${ROUNDS} interleaved rounds (CPU time, one core)`,
);
for (let r = 0; r < WARMUP; r++) await round(false);
for (let r = 0; r < ROUNDS; r++) await round(true);
for (const c of contenders) {
  console.log(
    `${c.label.padEnd(52)} ${perSecond(c).toFixed(0).padStart(7)} messages/s ${mbPerSecond(c).toFixed(1).padStart(6)} MB/s` +
      `  (CPU ${c.cpu.toFixed(0)} ms, wall ${c.wall.toFixed(0)} ms)`,
  );
}
const pct = (a: Contender, b: Contender) => `${((perSecond(a) / perSecond(b)) * 100).toFixed(0)}%`;
console.log(
  `parseMessage / bare saxes in memory: ${pct(core, bareNs)} of xmlns: true, ${pct(core, bare)} of xmlns: false`,
);
// The headline: the command against whichever bare parse of the same files was faster in this run.
const baseline = perSecond(bareFiles) >= perSecond(bareFilesNs) ? bareFiles : bareFilesNs;
const ratio = perSecond(flatten) / perSecond(baseline);
console.log(
  `ketendata flatten = ${(ratio * 100).toFixed(0)}% of the faster bare saxes parse of the same files ` +
    `${baseline.label.replace('bare saxes parse of the files ', '')}: target ≥ 50% ${ratio >= 0.5 ? 'met' : 'NOT met'}`,
);
rmSync(dir, { recursive: true, force: true });
