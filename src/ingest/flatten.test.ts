import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { type Example, examples } from '../../test/support/examples.js';
import type { MessageSchema } from '../schema/model.js';
import { type FlatMessage, parseMessage, pseudonymiseWithKey, type Tables } from './index.js';
import { simpleChecker } from './simple-type.js';

const KEY = Buffer.from('golden-test-key-not-a-secret');
const valid = examples().filter((e) => e.valid);
/** One example per message type: the corrected copy where the published one is invalid. */
const perCode = [...new Map(valid.map((e) => [e.schema.code, e])).values()];

function flat(e: Example): FlatMessage {
  const outcome = parseMessage(e.text, { file: e.name });
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.message;
}

function readable(schema: MessageSchema, tables: Tables) {
  return Object.fromEntries(
    schema.tables.map((t) => [
      t.name,
      (tables.get(t.name) ?? []).map((row) => Object.fromEntries(t.columns.map((c, i) => [c.name, row[i]]))),
    ]),
  );
}

/** Every leaf of the document by an independent walk: path (local names) and canonical value (integers as numbers read). */
function leavesOf(e: Example): { path: string; value: string; hashed: boolean }[] {
  const parser = new SaxesParser({ xmlns: true });
  const stack: { local: string; text: string; hasChildren: boolean }[] = [];
  const out: { path: string; value: string; hashed: boolean }[] = [];
  const typeAt = (path: string[]) => {
    let el = e.schema.root;
    for (const n of path.slice(1)) {
      const next = el.type.kind === 'complex' ? el.type.children.find((c) => c.name === n) : undefined;
      if (!next) throw new Error(`unknown path ${path.join('/')}`);
      el = next;
    }
    return el.type.kind === 'simple' ? el.type : undefined;
  };
  parser.on('opentag', (t) => {
    const top = stack.at(-1);
    if (top) top.hasChildren = true;
    stack.push({ local: t.local, text: '', hasChildren: false });
  });
  parser.on('text', (t) => {
    const top = stack.at(-1);
    if (top) top.text += t;
  });
  parser.on('closetag', () => {
    const path = stack.map((s) => s.local);
    const top = stack.pop();
    if (!top || top.hasChildren) return;
    const type = typeAt(path);
    if (!type) throw new Error(`${path.join('/')}: empty complex element`);
    const checker = simpleChecker(type);
    const local = path.at(-1) as string;
    const hashed = ['Bsn', 'ToewijzingNummer', 'ReferentieAanbieder', 'BeschikkingNummer'].includes(local);
    const v = checker.normalize(top.text);
    out.push({ path: path.join('/'), value: hashed ? checker.hashKey(v) : checker.canonical(v), hashed });
  });
  parser.write(e.text).close();
  return out;
}

/** Every non-null value cell of the flat message, with the element path its column stands for. */
function cellsOf(msg: FlatMessage): { path: string; value: string }[] {
  const out: { path: string; value: string }[] = [];
  for (const t of msg.schema.tables) {
    const levelCol = t.columns.findIndex((c) => c.role === 'level');
    for (const row of msg.tables.get(t.name) ?? []) {
      t.columns.forEach((c, i) => {
        const v = row[i];
        if (c.role !== 'value' || v === null || v === undefined) return;
        const path = t.kind === 'list' ? t.levels?.find((l) => l.level === row[levelCol])?.path : c.path;
        out.push({ path: (path ?? []).join('/'), value: v });
      });
    }
  }
  return out;
}

const sortKey = (x: { path: string; value: string }) => `${x.path}\u0000${x.value}`;

describe('flattening', () => {
  it('covers every message type with an example (official, corrected or derived)', () => {
    expect(perCode.map((e) => e.schema.code).sort()).toHaveLength(28);
  });

  it.each(perCode.map((e) => [e.schema.code, e] as const))('%s matches its golden rows', async (code, e) => {
    const msg = flat(e);
    const golden = { example: e.name, tables: readable(msg.schema, pseudonymiseWithKey(msg, KEY)) };
    await expect(`${JSON.stringify(golden, null, 2)}\n`).toMatchFileSnapshot(
      `../../test/golden/${code}.rows.json`,
    );
  });

  it.each(valid.map((e) => [e.name, e] as const))(
    '%s: every leaf lands in exactly one table and column',
    (_, e) => {
      const leaves = leavesOf(e)
        .map(({ path, value }) => ({ path, value }))
        .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
      const cells = cellsOf(flat(e)).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
      expect(cells).toEqual(leaves);
    },
  );

  it.each(valid.map((e) => [e.name, e] as const))(
    '%s: hashed values never appear in clear in the output',
    (_, e) => {
      const msg = flat(e);
      const leaves = leavesOf(e);
      // A value that is also an unhashed leaf elsewhere (a ReferentieAanbieder equal to an AGB code) may appear.
      const unhashed = new Set(leaves.filter((l) => !l.hashed).map((l) => l.value));
      const clear = leaves.filter((l) => l.hashed && !unhashed.has(l.value));
      const tables = pseudonymiseWithKey(msg, KEY);
      const cells = [...tables.values()].flat(2).filter((v): v is string => v !== null);
      const all = cells.join('\n');
      for (const { value } of clear) {
        expect(cells).not.toContain(value);
        if (value.length >= 6) expect(all).not.toContain(value);
      }
      // Every hashed cell is a 32-hex hash.
      for (const t of msg.schema.tables) {
        t.columns.forEach((c, i) => {
          if (!c.hashed) return;
          for (const row of tables.get(t.name) ?? [])
            if (row[i] !== null) expect(row[i]).toMatch(/^[0-9a-f]{32}$/);
        });
      }
    },
  );
});
