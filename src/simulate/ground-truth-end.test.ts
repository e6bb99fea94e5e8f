import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FlatMessage, parseMessage } from '../ingest/index.js';
import type { MessageRef } from './output.js';
import { readSimulation, refKey, type Simulation } from './read-output.js';
import { simulate } from './simulate.js';

/*
 * The ground truth describes the written output: a message whose rejecting retour or deletion falls after
 * the run's last day stands in the output, so what it relates holds. Checked from the written messages
 * alone, in runs with many rejections and late steps, so that some of them cross the last day.
 */

type Values = Record<string, string | null>;

function rows(m: FlatMessage, suffix: string): Values[] {
  const name = `${m.key.code}_${suffix}`;
  const def = m.schema.tables.find((t) => t.name === name);
  if (!def) return [];
  return (m.tables.get(name) ?? []).map((r) =>
    Object.fromEntries(def.columns.map((c, i) => [c.name, r[i] ?? null])),
  );
}

const num = (code: string) => Number(code.replace(/^[A-Z]+/, ''));
const heenKey = (m: FlatMessage) =>
  refKey({
    code: m.key.code.replace(/[0-9]+$/, String(num(m.key.code) - 1)),
    afzender: m.key.afzender,
    ontvanger: m.key.ontvanger,
    identificatie: m.key.identificatie,
    dagtekening: m.key.dagtekening,
  });
const ownKey = (m: FlatMessage) =>
  refKey({
    code: m.key.code,
    afzender: m.key.afzender,
    ontvanger: m.key.ontvanger,
    identificatie: m.key.identificatie,
    dagtekening: m.key.dagtekening,
  });
/** A row as the ground truth names it. */
const rowKey = (message: string, table: string, row: readonly number[]) =>
  `${message}#${table}#${row.join('.')}`;

interface Written {
  readonly sim: Simulation;
  /** Every row of a 305/307 in the output that no written retour rejects, by rowKey, with its values. */
  readonly standing: Map<
    string,
    { readonly code: number; readonly message: FlatMessage; readonly row: Values }
  >;
  /** 307 rows that a standing deletion (StatusAanlevering 3, same row otherwise) takes back. */
  readonly deletedStops: Set<string>;
  /** 305/307 in the output whose rejecting retour is not: the cases this file is about. */
  readonly unanswered: number;
}

function load(dir: string): Written {
  const sim = readSimulation(dir);
  const parsed: FlatMessage[] = [];
  for (const e of sim.exchanges) {
    if (e.status !== 'message' || ![305, 306, 307, 308].includes(num(e.code))) continue;
    const outcome = parseMessage(readFileSync(join(dir, e.file)), { file: e.file });
    if (!outcome.ok) throw new Error(`${e.file}: ${outcome.error.message}`);
    parsed.push(outcome.message);
  }
  const answered = new Set<string>();
  const rejected = new Set<string>();
  for (const m of parsed) {
    if (num(m.key.code) % 2 === 1) continue;
    answered.add(heenKey(m));
    if (rows(m, 'RetourCode').some((r) => r.RetourCode !== '0200')) rejected.add(heenKey(m));
  }
  const standing: Written['standing'] = new Map();
  const deletions = new Set<string>();
  const stopContent = (m: FlatMessage, r: Values) =>
    [m.key.afzender, m.key.ontvanger, r.ToewijzingNummer, r.Begindatum, r.Einddatum, r.RedenBeeindiging].join(
      '|',
    );
  let unanswered = 0;
  for (const m of parsed) {
    const code = num(m.key.code);
    if (code % 2 === 0 || rejected.has(ownKey(m))) continue;
    if (!answered.has(ownKey(m))) unanswered++;
    const table = code === 305 ? 'StartProduct' : 'StopProduct';
    for (const [i, r] of rows(m, table).entries()) {
      standing.set(rowKey(ownKey(m), `${m.key.code}_${table}`, [i + 1]), { code, message: m, row: r });
      if (code === 307 && r.StatusAanlevering === '3') deletions.add(stopContent(m, r));
    }
  }
  const deletedStops = new Set<string>();
  for (const [key, s] of standing) {
    if (s.code === 307 && s.row.StatusAanlevering === '1' && deletions.has(stopContent(s.message, s.row)))
      deletedStops.add(key);
  }
  return { sim, standing, deletedStops, unanswered };
}

const fromKeys = (w: Written, type: string) =>
  new Set(
    w.sim.relations
      .filter((r) => r.type === type)
      .map((r) => rowKey(refKey(r.from.message as MessageRef), r.from.table, r.from.row)),
  );

const runs: Written[] = [];
const dirs: string[] = [];

beforeAll(() => {
  // Many rejections, late retours and late steps. Seeds with each case at the last day: 307s and a 305
  // correction whose rejecting retour falls after it (32, 23) and a stop deleted only after it (4).
  for (const seed of [4, 23, 32]) {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-sim-end-'));
    dirs.push(dir);
    simulate({
      out: dir,
      gemeenten: '3',
      clients: 300,
      from: '2024-01-01',
      to: '2024-12-31',
      seed,
      duplicates: 0,
      errors: 0.3,
      late: 0.5,
    });
    runs.push(load(dir));
  }
}, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('simulate: ground truth at the end of the run', () => {
  it('has 305s and 307s whose retour is not in the output, so the test sees the end of the run', () => {
    expect(runs.reduce((n, w) => n + w.unanswered, 0)).toBeGreaterThan(10);
  });

  it('relates every stop that stands undeleted in the output to its start, and no other stop', () => {
    for (const w of runs) {
      const expected = [...w.standing]
        .filter(([key, s]) => s.code === 307 && s.row.StatusAanlevering === '1' && !w.deletedStops.has(key))
        .map(([key]) => key)
        .sort();
      expect(expected.length).toBeGreaterThan(40);
      expect([...fromKeys(w, 'stop-start')].sort()).toEqual(expected);
    }
  });

  it('relates every deletion (StatusAanlevering 3) that stands in the output to what it deletes, and nothing else', () => {
    let n = 0;
    for (const w of runs) {
      const expected = [...w.standing]
        .filter(([, s]) => s.row.StatusAanlevering === '3')
        .map(([key]) => key)
        .sort();
      n += expected.length;
      expect([...fromKeys(w, 'correctie')].sort()).toEqual(expected);
    }
    expect(n).toBeGreaterThan(0);
  });
});
