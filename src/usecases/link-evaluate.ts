import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { RELATION_TYPES } from '../links/relations.js';
import type { Store } from '../store/open.js';

/** A message by its header values, as the simulator's ground truth names it. */
export interface TruthMessageRef {
  readonly code: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
  readonly identificatieRetour?: string | null;
  readonly dagtekeningRetour?: string | null;
}

export interface TruthSide {
  readonly message: TruthMessageRef;
  readonly table: string;
  readonly row: readonly number[];
}

export interface TruthRelation {
  readonly type: string;
  readonly from: TruthSide;
  readonly to: TruthSide;
}

export interface TypeScore {
  readonly type: string;
  readonly truth: number;
  /** Ground-truth relations left out because a side is not in the store (quarantined at ingest). */
  readonly unstored: number;
  readonly found: number;
  readonly correct: number;
  readonly precision: number;
  readonly recall: number;
}

const refKey = (m: TruthMessageRef): string =>
  [
    m.code,
    m.afzender,
    m.ontvanger,
    m.identificatie,
    m.dagtekening,
    m.identificatieRetour ?? '',
    m.dagtekeningRetour ?? '',
  ].join('|');

/** Relations from a `ground-truth.ndjson` (lines with kind 'relation'). */
export async function readTruthRelations(file: string): Promise<TruthRelation[]> {
  const out: TruthRelation[] = [];
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line.includes('"relation"')) continue;
    const o = JSON.parse(line) as { kind?: string } & TruthRelation;
    if (o.kind === 'relation') out.push(o);
  }
  return out;
}

/**
 * Precision and recall of the links in force (added, not lapsed) against ground truth, per relation type.
 * Sides are compared as (message header, table, row ordinals); a message-level side has no ordinals (a 317
 * has two tables of products, numbered from 1 each). Relations with
 * a side that is not stored (a message quarantined at ingest) cannot be linked and are counted apart.
 */
export async function evaluateLinks(store: Store, truth: readonly TruthRelation[]): Promise<TypeScore[]> {
  const messages = await store.db
    .selectFrom('message')
    .select([
      'bericht_id',
      'code',
      'afzender',
      'ontvanger',
      'identificatie',
      'dagtekening',
      'identificatie_retour',
      'dagtekening_retour',
    ])
    .execute();
  const refOf = new Map<string, string>();
  for (const m of messages) {
    refOf.set(
      m.bericht_id,
      refKey({
        code: m.code,
        afzender: m.afzender,
        ontvanger: m.ontvanger,
        identificatie: m.identificatie,
        dagtekening: m.dagtekening,
        identificatieRetour: m.identificatie_retour,
        dagtekeningRetour: m.dagtekening_retour,
      }),
    );
  }
  const links = await store.db.selectFrom('link').selectAll().orderBy('seq').execute();
  const found = new Map<string, Set<string>>();
  for (const l of links) {
    const from = `${refOf.get(l.from_bericht_id) ?? l.from_bericht_id}#${l.from_table}#${l.from_row}`;
    const to = `${refOf.get(l.to_bericht_id) ?? l.to_bericht_id}#${l.to_table}#${l.to_row}`;
    const set = found.get(l.type) ?? new Set<string>();
    const id = `${from}>${to}`;
    if (l.mutatie === 'vervallen') set.delete(id);
    else set.add(id);
    found.set(l.type, set);
  }
  const stored = new Set(refOf.values());
  const expected = new Map<string, Set<string>>();
  const unstored = new Map<string, number>();
  for (const r of truth) {
    if (!stored.has(refKey(r.from.message)) || !stored.has(refKey(r.to.message))) {
      unstored.set(r.type, (unstored.get(r.type) ?? 0) + 1);
      continue;
    }
    const id = `${refKey(r.from.message)}#${r.from.table}#${r.from.row.join('.')}>${refKey(r.to.message)}#${r.to.table}#${r.to.row.join('.')}`;
    const set = expected.get(r.type) ?? new Set<string>();
    set.add(id);
    expected.set(r.type, set);
  }
  const types = [...new Set([...RELATION_TYPES, ...expected.keys(), ...found.keys()])];
  return types.map((type) => {
    const e = expected.get(type) ?? new Set<string>();
    const f = found.get(type) ?? new Set<string>();
    let correct = 0;
    for (const id of f) if (e.has(id)) correct++;
    return {
      type,
      truth: e.size,
      unstored: unstored.get(type) ?? 0,
      found: f.size,
      correct,
      precision: f.size === 0 ? (e.size === 0 ? 1 : 0) : correct / f.size,
      recall: e.size === 0 ? 1 : correct / e.size,
    };
  });
}

/** Up to `limit` misses and false links of one type, as readable ids (headers and ordinals only). */
export async function explainType(
  store: Store,
  truth: readonly TruthRelation[],
  type: string,
  limit = 5,
): Promise<{ missing: string[]; extra: string[] }> {
  const scoresInput = truth.filter((r) => r.type === type);
  const messages = await store.db
    .selectFrom('message')
    .select([
      'bericht_id',
      'code',
      'afzender',
      'ontvanger',
      'identificatie',
      'dagtekening',
      'identificatie_retour',
      'dagtekening_retour',
    ])
    .execute();
  const refOf = new Map(
    messages.map((m) => [
      m.bericht_id,
      refKey({ ...m, identificatieRetour: m.identificatie_retour, dagtekeningRetour: m.dagtekening_retour }),
    ]),
  );
  const links = await store.db
    .selectFrom('link')
    .selectAll()
    .where('type', '=', type)
    .orderBy('seq')
    .execute();
  const f = new Set<string>();
  for (const l of links) {
    const id = `${refOf.get(l.from_bericht_id)}#${l.from_row}>${refOf.get(l.to_bericht_id)}#${l.to_row}`;
    if (l.mutatie === 'vervallen') f.delete(id);
    else f.add(id);
  }
  const e = new Set(
    scoresInput.map(
      (r) =>
        `${refKey(r.from.message)}#${r.from.row.join('.')}>${refKey(r.to.message)}#${r.to.row.join('.')}`,
    ),
  );
  return {
    missing: [...e].filter((id) => !f.has(id)).slice(0, limit),
    extra: [...f].filter((id) => !e.has(id)).slice(0, limit),
  };
}
