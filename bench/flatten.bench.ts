// Throughput of `ketendata flatten` against a bare saxes parse of the same corpus: `npm run bench -- flatten`.
// One process, one core. The corpus is every valid official example (plus derived iWmo retours) repeated with
// a fresh BerichtIdentificatie and its own client BSN, so every message is distinct.
// Target: flatten ≥ 50% of the bare parse (MB/s).
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
const ROUNDS = Number(process.env.KETENDATA_BENCH_ROUNDS ?? 5);

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

/**
 * Best of ROUNDS, as CPU time of this process (user + system), so other load on a shared machine does
 * not count; wall time is printed beside it.
 */
function measure(label: string, run: () => void | Promise<void>): Promise<number> {
  return (async () => {
    let cpu = Number.POSITIVE_INFINITY;
    let wall = Number.POSITIVE_INFINITY;
    for (let r = 0; r < ROUNDS; r++) {
      globalThis.gc?.();
      const c = process.cpuUsage();
      const t = performance.now();
      await run();
      wall = Math.min(wall, performance.now() - t);
      const d = process.cpuUsage(c);
      cpu = Math.min(cpu, (d.user + d.system) / 1000);
    }
    const s = cpu / 1000;
    const mbs = totalBytes / 1e6 / s;
    console.log(
      `${label.padEnd(46)} ${(MESSAGES / s).toFixed(0).padStart(7)} messages/s ${mbs.toFixed(1).padStart(6)} MB/s` +
        `  (CPU ${cpu.toFixed(0)} ms, wall ${wall.toFixed(0)} ms, best of ${ROUNDS})`,
    );
    return mbs;
  })();
}

const noop = () => {};
function bareParse(xmlns: boolean, b: Buffer): void {
  const p = new SaxesParser({ xmlns });
  p.on('opentag', noop);
  p.on('text', noop);
  p.on('closetag', noop);
  p.write(b.toString('utf8')).close();
}
function bareSaxes(xmlns: boolean) {
  return () => {
    for (const b of corpus) bareParse(xmlns, b);
  };
}
/** The same files, listed and read the way `ketendata flatten` reads them. */
function bareSaxesFiles(xmlns: boolean) {
  return () => {
    for (const file of xmlFiles([inDir], noop)) bareParse(xmlns, readFileSync(file));
  };
}

console.log(
  `corpus: ${MESSAGES} messages, ${(totalBytes / 1e6).toFixed(1)} MB, ${bases.length} message types`,
);
const bareNs = await measure('bare saxes parse (xmlns: true)', bareSaxes(true));
const bare = await measure('bare saxes parse (xmlns: false)', bareSaxes(false));
console.log('from the files on disk, read one at a time as the command does:');
const bareFilesNs = await measure('bare saxes parse of the files (xmlns: true)', bareSaxesFiles(true));
const bareFiles = await measure('bare saxes parse of the files (xmlns: false)', bareSaxesFiles(false));
const core = await measure('parseMessage (parse + validate + flatten)', () => {
  for (const b of corpus) if (!parseMessage(b, { file: 'bench' }).ok) throw new Error('invalid');
});
const flatten = await measure('ketendata flatten (files → CSV, with hashing)', async () => {
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
console.log(
  `parseMessage / bare saxes (in memory): ${((core / bareNs) * 100).toFixed(0)}% of the namespace-aware parse, ` +
    `${((core / bare) * 100).toFixed(0)}% of the plain parse`,
);
console.log(
  `flatten / bare saxes (files on disk): ${((flatten / bareFilesNs) * 100).toFixed(0)}% of the namespace-aware parse, ` +
    `${((flatten / bareFiles) * 100).toFixed(0)}% of the plain parse (target ≥ 50%)`,
);
console.log(
  `flatten / bare saxes (in memory, not like with like): ${((flatten / bare) * 100).toFixed(0)}% of the plain parse`,
);
rmSync(dir, { recursive: true, force: true });
