import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The reference verdicts: libxml2's `xmllint --schema` on each document (no network, no entity
 * loading). Documents are written to a temporary folder and validated in batches, one process per batch.
 */
export function xmllintVerdicts(xsdFile: string, documents: readonly (string | Buffer)[]): boolean[] {
  const dir = mkdtempSync(join(tmpdir(), 'ketendata-xmllint-'));
  try {
    const files = documents.map((doc, i) => {
      const file = join(dir, `m${i}.xml`);
      writeFileSync(file, doc);
      return file;
    });
    const valid = new Set<string>();
    const BATCH = 500;
    for (let i = 0; i < files.length; i += BATCH) {
      const batch = files.slice(i, i + BATCH);
      const run = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsdFile, ...batch], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      if (run.error) throw run.error;
      if (/failed to compile|WXS schema .* failed/.test(run.stderr))
        throw new Error(`xmllint: ${xsdFile} does not compile`);
      for (const line of run.stderr.split('\n')) {
        if (line.endsWith(' validates')) valid.add(line.slice(0, -' validates'.length));
      }
    }
    return files.map((f) => valid.has(f));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
