import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidBsn } from '../domain/bsn.js';
import { addWorkingDays, dayFromIso, workingDaysBetween } from '../domain/calendar.js';
import { type FlatMessage, parseMessage } from '../ingest/index.js';
import { readGemeenten } from '../schema/codelists.js';
import { schemaSet } from '../schema/releases.js';
import type { MessageRef } from './output.js';
import { RELATION_TYPES } from './output.js';
import { readSimulation, refKey, type Simulation } from './read-output.js';
import { simulate } from './simulate.js';

type Values = Record<string, string | null>;

/** Rows of one table of a parsed message as column → value. */
function rows(m: FlatMessage, suffix?: string): Values[] {
  const name = suffix ? `${m.key.code}_${suffix}` : m.key.code;
  const def = m.schema.tables.find((t) => t.name === name);
  if (!def) throw new Error(`no table ${name}`);
  return (m.tables.get(name) ?? []).map((r) =>
    Object.fromEntries(def.columns.map((c, i) => [c.name, r[i] ?? null])),
  );
}

function keyRef(m: FlatMessage): MessageRef {
  const k = m.key;
  return {
    code: k.code,
    afzender: k.afzender,
    ontvanger: k.ontvanger,
    identificatie: k.identificatie,
    dagtekening: k.dagtekening,
    ...(k.identificatieRetour !== undefined ? { identificatieRetour: k.identificatieRetour } : {}),
    ...(k.dagtekeningRetour !== undefined ? { dagtekeningRetour: k.dagtekeningRetour } : {}),
  };
}

const num = (code: string) => Number(code.replace(/^[A-Z]+/, ''));
const RETOURS = new Set([302, 306, 308, 316, 318, 320]);

interface Run {
  readonly dir: string;
  readonly sim: Simulation;
  /** Parsed messages (status message) by hubId. */
  readonly messages: Map<string, FlatMessage>;
  /** Parsed messages (status message) by ref key. */
  readonly byRef: Map<string, FlatMessage>;
  readonly parseFailures: string[];
  readonly brokenAccepted: string[];
}

function load(dir: string): Run {
  const sim = readSimulation(dir);
  const messages = new Map<string, FlatMessage>();
  const byRef = new Map<string, FlatMessage>();
  const parseFailures: string[] = [];
  const brokenAccepted: string[] = [];
  for (const e of sim.exchanges) {
    const outcome = parseMessage(readFileSync(join(dir, e.file)), { file: e.file });
    if (e.status === 'broken') {
      if (outcome.ok) brokenAccepted.push(`${e.file} (${e.reason})`);
      continue;
    }
    if (!outcome.ok) {
      parseFailures.push(`${e.file}: ${outcome.error.message}`);
      continue;
    }
    if (e.status === 'message') {
      messages.set(e.hubId, outcome.message);
      byRef.set(refKey(keyRef(outcome.message)), outcome.message);
    }
  }
  return { dir, sim, messages, byRef, parseFailures, brokenAccepted };
}

function flat(run: Run, ref: MessageRef): FlatMessage {
  const m = run.byRef.get(refKey(ref));
  if (!m) throw new Error(`no written message ${refKey(ref)}`);
  return m;
}

let main: Run;
let punctual: Run;
const dirs: string[] = [];

