import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODELIST_DIR, XSD_DIR } from '../src/schema/releases.js';

const root = join(import.meta.dirname, '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

describe('the npm package', () => {
  // What `npm pack` would put in the tarball (dist/ is ignored by git, so it is listed in "files").
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
  });
  const packed = new Set(
    (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path),
  );

  it('holds the bin, the compiled CLI and its workers', () => {
    for (const f of ['bin/ketendata.js', 'dist/main.js', 'dist/cli/flatten.js', 'package.json', 'README.md'])
      expect(packed).toContain(f);
    expect(packed).toContain('dist/usecases/ingest-worker.js');
    expect(packed).toContain('dist/usecases/deliver-worker.js');
  });

  it('holds every XSD and code list the schema model reads at run time', () => {
    const data = [...filesUnder(XSD_DIR), ...filesUnder(CODELIST_DIR)];
    expect(data.length).toBeGreaterThan(20);
    for (const f of data) expect(packed).toContain(f);
  });

  it('holds no tests, sources or local data', () => {
    const stray = [...packed].filter(
      (f) => /\.test\.|^test\/|^data\/|^\.ci\//.test(f) || (f.startsWith('src/') && f.endsWith('.ts')),
    );
    expect(stray).toEqual([]);
  });
});
