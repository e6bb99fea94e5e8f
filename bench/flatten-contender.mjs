// One contender of `npm run bench -- flatten`, alone in this process: node --expose-gc flatten-contender.mjs
// <contender> <folder> <out> <warm-up runs> <measured runs>. Prints the best CPU and wall time of one run (ms)
// as JSON. Plain JavaScript on the compiled code in dist/, the code the `ketendata` bin runs: no TypeScript
// loader in between (tsx also slows a bare saxes parse, and by other amounts than our code).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { flattenFiles, xmlFiles } from '../dist/cli/flatten.js';
import { parseMessage } from '../dist/ingest/index.js';

const [contender, inDir, out, warmup, measured] = process.argv.slice(2);
const noop = () => {};

function bareParse(xmlns, text) {
  const p = new SaxesParser({ xmlns });
  p.on('opentag', noop);
  p.on('text', noop);
  p.on('closetag', noop);
  p.write(text).close();
}

/** The same files, listed and read the way `ketendata flatten` lists and reads them. */
const bareFiles = (xmlns) => () => {
  for (const file of xmlFiles([inDir], noop)) bareParse(xmlns, readFileSync(file).toString('utf8'));
};
const memory = () =>
  readdirSync(inDir)
    .sort()
    .map((f) => readFileSync(join(inDir, f)));

const runs = {
  'bare-files-ns': bareFiles(true),
  'bare-files': bareFiles(false),
  flatten: async () => {
    await flattenFiles({
      inputs: [inDir],
      out,
      secret: 'bench-secret-bench-secret-bench-secret',
      onError: (line) => {
        throw new Error(line);
      },
    });
  },
  'bare-memory-ns': (corpus) => {
    for (const b of corpus) bareParse(true, b.toString('utf8'));
  },
  'bare-memory': (corpus) => {
    for (const b of corpus) bareParse(false, b.toString('utf8'));
  },
  'parse-memory': (corpus) => {
    for (const b of corpus) if (!parseMessage(b, { file: 'bench' }).ok) throw new Error('invalid');
  },
};

const run = runs[contender];
if (!run) throw new Error(`unknown contender ${contender}`);
const corpus = contender.endsWith('-memory') || contender.endsWith('-memory-ns') ? memory() : undefined;
let cpu = Number.POSITIVE_INFINITY;
let wall = Number.POSITIVE_INFINITY;
for (let r = 0; r < Number(warmup) + Number(measured); r++) {
  globalThis.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(corpus);
  const w = performance.now() - t0;
  const d = process.cpuUsage(cpu0);
  if (r >= Number(warmup)) {
    cpu = Math.min(cpu, (d.user + d.system) / 1000);
    wall = Math.min(wall, w);
  }
}
console.log(JSON.stringify({ cpu, wall }));
