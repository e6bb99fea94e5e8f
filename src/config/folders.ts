import { mkdirSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Makes `path` a folder that can be written, creating missing components one at a time from the nearest
 * existing ancestor. Never a recursive mkdir: Node 20's loops forever under /proc. Throws the errno error
 * (EEXIST for a file in the way, ENOTDIR, ENOENT, EACCES, EPERM, EROFS) when it cannot. With `create`
 * false nothing is made: only the nearest existing folder is probed, for a command that refuses bad
 * options before it writes anything (its own mkdir then succeeds). `mode` is given to the folder itself
 * when it is made, `parentMode` to missing folders above it; a folder that exists keeps its mode.
 */
export function ensureFolder(path: string, create = true, mode?: number, parentMode?: number): string {
  const target = resolve(path);
  const missing: string[] = [];
  let p = target;
  for (;;) {
    try {
      if (!statSync(p).isDirectory())
        throw Object.assign(new Error(`${p} is not a folder`), { code: p === target ? 'EEXIST' : 'ENOTDIR' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
      missing.push(p);
      p = dirname(p);
    }
  }
  if (create)
    for (const dir of missing.reverse()) mkdirSync(dir, { mode: dir === target ? mode : parentMode });
  // Root passes every permission check, and /proc or a read-only mount refuse only a real write: probe one.
  rmdirSync(mkdtempSync(join(create ? target : p, '.ketendata-probe-')));
  return target;
}
