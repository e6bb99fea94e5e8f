#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds it through the prepare script.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'main.js');

/**
 * Newest modification time of the sources under `dir` (a git checkout has them; a package does not). Best
 * effort: an editor's lock file (a dangling link) or an unreadable folder must not stop the command.
 */
function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.tsx?$/.test(e.name) && !/\.(test|fixtures)\./.test(e.name))
      newest = Math.max(newest, statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  }
  return newest;
}

if (!existsSync(main)) {
  console.error('ketendata: dist/ is missing: run `npm ci` or `npm run build` first (cli.not_built)');
  process.exit(2);
}
// After a `git pull` without a build, the old compiled code would run silently.
const src = join(root, 'src');
if (existsSync(src) && newestSource(src) > statSync(main).mtimeMs) {
  console.error('ketendata: warning: src/ is newer than dist/: run `npm run build` to use the current code');
}

const { runMain } = await import(pathToFileURL(main).href);
runMain(process.argv.slice(2));
