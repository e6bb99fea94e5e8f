/**
 * Reads a simulated output folder back (manifest, ground truth): for tests of the simulator and of the
 * stages that use its output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExchangeStatus, MessageRef, RelationType, Side } from './output.js';

export interface ManifestLine {
  readonly file: string;
  readonly moment: string;
  readonly verzender: string;
  readonly ontvanger: string;
  readonly hubId: string;
}

export interface ExchangeLine {
  readonly kind: 'exchange';
  readonly hubId: string;
  readonly file: string;
  readonly status: ExchangeStatus;
  readonly code: string;
  readonly message: MessageRef | null;
  readonly journey: string | null;
  readonly gemeente: string;
  readonly reason?: string;
}

export interface RelationLine {
  readonly kind: 'relation';
  readonly type: RelationType;
  readonly from: Side;
  readonly to: Side;
}

export interface SummaryLine {
  readonly kind: 'summary';
  readonly exchanges: number;
  readonly journeys: number;
  readonly perCode: Readonly<Record<string, number>>;
  readonly perStatus: Readonly<Record<string, number>>;
  readonly perRelation: Readonly<Record<string, number>>;
  readonly deadlines: Readonly<Record<string, { kept: number; missed: number }>>;
}

export interface Simulation {
  readonly manifest: readonly ManifestLine[];
  readonly exchanges: readonly ExchangeLine[];
  readonly relations: readonly RelationLine[];
  readonly summary: SummaryLine;
  /** The kinds of the ground-truth lines in file order. */
  readonly kinds: readonly string[];
}

function lines(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as unknown);
}

export function readSimulation(dir: string): Simulation {
  const manifest = lines(join(dir, 'manifest.ndjson')) as ManifestLine[];
  const truth = lines(join(dir, 'ground-truth.ndjson')) as (ExchangeLine | RelationLine | SummaryLine)[];
  const summary = truth[truth.length - 1];
  if (summary?.kind !== 'summary') throw new Error(`${dir}: ground-truth.ndjson does not end with a summary`);
  return {
    manifest,
    exchanges: truth.filter((l): l is ExchangeLine => l.kind === 'exchange'),
    relations: truth.filter((l): l is RelationLine => l.kind === 'relation'),
    summary,
    kinds: truth.map((l) => l.kind),
  };
}

/** The key a MessageRef is known by in tests: code, header, retour identification. */
export function refKey(m: MessageRef): string {
  return [
    m.code,
    m.afzender,
    m.ontvanger,
    m.identificatie,
    m.dagtekening,
    m.identificatieRetour ?? '',
    m.dagtekeningRetour ?? '',
  ].join('|');
}
