import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const EXAMPLES = join(import.meta.dirname, '..', 'fixtures', 'istandaarden');
export const SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface FixtureEntry {
  readonly file: string;
  readonly xml?: string | Buffer;
  readonly moment: string;
  readonly verzender: string;
  readonly ontvanger: string;
  readonly hubId?: string;
}

/** The official examples that pass validation (the corrected JW315/JW318 instead of the broken ones). */
export function validExamples(): { name: string; xml: Buffer }[] {
  const out: { name: string; xml: Buffer }[] = [];
  for (const dir of ['ijw-voorbeelden', 'ijw-voorbeelden-gecorrigeerd', 'iwmo-voorbeelden']) {
    for (const f of readdirSync(join(EXAMPLES, dir)).sort()) {
      if (dir === 'ijw-voorbeelden' && (f === 'JW315.xml' || f === 'JW318.xml')) continue;
      out.push({ name: `${dir}/${f}`, xml: readFileSync(join(EXAMPLES, dir, f)) });
    }
  }
  return out;
}

/** Writes a folder with `manifest.ndjson` (plus raw extra manifest lines) and returns its path. */
export function writeExchangeFolder(
  entries: readonly FixtureEntry[],
  extraLines: readonly string[] = [],
): string {
  const dir = mkdtempSync(join(tmpdir(), 'ketendata-exchanges-'));
  const lines: string[] = [];
  for (const e of entries) {
    if (e.xml !== undefined) {
      const path = join(dir, e.file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, e.xml);
    }
    const { xml: _xml, ...meta } = e;
    lines.push(JSON.stringify(meta));
  }
  writeFileSync(join(dir, 'manifest.ndjson'), `${[...lines, ...extraLines].join('\n')}\n`);
  return dir;
}

/**
 * A small hub extract from the official examples: every valid example once, one duplicate (a re-sent
 * JW301 with other whitespace), one conflict (a JW305 with the same header and other content), and
 * five exchanges that cannot be stored, each for another reason.
 */
export function exampleTraffic(): {
  dir: string;
  expected: { received: number; stored: number; duplicates: number; conflicts: number; quarantined: number };
} {
  const entries: FixtureEntry[] = [];
  let n = 0;
  const add = (xml: string | Buffer | undefined, file?: string) => {
    n++;
    entries.push({
      file: file ?? `berichten/${String(n).padStart(3, '0')}.xml`,
      xml,
      moment: new Date(Date.UTC(2024, 2, 4, 9, 0, n)).toISOString(),
      verzender: '0384',
      ontvanger: '12345678',
      hubId: `GGK${String(n).padStart(8, '0')}`,
    });
  };
  const examples = validExamples();
  for (const e of examples) add(e.xml);
  const jw301 = examples.find((e) => e.name.endsWith('/JW301.xml'))!.xml.toString('utf8');
  add(jw301.replace(/>\s+</g, '>\n    <'));
  const jw305 = examples.find((e) => e.name.endsWith('/JW305.xml'))!.xml.toString('utf8');
  const changed = jw305.replace(
    /<([a-z0-9]+:)?Begindatum>(\d{4})-/,
    (_m, p = '', y) => `<${p}Begindatum>${Number(y) - 1}-`,
  );
  if (changed === jw305) throw new Error('fixture: could not change the JW305');
  add(changed);
  add(jw301.slice(0, Math.floor(jw301.length / 2)));
  add(readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW315.xml')));
  add('<?xml version="1.0"?><Onbekend xmlns="urn:x"/>');
  add(undefined, 'berichten/missing.xml');
  const dir = writeExchangeFolder(entries, ['{"file": 12}']);
  return {
    dir,
    expected: {
      received: examples.length + 7,
      stored: examples.length + 1,
      duplicates: 1,
      conflicts: 1,
      quarantined: 5,
    },
  };
}