beforeAll(() => {
  const a = mkdtempSync(join(tmpdir(), 'ketendata-sim-'));
  const b = mkdtempSync(join(tmpdir(), 'ketendata-sim-'));
  dirs.push(a, b);
  simulate({
    out: a,
    gemeenten: '3',
    clients: 350,
    from: '2025-01-01',
    to: '2025-09-30',
    seed: 11,
    duplicates: 0.05,
    errors: 0.06,
    late: 0.05,
  });
  simulate({
    out: b,
    gemeenten: '0363,0599',
    clients: 120,
    from: '2025-03-01',
    to: '2025-07-31',
    seed: 5,
    duplicates: 0,
    errors: 0,
    late: 0,
  });
  main = load(a);
  punctual = load(b);
}, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('simulate: validity', () => {
  it('writes every exchange that is not deliberately broken as a message the project validator accepts', () => {
    expect(main.parseFailures).toEqual([]);
    expect(punctual.parseFailures).toEqual([]);
    expect(main.messages.size).toBeGreaterThan(1500);
  });

  it('writes broken exchanges that the validator rejects, and only when errors are asked for', () => {
    const broken = main.sim.exchanges.filter((e) => e.status === 'broken');
    expect(broken.length).toBeGreaterThan(0);
    expect(main.brokenAccepted).toEqual([]);
    expect(punctual.sim.exchanges.filter((e) => e.status === 'broken')).toEqual([]);
  });

  it('passes xmllint --schema on a sample of every message type, duplicates and retours with codes included', () => {
    const byCode = new Map<string, string[]>();
    for (const e of main.sim.exchanges) {
      if (e.status === 'broken') continue;
      const list = byCode.get(e.code) ?? [];
      if (list.length < 25 || (e.status === 'duplicate' && list.length < 40))
        list.push(join(main.dir, e.file));
      byCode.set(e.code, list);
    }
    expect(byCode.size).toBe(28);
    const failures: string[] = [];
    for (const [code, files] of byCode) {
      const xsd = schemaSet().byCode(code)?.xsdFile ?? '';
      const r = spawnSync('xmllint', ['--noout', '--schema', xsd, ...files], { encoding: 'utf8' });
      if (r.status !== 0)
        failures.push(`${code}: ${r.stderr.split('\n').find((l) => !l.endsWith('validates'))}`);
    }
    expect(failures).toEqual([]);
  });

  it('uses only BSNs of the test range that pass the 11-test, 8-digit AGB codes and real CBS municipality codes', () => {
    const cbs = new Set(readGemeenten().map((g) => g.code));
    const bsns = new Set<string>();
    for (const m of main.messages.values()) {
      const main0 = rows(m)[0] as Values;
      const clients = [323, 325].includes(num(m.key.code)) ? rows(m, 'Client').map((c) => c.Bsn) : [];
      for (const v of [main0.Client_Bsn, ...clients]) if (v) bsns.add(v);
      const gemeente = m.schema.gemeenteField === 'Afzender' ? m.key.afzender : m.key.ontvanger;
      const agb = m.schema.gemeenteField === 'Afzender' ? m.key.ontvanger : m.key.afzender;
      expect(cbs.has(gemeente), gemeente).toBe(true);
      expect(agb).toMatch(/^[0-9]{8}$/);
    }
    expect(bsns.size).toBeGreaterThan(200);
    for (const b of bsns) {
      expect(b).toMatch(/^999[0-9]{6}$/);
      expect(isValidBsn(b), b).toBe(true);
    }
  });

  it('never dates a message after the moment it passes the hub, and keeps Identificatie unique per sender and type', () => {
    const seen = new Set<string>();
    const manifest = new Map(main.sim.manifest.map((l) => [l.hubId, l]));
    for (const [hubId, m] of main.messages) {
      const moment = manifest.get(hubId)?.moment.slice(0, 10) ?? '';
      const k = m.key;
      expect(k.dagtekening <= moment).toBe(true);
      if (k.dagtekeningRetour) expect(k.dagtekeningRetour <= moment).toBe(true);
      const sender = RETOURS.has(num(k.code)) ? k.ontvanger : k.afzender;
      const id = `${sender}|${k.code}|${k.identificatieRetour ?? k.identificatie}`;
      expect(seen.has(id), id).toBe(false);
      seen.add(id);
    }
  });
});

describe('simulate: manifest and ground truth', () => {
  it('writes the manifest in hub order, one line per exchange, with the organisation that really sent it', () => {
    const { manifest, exchanges } = main.sim;
    expect(manifest.length).toBe(exchanges.length);
    for (let i = 1; i < manifest.length; i++) {
      expect(
        (manifest[i - 1] as { moment: string }).moment <= (manifest[i] as { moment: string }).moment,
      ).toBe(true);
    }
    expect(new Set(manifest.map((l) => l.hubId)).size).toBe(manifest.length);
    for (const [i, line] of manifest.entries()) {
      const e = exchanges[i];
      expect(e?.hubId).toBe(line.hubId);
      expect(e?.file).toBe(line.file);
      if (!e?.message) continue;
      const retour = RETOURS.has(num(e.code));
      expect(line.verzender).toBe(retour ? e.message.ontvanger : e.message.afzender);
      expect(line.ontvanger).toBe(retour ? e.message.afzender : e.message.ontvanger);
    }
  });

  it('names in the ground truth exactly the header values of each written message', () => {
    for (const e of main.sim.exchanges) {
      if (e.status !== 'message') continue;
      const m = main.messages.get(e.hubId);
      expect(m).toBeDefined();
      expect(e.message).toEqual(keyRef(m as FlatMessage));
      expect(e.gemeente).toBe(m?.gemeente);
      if (![323, 325].includes(num(e.code))) expect(e.journey).toMatch(/^J[0-9]{8}$/);
    }
  });

  it('marks a duplicate as the same message passing again later, byte-identical or re-serialised', () => {
    const dups = main.sim.exchanges.filter((e) => e.status === 'duplicate');
    expect(dups.length).toBeGreaterThan(10);
    const firstMoment = new Map<string, string>();
    const moments = new Map(main.sim.manifest.map((l) => [l.hubId, l.moment]));
    for (const e of main.sim.exchanges) {
      if (e.status === 'message' && e.message) firstMoment.set(refKey(e.message), moments.get(e.hubId) ?? '');
    }
    const reasons = new Set<string>();
    for (const d of dups) {
      const original = flat(main, d.message as MessageRef);
      const again = parseMessage(readFileSync(join(main.dir, d.file)), { file: d.file });
      expect(again.ok && again.message.canonical.equals(original.canonical)).toBe(true);
      expect((moments.get(d.hubId) ?? '') > (firstMoment.get(refKey(d.message as MessageRef)) ?? 'z')).toBe(
        true,
      );
      reasons.add(d.reason ?? '');
    }
    expect(reasons).toEqual(new Set(['identical', 'reserialised']));
  });

  it('only relates messages and rows that were written, with the agreed relation types, and ends with a true summary', () => {
    const { relations, summary, kinds } = main.sim;
    expect(kinds[kinds.length - 1]).toBe('summary');
    expect(kinds.filter((k) => k === 'summary').length).toBe(1);
    for (const type of RELATION_TYPES)
      expect(
        relations.some((r) => r.type === type),
        type,
      ).toBe(true);
    for (const r of relations) {
      expect(RELATION_TYPES).toContain(r.type);
      for (const side of [r.from, r.to]) {
        const m = flat(main, side.message);
        const def = m.schema.tables.find((t) => t.name === side.table);
        expect(def, side.table).toBeDefined();
        if (side.row.length === 0) expect(side.table).toBe(m.key.code);
        else {
          const ordinals = (def?.keyColumns ?? []).slice(1);
          const found = (m.tables.get(side.table) ?? []).some((row) =>
            ordinals.every(
              (o, i) => row[def?.columns.findIndex((c) => c.name === o) ?? -1] === String(side.row[i]),
            ),
          );
          expect(found, `${side.table} ${side.row}`).toBe(true);
        }
      }
    }
    const count = (k: string) => main.sim.exchanges.filter((e) => e.status === k).length;
    expect(summary.perStatus).toEqual({
      broken: count('broken'),
      duplicate: count('duplicate'),
      message: count('message'),
    });
    expect(summary.exchanges).toBe(main.sim.exchanges.length);
    expect(Object.values(summary.perRelation).reduce((a, b) => a + b, 0)).toBe(relations.length);
  });
});

describe('simulate: journey rules', () => {
  it('answers every retour to an original that was written before it, and says so in the ground truth', () => {
    const retourLinks = new Set(
      main.sim.relations.filter((r) => r.type === 'retour').map((r) => refKey(r.from.message)),
    );
    let n = 0;
    for (const m of main.messages.values()) {
      const k = m.key;
      if (!RETOURS.has(num(k.code))) continue;
      n++;
      const heen = main.byRef.get(
        refKey({
          code: k.code.replace(/[0-9]+$/, String(num(k.code) - 1)),
          afzender: k.afzender,
          ontvanger: k.ontvanger,
          identificatie: k.identificatie,
          dagtekening: k.dagtekening,
        }),
      );
      expect(heen, refKey(keyRef(m))).toBeDefined();
      expect((k.dagtekeningRetour ?? '') >= k.dagtekening).toBe(true);
      expect(retourLinks.has(refKey(keyRef(m)))).toBe(true);
    }
    expect(n).toBeGreaterThan(500);
  });

  it('starts and stops only on a ToewijzingNummer that municipality assigned to that client at that provider before', () => {
    const assigned = new Map<string, string[]>();
    for (const m of main.messages.values()) {
      if (num(m.key.code) !== 301) continue;
      const bsn = (rows(m)[0] as Values).Client_Bsn;
      for (const tp of rows(m, 'ToegewezenProduct')) {
        const key = `${m.key.afzender}|${m.key.ontvanger}|${bsn}|${tp.ToewijzingNummer}`;
        assigned.set(key, [...(assigned.get(key) ?? []), m.key.dagtekening]);
      }
    }
    let checked = 0;
    for (const m of main.messages.values()) {
      const n = num(m.key.code);
      if (n !== 305 && n !== 307) continue;
      const bsn = (rows(m)[0] as Values).Client_Bsn;
      for (const row of rows(m, n === 305 ? 'StartProduct' : 'StopProduct')) {
        const dates =
          assigned.get(`${m.key.ontvanger}|${m.key.afzender}|${bsn}|${row.ToewijzingNummer}`) ?? [];
        expect(
          dates.some((d) => d <= m.key.dagtekening),
          `${m.key.code} ${row.ToewijzingNummer}`,
        ).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('reports a start only once care has begun: no Begindatum after its 305 (OP271)', () => {
    let checked = 0;
    for (const run of [main, punctual]) {
      for (const m of run.messages.values()) {
        if (num(m.key.code) !== 305) continue;
        for (const row of rows(m, 'StartProduct')) {
          expect(row.Begindatum! <= m.key.dagtekening, `${m.key.code} ${m.key.identificatie}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('declares only inside the assigned period, except prestaties made wrong on purpose, which the 325 rejects', () => {
    const versions = new Map<string, { dag: string; tijd: string; in: string; eind: string | null }[]>();
    for (const m of main.messages.values()) {
      if (num(m.key.code) !== 301) continue;
      for (const tp of rows(m, 'ToegewezenProduct')) {
        const key = `${m.key.afzender}|${tp.ToewijzingNummer}`;
        versions.set(key, [
          ...(versions.get(key) ?? []),
          {
            dag: m.key.dagtekening,
            tijd: `${tp.Toewijzingsdatum}T${tp.Toewijzingstijd}`,
            in: tp.Ingangsdatum ?? '',
            eind: tp.Einddatum ?? null,
          },
        ]);
      }
    }
    const rejected = new Set(
      main.sim.relations
        .filter((r) => r.type === 'prestatie-antwoord')
        .map((r) => `${refKey(r.to.message)}#${r.to.row.join('.')}`),
    );
    // A 325 rejecting the whole 323 on its header (no DeclaratieAntwoord) rejects every prestatie in it.
    const wholeRejected = new Set<string>();
    const answered = new Set<string>();
    for (const r of main.sim.relations.filter((x) => x.type === 'declaratie-antwoord')) {
      answered.add(refKey(r.to.message));
      const answer = flat(main, r.from.message);
      const header = rows(answer, 'RetourCode')
        .filter((c) => c.Niveau === 'Header')
        .map((c) => c.RetourCode);
      if (!header.includes('0200')) wholeRejected.add(refKey(r.to.message));
    }
    let inside = 0;
    let outside = 0;
    for (const m of main.messages.values()) {
      if (num(m.key.code) !== 323) continue;
      for (const p of rows(m, 'Prestatie')) {
        if (p.IngediendBedrag_DebetCredit === 'C') continue;
        const known = (versions.get(`${m.key.ontvanger}|${p.ToewijzingNummer}`) ?? []).filter(
          (v) => v.dag <= m.key.dagtekening,
        );
        expect(known.length).toBeGreaterThan(0);
        const latest = known.reduce((a, b) => (b.tijd > a.tijd ? b : a));
        const ok =
          (p.ProductPeriode_Begindatum ?? '') >= latest.in &&
          (latest.eind === null || (p.ProductPeriode_Einddatum ?? '') <= latest.eind);
        const id = `${refKey(keyRef(m))}#${p.ClientVolgnr}.${p.PrestatieVolgnr}`;
        if (ok) inside++;
        else {
          outside++;
          // A 323 sent in the last days of the period may have its 325 after it (not written).
          if (!answered.has(refKey(keyRef(m)))) continue;
          expect(rejected.has(id) || wholeRejected.has(refKey(keyRef(m))), id).toBe(true);
        }
      }
    }
    expect(inside).toBeGreaterThan(300);
    expect(outside).toBeGreaterThan(0);
  });

  it('gives a client an address in the municipality that assigns its care, also after a move', () => {
    const names = new Map(
      (
        JSON.parse(readFileSync(join(main.dir, 'organisations.json'), 'utf8')) as {
          gemeenten: { code: string; name: string }[];
        }
      ).gemeenten.map((g) => [g.code, g.name]),
    );
    let same = 0;
    let all = 0;
    const areas = new Map<string, Map<string, number>>();
    for (const m of main.messages.values()) {
      if (num(m.key.code) !== 301) continue;
      for (const c of rows(m, 'ClientContact')) {
        if (!c.Adres_Plaatsnaam) continue;
        all++;
        if (c.Adres_Plaatsnaam === names.get(m.key.afzender)) same++;
        const count = areas.get(m.key.afzender) ?? new Map<string, number>();
        const area = c.Adres_Postcode!.slice(0, 2);
        count.set(area, (count.get(area) ?? 0) + 1);
        areas.set(m.key.afzender, count);
      }
    }
    // Woonplaatsbeginsel cases may live elsewhere; a move takes the address along.
    expect(all).toBeGreaterThan(100);
    expect(same / all).toBeGreaterThan(0.95);
    // Its clients' postcodes mostly share the municipality's own first two digits.
    for (const [gemeente, count] of areas) {
      const total = [...count.values()].reduce((a, b) => a + b, 0);
      expect(Math.max(...count.values()) / total, gemeente).toBeGreaterThan(0.9);
    }
  });

  it('declares most rejected prestaties again, corrected, in a later declaration', () => {
    const rejectedRows = new Set(
      main.sim.relations
        .filter((r) => r.type === 'prestatie-antwoord')
        .map((r) => `${refKey(r.to.message)}#${r.to.row.join('.')}`),
    );
    const later = (m: FlatMessage) =>
      [...main.messages.values()].filter(
        (o) =>
          num(o.key.code) === 323 &&
          o.key.afzender === m.key.afzender &&
          o.key.ontvanger === m.key.ontvanger &&
          o.key.dagtekening > m.key.dagtekening,
      );
    let rejectedCount = 0;
    let again = 0;
    for (const m of main.messages.values()) {
      // Leave two months for the 325 and the next declaration.
      if (num(m.key.code) !== 323 || m.key.dagtekening > '2025-07-31') continue;
      for (const p of rows(m, 'Prestatie')) {
        if (!rejectedRows.has(`${refKey(keyRef(m))}#${p.ClientVolgnr}.${p.PrestatieVolgnr}`)) continue;
        rejectedCount++;
        const month = p.ProductPeriode_Begindatum!.slice(0, 7);
        const resent = later(m).some((o) =>
          rows(o, 'Prestatie').some(
            (q) =>
              q.ToewijzingNummer === p.ToewijzingNummer &&
              q.ProductPeriode_Einddatum!.slice(0, 7) === month &&
              q.ProductReferentie_ReferentieNummer !== p.ProductReferentie_ReferentieNummer,
          ),
        );
        if (resent) again++;
      }
    }
    expect(rejectedCount).toBeGreaterThan(5);
    expect(again / rejectedCount).toBeGreaterThan(0.6);
  });

  it('chains toewijzing versions in Toewijzingsdatum+tijd order, as the koppeltabel does (OP087)', () => {
    const stampOf = (ref: MessageRef, row: readonly number[]) => {
      const tp = rows(flat(main, ref), 'ToegewezenProduct')[(row[0] ?? 1) - 1];
      return `${tp?.Toewijzingsdatum}T${tp?.Toewijzingstijd}`;
    };
    const versions = main.sim.relations.filter((r) => r.type === 'toewijzing-versie');
    for (const r of versions) {
      const [from, to] = [stampOf(r.from.message, r.from.row), stampOf(r.to.message, r.to.row)];
      // A resend or an unchanged row in a later snapshot keeps the stamp (IV013): message order decides.
      expect(to <= from, `${refKey(r.from.message)} ${from} -> ${to}`).toBe(true);
    }
    expect(versions.length).toBeGreaterThan(20);
  });

  it('relates each start to every 301 row that carried its ToewijzingNummer up to the start’s Dagtekening', () => {
    const tpRows = new Map<string, string[]>();
    for (const m of main.messages.values()) {
      if (num(m.key.code) !== 301) continue;
      for (const tp of rows(m, 'ToegewezenProduct')) {
        const key = `${m.key.afzender}|${tp.ToewijzingNummer}`;
        tpRows.set(key, [
          ...(tpRows.get(key) ?? []),
          `${m.key.dagtekening}|${refKey(keyRef(m))}#${tp.ToegewezenProductVolgnr}`,
        ]);
      }
    }
    const truth = new Map<string, Set<string>>();
    for (const r of main.sim.relations.filter((x) => x.type === 'start-toewijzing')) {
      const from = `${refKey(r.from.message)}#${r.from.row.join('.')}`;
      truth.set(from, (truth.get(from) ?? new Set()).add(`${refKey(r.to.message)}#${r.to.row.join('.')}`));
    }
    let n = 0;
    for (const m of main.messages.values()) {
      if (num(m.key.code) !== 305) continue;
      for (const s of rows(m, 'StartProduct')) {
        const expected = new Set(
          (tpRows.get(`${m.key.ontvanger}|${s.ToewijzingNummer}`) ?? [])
            .filter((x) => x.slice(0, 10) <= m.key.dagtekening)
            .map((x) => x.slice(11)),
        );
        expect(truth.get(`${refKey(keyRef(m))}#${s.StartProductVolgnr}`) ?? new Set()).toEqual(expected);
        n++;
      }
    }
    expect(n).toBeGreaterThan(300);
  });

  it('includes the rarer turns of a journey: corrections, deletions, change requests, temporary stops and transfers', () => {
    const reasons = new Set<string>();
    const stops = new Set<string>();
    const statuses = new Set<string>();
    const stopStatuses = new Set<string>();
    let woonplaats = 0;
    let nieuw = 0;
    for (const m of main.messages.values()) {
      const n = num(m.key.code);
      if (n === 301)
        for (const tp of rows(m, 'ToegewezenProduct')) if (tp.RedenWijziging) reasons.add(tp.RedenWijziging);
      if (n === 307) {
        for (const s of rows(m, 'StopProduct')) {
          stops.add(s.RedenBeeindiging ?? '');
          stopStatuses.add(s.StatusAanlevering ?? '');
        }
      }
      if (n === 305) for (const s of rows(m, 'StartProduct')) statuses.add(s.StatusAanlevering ?? '');
      if (n === 319 && (rows(m)[0] as Values).Antwoord_Woonplaatsbeginsel_Gemeente) woonplaats++;
      if (n === 317) nieuw += rows(m, 'NieuwProduct').length;
    }
    for (const r of ['04', '07', '12', '13']) expect(reasons.has(r), `RedenWijziging ${r}`).toBe(true);
    for (const s of ['20', '37']) expect(stops.has(s), `RedenBeeindiging ${s}`).toBe(true);
    expect(statuses).toEqual(new Set(['1', '3']));
    expect(stopStatuses).toEqual(new Set(['1', '3']));
    expect(woonplaats).toBeGreaterThan(0);
    expect(nieuw).toBeGreaterThan(0);
    expect(main.sim.summary.perCode.JW317).toBeGreaterThan(0);
    expect(main.sim.summary.perCode.WMO317).toBeGreaterThan(0);
  });
});

describe('simulate: deadlines', () => {
  it('keeps every deadline when no lateness is asked for: retours ≤ 3, answers ≤ 5, 325 ≤ 10 working days', () => {
    const run = punctual;
    const dag = (s: string) => dayFromIso(s);
    const k = (m: FlatMessage) => m.key.dagtekening;
    for (const m of run.messages.values()) {
      const k = m.key;
      if (RETOURS.has(num(k.code)))
        expect(workingDaysBetween(dag(k.dagtekening), dag(k.dagtekeningRetour ?? ''))).toBeLessThanOrEqual(3);
      if (num(k.code) === 325) {
        const d = rows(m)[0] as Values;
        expect(
          workingDaysBetween(dag(d.Header_DeclaratieIdentificatie_Dagtekening ?? ''), dag(k.dagtekening)),
        ).toBeLessThanOrEqual(10);
      }
    }
    const requested = new Map<string, string>();
    for (const m of run.messages.values()) {
      if (num(m.key.code) === 315)
        for (const p of rows(m, 'AangevraagdProduct'))
          requested.set(`${m.key.afzender}|${p.ReferentieAanbieder}`, m.key.dagtekening);
    }
    // The first answer (319 or 301) to each requested product comes within 5 working days (OP274).
    const firstAnswer = new Map<string, string>();
    const answered = (key: string, day: string) => {
      const known = firstAnswer.get(key);
      if (!known || day < known) firstAnswer.set(key, day);
    };
    for (const m of run.messages.values()) {
      const n = num(m.key.code);
      if (n === 319)
        answered(
          `${m.key.ontvanger}|${(rows(m)[0] as Values).Antwoord_ReferentieAanbieder}`,
          m.key.dagtekening,
        );
      if (n === 301) {
        for (const t of rows(m, 'ToegewezenProduct')) {
          if (t.ReferentieAanbieder)
            answered(`${m.key.ontvanger}|${t.ReferentieAanbieder}`, m.key.dagtekening);
        }
      }
    }
    let answers = 0;
    for (const [key, asked] of requested) {
      const first = firstAnswer.get(key);
      if (!first) continue;
      expect(workingDaysBetween(dag(asked), dag(first)), key).toBeLessThanOrEqual(5);
      answers++;
    }
    expect(answers).toBeGreaterThan(0);
    // Start and stop within 5 working days of the real date (after a retroactive 301: of its receipt).
    const firstAssigned = new Map<string, string>();
    for (const m of run.messages.values()) {
      if (num(m.key.code) !== 301) continue;
      for (const tp of rows(m, 'ToegewezenProduct')) {
        const key = `${m.key.afzender}|${tp.ToewijzingNummer}`;
        const known = firstAssigned.get(key);
        if (!known || m.key.dagtekening < known) firstAssigned.set(key, m.key.dagtekening);
      }
    }
    let regie = 0;
    for (const m of run.messages.values()) {
      const n = num(m.key.code);
      if (n !== 305 && n !== 307) continue;
      const list = rows(m, n === 305 ? 'StartProduct' : 'StopProduct');
      if (list.some((r) => r.StatusAanlevering === '3')) continue;
      for (const r of list) {
        const real =
          n === 305
            ? Math.max(
                dag(r.Begindatum ?? ''),
                dag(firstAssigned.get(`${m.key.ontvanger}|${r.ToewijzingNummer}`) ?? ''),
              )
            : dag(r.Einddatum ?? '');
        expect(dag(k(m)) <= addWorkingDays(real, 5), `${m.key.code} ${r.ToewijzingNummer}`).toBe(true);
        regie++;
      }
    }
    expect(regie).toBeGreaterThan(100);
    const s = run.sim.summary.deadlines;
    for (const [kind, c] of Object.entries(s)) expect(c.missed, kind).toBe(0);
  });

  it('misses deadlines only for about the configured share', () => {
    let kept = 0;
    let late = 0;
    for (const m of main.messages.values()) {
      const k = m.key;
      if (!RETOURS.has(num(k.code))) continue;
      if (workingDaysBetween(dayFromIso(k.dagtekening), dayFromIso(k.dagtekeningRetour ?? '')) <= 3) kept++;
      else late++;
    }
    const share = late / (kept + late);
    expect(share).toBeGreaterThan(0.01);
    expect(share).toBeLessThan(0.1);
    expect(addWorkingDays(dayFromIso('2025-12-24'), 1)).toBe(dayFromIso('2025-12-29'));
  });
});

describe('simulate: determinism', () => {
  const digest = (dir: string) => {
    const h = createHash('sha256');
    const sim = readSimulation(dir);
    h.update(readFileSync(join(dir, 'manifest.ndjson')));
    h.update(readFileSync(join(dir, 'ground-truth.ndjson')));
    h.update(readFileSync(join(dir, 'organisations.json')));
    for (const l of sim.manifest) h.update(readFileSync(join(dir, l.file)));
    return h.digest('hex');
  };

  it('writes the same bytes for the same seed and different ones for another seed', () => {
    const out = [1, 2, 3].map(() => mkdtempSync(join(tmpdir(), 'ketendata-sim-')));
    dirs.push(...out);
    const opts = {
      gemeenten: '2',
      clients: 40,
      from: '2025-02-01',
      to: '2025-04-30',
      duplicates: 0.05,
      errors: 0.05,
    };
    simulate({ ...opts, out: out[0] as string, seed: 3 });
    simulate({ ...opts, out: out[1] as string, seed: 3 });
    simulate({ ...opts, out: out[2] as string, seed: 4 });
    expect(digest(out[0] as string)).toBe(digest(out[1] as string));
    expect(digest(out[0] as string)).not.toBe(digest(out[2] as string));
    // Another run's exchanges have other hub ids: both can go into one store (a known id is a known exchange).
    const hubIds = (dir: string) =>
      new Set(
        readFileSync(join(dir, 'manifest.ndjson'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { hubId: string }).hubId),
      );
    const other = hubIds(out[2] as string);
    expect([...hubIds(out[0] as string)].filter((id) => other.has(id))).toEqual([]);
  });

  it('keeps the ids of a run cut short earlier the same day, and gives other settings other ids', () => {
    const out = [1, 2, 3].map(() => mkdtempSync(join(tmpdir(), 'ketendata-sim-')));
    dirs.push(...out);
    const opts = {
      gemeenten: '2',
      clients: 40,
      from: '2025-02-01',
      to: '2025-04-29',
      seed: 3,
      duplicates: 0.05,
      errors: 0.05,
    };
    simulate({ ...opts, out: out[0] as string, until: '2025-04-29T09:00:00.000Z' });
    simulate({ ...opts, out: out[1] as string, until: '2025-04-29T23:00:00.000Z' });
    simulate({ ...opts, out: out[2] as string, errors: 0.2 });
    const manifest = (dir: string) => readFileSync(join(dir, 'manifest.ndjson'), 'utf8');
    // The later moment passed the same exchanges under the same ids, then more: a re-ingest adds only those.
    const [earlier, later] = [manifest(out[0] as string), manifest(out[1] as string)];
    expect(later.length).toBeGreaterThan(earlier.length);
    expect(later.startsWith(earlier)).toBe(true);
    for (const l of readSimulation(out[0] as string).manifest)
      expect(readFileSync(join(out[1] as string, l.file))).toEqual(
        readFileSync(join(out[0] as string, l.file)),
      );
    // Other rates write other traffic, so under other ids.
    const id = (dir: string) =>
      (JSON.parse(manifest(dir).split('\n')[0] as string) as { hubId: string }).hubId;
    expect(id(out[2] as string)).not.toBe(id(out[1] as string));
  });

  it('writes the bytes it always wrote: speed work on the writers must leave the output as it is', () => {
    // Duplicates (both kinds), broken first attempts, retours with codes and a warm-up whose messages are
    // left out: every kind of line and file. Change this digest only with a deliberate change of output
    // (last: the rates and warm-up go into the hub ids' run tag).
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-sim-'));
    dirs.push(dir);
    const r = simulate({
      out: dir,
      gemeenten: '3',
      clients: 200,
      from: '2024-11-01',
      to: '2025-04-30',
      seed: 11,
      duplicates: 0.05,
      errors: 0.08,
      warmupMonths: 2,
    });
    expect(r.perStatus).toEqual({ message: 1481, duplicate: 83, broken: 16 });
    expect(digest(dir)).toBe('229db25b669c65be217f11b99d2b5e28a84b7495bf14209ac902acc94a06d6ad');
  });
});

describe('simulate: warm-up', () => {
  it('starts the written period with care already running, and relates only messages that were written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketendata-sim-'));
    dirs.push(dir);
    simulate({
      out: dir,
      gemeenten: '2',
      clients: 300,
      from: '2025-01-01',
      to: '2025-06-30',
      seed: 8,
      duplicates: 0.05,
      errors: 0.05,
      warmupMonths: 6,
    });
    const sim = readSimulation(dir);
    expect(sim.manifest.every((l) => l.moment >= '2025-01-01')).toBe(true);
    const written = new Set(
      sim.exchanges
        .filter((e) => e.status === 'message' && e.message)
        .map((e) => refKey(e.message as MessageRef)),
    );
    for (const e of sim.exchanges)
      if (e.status === 'duplicate') expect(written.has(refKey(e.message as MessageRef))).toBe(true);
    for (const r of sim.relations) {
      expect(written.has(refKey(r.from.message)), r.type).toBe(true);
      expect(written.has(refKey(r.to.message)), r.type).toBe(true);
    }
    const perMonth = new Map<string, number>();
    for (const l of sim.manifest)
      perMonth.set(l.moment.slice(0, 7), (perMonth.get(l.moment.slice(0, 7)) ?? 0) + 1);
    const counts = [...perMonth.values()];
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    // No ramp-up from an empty system: January is already a normal month.
    expect(perMonth.get('2025-01') ?? 0).toBeGreaterThan(0.7 * mean);
    const starts = sim.exchanges.filter((e) => e.status === 'message' && e.code.endsWith('305')).length;
    expect(sim.summary.perCode.JW323 ?? 0).toBeGreaterThan(0);
    expect(starts).toBeGreaterThan(0);
  });
});
