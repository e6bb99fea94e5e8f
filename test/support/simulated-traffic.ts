import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/simulate.js';

export interface GroundTruthCounts {
  readonly received: number;
  readonly stored: number;
  readonly duplicates: number;
  readonly quarantined: number;
  /** `ingest.xsd_invalid` → n, from the simulator's reasons (`xsd_invalid: …`). */
  readonly quarantinedByReason: Record<string, number>;
}

/** Simulated hub traffic in a temporary folder, with the counts its ground truth says ingest must find. */
export function simulatedTraffic(
  options: { clients?: number; seed?: number; errors?: number; duplicates?: number } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'ketendata-sim-'));
  simulate({
    out: dir,
    gemeenten: '3',
    clients: options.clients ?? 120,
    from: '2024-01-01',
    to: '2024-06-30',
    seed: options.seed ?? 7,
    duplicates: options.duplicates ?? 0.03,
    errors: options.errors ?? 0.1,
  });
  const byReason: Record<string, number> = {};
  let received = 0;
  let stored = 0;
  let duplicates = 0;
  let quarantined = 0;
  for (const line of readFileSync(join(dir, 'ground-truth.ndjson'), 'utf8').split('\n')) {
    if (!line.includes('"kind":"exchange"')) continue;
    const t = JSON.parse(line) as { status: string; reason?: string };
    received++;
    if (t.status === 'message') stored++;
    else if (t.status === 'duplicate') duplicates++;
    else {
      quarantined++;
      const code = `ingest.${(t.reason ?? '').split(':')[0]}`;
      byReason[code] = (byReason[code] ?? 0) + 1;
    }
  }
  const expected: GroundTruthCounts = {
    received,
    stored,
    duplicates,
    quarantined,
    quarantinedByReason: byReason,
  };
  return { dir, expected };
}

/** Every clear identifier value (the four hashed fields) in the XML files under `dir`. */
export function clearIdentifiers(dir: string): Set<string> {
  const out = new Set<string>();
  const re =
    /<(?:[\w-]+:)?(Bsn|ToewijzingNummer|ReferentieAanbieder|BeschikkingNummer)>\s*([^<\s][^<]*?)\s*</g;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.xml')) for (const m of readFileSync(p, 'utf8').matchAll(re)) out.add(m[2]!);
    }
  };
  walk(dir);
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The identifiers found in `text` as a whole token (not inside a longer run of letters or digits: a
 * 6-digit number occurs by chance inside a hex hash, and that is no leak).
 */
export function findClear(text: string, values: Iterable<string>): string[] {
  const found: string[] = [];
  for (const v of values) {
    if (!text.includes(v)) continue;
    if (new RegExp(`(^|[^0-9A-Za-z])${escapeRe(v)}([^0-9A-Za-z]|$)`).test(text)) found.push(v);
  }
  return found;
}
