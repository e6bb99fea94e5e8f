/**
 * One client's journey at one provider, written as a generator that yields the moment it wants to go on
 * at: request (315) or the municipality's own decision → assignment (301) → start (305) → months of care
 * (declared by `Declarations`) with extensions, change requests (317), temporary stops, withdrawals,
 * corrections, deletions and moves to another municipality → stop (307). The process rules and deadlines
 * are those of the domain brief (§5); the ground truth comes from this state, never from re-matching keys.
 */

import { addMonths, addWorkingDays, type Day, dayOf, timeOfDay } from '../domain/calendar.js';
import type { Standard } from '../schema/model.js';
import type { CatalogProduct } from './catalog.js';
import type { Declarations } from './declarations.js';
import { address } from './identities.js';
import {
  antwoord,
  codeFor,
  start,
  stop,
  toewijzing,
  verzoekOmToewijzing,
  verzoekOmWijziging,
} from './messages.js';
import type {
  AangevraagdProductRow,
  Antwoord,
  Person,
  StartRow,
  StopRow,
  ToegewezenProductRow,
  Verzoek,
} from './model.js';
import type { Aanbieder, Gemeente } from './organisations.js';
import type { Side } from './output.js';
import type { Random } from './random.js';
import type { HeldRelation, SendSpec, Sent, Sim } from './sim.js';
import { Toewijzing } from './toewijzing.js';

export interface World {
  readonly sim: Sim;
  readonly declarations: Declarations;
  readonly gemeenten: readonly Gemeente[];
  readonly products: (standard: Standard) => readonly CatalogProduct[];
  nextToewijzingNummer(gemeente: string, standard: Standard): number;
  nextReferentie(agb: string): string;
  nextBeschikking(gemeente: string): number;
}

export interface JourneyState {
  readonly id: string;
  readonly random: Random;
  /** The client; a move gives it an address in the new municipality. */
  person: Person;
  readonly standard: Standard;
  gemeente: Gemeente;
  readonly aanbieder: Aanbieder;
  readonly startDay: Day;
  /** Every toewijzing of this client at this provider and gemeente (for the 301 snapshot, OP087). */
  tws: Toewijzing[];
}

type Steps<T = void> = Generator<number, T, void>;

const WEEK = 7;

function productsOf(w: World, j: JourneyState): CatalogProduct[] {
  const all = w.products(j.standard);
  const own = all.filter((p) => j.aanbieder.products.includes(p.code));
  return own.length > 0 ? own : [...all];
}

function pickProducts(w: World, j: JourneyState): CatalogProduct[] {
  const own = productsOf(w, j);
  const first = j.random.weighted(
    own,
    own.map((p) => p.weight),
  );
  if (own.length > 1 && j.random.chance(0.2)) {
    const rest = own.filter((p) => p !== first && p.categorie !== first.categorie);
    if (rest.length > 0)
      return [
        first,
        j.random.weighted(
          rest,
          rest.map((p) => p.weight),
        ),
      ];
  }
  return [first];
}

function omvangFor(p: CatalogProduct, r: Random): { volume: number; eenheid: string; frequentie: string } {
  return { volume: r.int(p.volume[0], p.volume[1]), eenheid: p.eenheid, frequentie: p.frequentie };
}

/** Resume at a moment on `day` (office hours, or the gemeente's night batch). */
function on(w: World, j: JourneyState, day: Day, batch = false): number {
  return w.sim.momentOn(Math.max(day, w.sim.today()), j.random, batch);
}

function gemeenteBatch(j: JourneyState): boolean {
  return j.gemeente.style === 1 && j.random.chance(0.8);
}

/** Send; after a rejecting retour the sender resends 1–3 working days later (a rejected message counts as not sent). */
function* reliably(
  w: World,
  j: JourneyState,
  make: (force: boolean) => SendSpec,
  onSent: (s: Sent) => void,
): Steps<Sent> {
  let sent = w.sim.send(make(false));
  onSent(sent);
  if (!sent.accepted) {
    yield sent.retourMoment;
    yield on(w, j, addWorkingDays(dayOf(w.sim.s.now), j.random.int(1, 3)));
    sent = w.sim.send(make(true));
    onSent(sent);
  }
  return sent;
}

// ---- messages of the journey -------------------------------------------------------------------------

/** 301: a full snapshot of current and changed toewijzingen (OP087). */
function* send301(w: World, j: JourneyState): Steps<Sent> {
  const today = w.sim.today();
  const included = j.tws.filter(
    (tw) =>
      tw.changed || (!tw.deleted && !tw.ended && (tw.current.einddatum ?? Number.POSITIVE_INFINITY) >= today),
  );
  const rows: ToegewezenProductRow[] = included.map((tw) => tw.current);
  const code = codeFor(j.standard, 301);
  const sent = yield* reliably(
    w,
    j,
    (force) => ({
      standard: j.standard,
      n: 301,
      afzender: j.gemeente.code,
      ontvanger: j.aanbieder.agb,
      gemeente: j.gemeente.code,
      journey: j.id,
      build: (h, style, retour) => toewijzing(h, j.person, rows, style, retour),
      rowCount: rows.length,
      rowRejectCodes: ['9332'],
      forceAccept: force,
    }),
    (s) => {
      for (const [i, tw] of included.entries()) {
        tw.record301(w.sim, s.ref, `${code}_ToegewezenProduct`, i, s.header.dagtekening);
      }
    },
  );
  for (const tw of included) tw.changed = false;
  return sent;
}

function newToewijzing(
  w: World,
  j: JourneyState,
  p: CatalogProduct,
  fields: { ingangsdatum: Day; einddatum: Day; omvang: ToegewezenProductRow['omvang']; referentie?: string },
): Toewijzing {
  const now = w.sim.s.now;
  const row: ToegewezenProductRow = {
    nummer: w.nextToewijzingNummer(j.gemeente.code, j.standard),
    ...(fields.referentie !== undefined ? { referentie: fields.referentie } : {}),
    product: { categorie: p.categorie, code: p.code },
    toewijzingsdatum: dayOf(now),
    toewijzingstijd: timeOfDay(now),
    ingangsdatum: fields.ingangsdatum,
    einddatum: fields.einddatum,
    ...(fields.omvang ? { omvang: fields.omvang } : {}),
  };
  const tw = new Toewijzing(j.gemeente.code, j.standard, j.aanbieder.agb, j.person.bsn, p, j.id, row);
  j.tws.push(tw);
  return tw;
}

/** A new version of a toewijzing (same number): new Toewijzingsdatum/-tijd. */
function change(w: World, tw: Toewijzing, fields: Partial<ToegewezenProductRow>): void {
  const now = w.sim.s.now;
  tw.current = { ...tw.current, ...fields, toewijzingsdatum: dayOf(now), toewijzingstijd: timeOfDay(now) };
  tw.changed = true;
}

function* send305(
  w: World,
  j: JourneyState,
  rows: readonly { tw: Toewijzing; row: StartRow }[],
  cancels?: readonly (Side | undefined)[],
): Steps<Sent> {
  const code = codeFor(j.standard, 305);
  const sent = yield* reliably(
    w,
    j,
    (force) => ({
      standard: j.standard,
      n: 305,
      afzender: j.aanbieder.agb,
      ontvanger: j.gemeente.code,
      gemeente: j.gemeente.code,
      journey: j.id,
      build: (h, style, retour) =>
        start(
          h,
          j.person,
          rows.map((r) => r.row),
          style,
          retour,
        ),
      rowCount: rows.length,
      rowRejectCodes: ['9019', '9074'],
      forceAccept: force,
    }),
    (s) => {
      rows.forEach((r, i) => {
        const side: Side = { message: s.ref, table: `${code}_StartProduct`, row: [i + 1] };
        r.tw.linkFrom(w.sim, 'start-toewijzing', side, s.header.dagtekening);
        const cancelled = cancels?.[i];
        if (!s.visiblyRejected && cancelled) w.sim.relation('correctie', side, cancelled);
      });
    },
  );
  rows.forEach((r, i) => {
    if (r.row.status === '1')
      r.tw.start = { side: { message: sent.ref, table: `${code}_StartProduct`, row: [i + 1] }, row: r.row };
  });
  return sent;
}

/**
 * The first row's stop-start, held back until it is known whether a deletion of that stop is in the
 * output: a deleted stop ends no start (IV008), and the ground truth cannot take a relation back.
 */
interface HeldStopStart {
  relation?: HeldRelation;
}

function* send307(
  w: World,
  j: JourneyState,
  rows: readonly { tw: Toewijzing; row: StopRow }[],
  cancels?: readonly (Side | undefined)[],
  held?: HeldStopStart,
  /** The deleted stop's held stop-start: dropped once this deletion stands in the output. */
  undoes?: HeldRelation,
): Steps<Sent> {
  const code = codeFor(j.standard, 307);
  const starts = rows.map((r) => r.tw.start?.side);
  return yield* reliably(
    w,
    j,
    (force) => ({
      standard: j.standard,
      n: 307,
      afzender: j.aanbieder.agb,
      ontvanger: j.gemeente.code,
      gemeente: j.gemeente.code,
      journey: j.id,
      build: (h, style, retour) =>
        stop(
          h,
          j.person,
          rows.map((r) => r.row),
          style,
          retour,
        ),
      rowCount: rows.length,
      rowRejectCodes: ['9069', '9414'],
      forceAccept: force,
    }),
    (s) => {
      // A rejection dated after the last day is not written: the 307 stands in the output as sent.
      const stands = !s.visiblyRejected;
      rows.forEach((r, i) => {
        const side: Side = { message: s.ref, table: `${code}_StopProduct`, row: [i + 1] };
        r.tw.linkFrom(w.sim, 'stop-toewijzing', side, s.header.dagtekening);
        const st = starts[i];
        if (st && stands && r.row.status === '1') {
          if (held && i === 0) held.relation = w.sim.hold('stop-start', side, st);
          else w.sim.relation('stop-start', side, st);
        }
        const cancelled = cancels?.[i];
        if (stands && cancelled) w.sim.relation('correctie', side, cancelled);
      });
      if (undoes && stands && w.sim.written(s.moment)) w.sim.settle(undoes, false);
    },
  );
}

function stopRow(tw: Toewijzing, reden: string, einddatum: Day): StopRow {
  const st = tw.start?.row;
  return {
    nummer: tw.nummer,
    ...(tw.current.product ? { product: tw.current.product } : {}),
    toewijzingIngangsdatum: tw.current.ingangsdatum,
    begindatum: st?.begindatum ?? tw.careFrom ?? tw.current.ingangsdatum,
    redenBeeindiging: reden,
    einddatum,
    status: '1',
  };
}

function startRow(tw: Toewijzing, begindatum: Day, status: '1' | '3' = '1'): StartRow {
  return {
    nummer: tw.nummer,
    ...(tw.current.product ? { product: tw.current.product } : {}),
    toewijzingIngangsdatum: tw.current.ingangsdatum,
    begindatum,
    status,
  };
}

/** `answers` collects every 319 sent (a rejected one and its resend), for a 301 that may follow it. */
function* send319(
  w: World,
  j: JourneyState,
  a: Antwoord,
  requestSides: readonly Side[],
  answers?: Toewijzing['answerSides'],
): Steps<Sent> {
  return yield* reliably(
    w,
    j,
    (force) => ({
      standard: j.standard,
      n: 319,
      afzender: j.gemeente.code,
      ontvanger: j.aanbieder.agb,
      gemeente: j.gemeente.code,
      journey: j.id,
      build: (h, style, retour) => antwoord(h, a, style, retour),
      rowCount: 0,
      rowRejectCodes: [],
      forceAccept: force,
    }),
    (s) => {
      const side: Side = { message: s.ref, table: s.ref.code, row: [] };
      for (const from of requestSides) w.sim.relation('verzoek-antwoord', from, side);
      answers?.push({ side, day: s.header.dagtekening, referentie: a.referentie });
    },
  );
}

// ---- the journey --------------------------------------------------------------------------------------

export function* journey(w: World, j: JourneyState): Steps {
  const r = j.random;
  const viaRequest = j.standard === 'ijw' ? r.chance(0.55) : r.chance(j.gemeente.votShareWmo);
  yield on(w, j, j.startDay, !viaRequest && gemeenteBatch(j));
  let tws: Toewijzing[];
  if (viaRequest) tws = yield* request(w, j);
  else {
    const day = w.sim.today();
    tws = pickProducts(w, j).map((p) =>
      newToewijzing(w, j, p, {
        ingangsdatum: day + r.int(0, 14),
        einddatum: addMonths(day, r.int(p.months[0], p.months[1])),
        omvang: omvangFor(p, r),
      }),
    );
    yield* send301(w, j);
  }
  if (tws.length > 0) yield* care(w, j, tws);
}

/** 315 → 316, then per request: honoured (301), rejected (319), in onderzoek (319 then 301/319), woonplaatsbeginsel. */
function* request(w: World, j: JourneyState, only?: readonly AangevraagdProductRow[]): Steps<Toewijzing[]> {
  const r = j.random;
  const rows = requestedRows(w, j, only);
  const code = codeFor(j.standard, 315);
  const q: Requested = { rows, sides: rows.map(() => []), answers: rows.map(() => []) };
  const sent = yield* reliably(
    w,
    j,
    (force) => ({
      standard: j.standard,
      n: 315,
      afzender: j.aanbieder.agb,
      ontvanger: j.gemeente.code,
      gemeente: j.gemeente.code,
      journey: j.id,
      build: (h, style, retour) => verzoekOmToewijzing(h, j.person, rows, style, retour),
      rowCount: rows.length,
      rowRejectCodes: ['9347', '9374'],
      forceAccept: force,
    }),
    (s) => {
      for (let i = 0; i < rows.length; i++) {
        q.sides[i]?.push({ message: s.ref, table: `${code}_AangevraagdProduct`, row: [i + 1] });
      }
    },
  );
  // Answer (301 or 319) within 5 working days of the request (OP274).
  const wd = w.sim.delayWithin('antwoord 315', 5, r, [1, 2, 2, 3, 3, 4, 5]);
  const gemeenten = w.gemeenten.filter((g) => g.code !== j.gemeente.code);
  const roll = r.next();
  const outcome =
    j.standard === 'ijw' && gemeenten.length > 0 && roll < 0.06 && !only
      ? 'woonplaats'
      : roll < 0.16
        ? 'afgewezen'
        : roll < 0.3
          ? 'onderzoek'
          : 'toegewezen';
  yield on(w, j, addWorkingDays(dayOf(sent.moment), wd), gemeenteBatch(j));
  const all = rows.map((_, i) => i);
  if (outcome === 'woonplaats') return yield* woonplaats(w, j, q, r.pick(gemeenten));
  if (outcome === 'afgewezen') {
    for (const i of all)
      yield* reject(
        w,
        j,
        q,
        i,
        j.standard === 'ijw' ? r.pick(['3', '4', '6', '7', '9']) : r.pick(['2', '3', '4', '7']),
      );
    return [];
  }
  if (outcome === 'onderzoek') return yield* onderzoek(w, j, q, dayOf(sent.moment));
  // Toegewezen, sometimes one product of two refused.
  if (rows.length > 1 && r.chance(0.15)) {
    yield* reject(w, j, q, 1, r.pick(['3', '6']));
    return yield* honour(w, j, q, [0]);
  }
  return yield* honour(w, j, q, all);
}

/*
 * The steps of `request`, each its own generator: one large generator took the optimising compiler ~0.1 s
 * per compilation (all its registers are saved and restored at every yield).
 */

/** A request's rows, and per row the sides that point at it and the 319s "in onderzoek" sent for it. */
interface Requested {
  readonly rows: readonly AangevraagdProductRow[];
  readonly sides: Side[][];
  readonly answers: Toewijzing['answerSides'][];
}

function requestedRows(
  w: World,
  j: JourneyState,
  only: readonly AangevraagdProductRow[] | undefined,
): AangevraagdProductRow[] {
  const r = j.random;
  const today = w.sim.today();
  const verwijzer =
    j.standard === 'ijw'
      ? r.weighted(['02', '03', '04', '05', '01', '06', '08'], [40, 10, 8, 12, 18, 6, 6])
      : '01';
  return (
    only?.map((row) => ({ ...row, referentie: w.nextReferentie(j.aanbieder.agb) })) ??
    pickProducts(w, j).map((p) => ({
      referentie: w.nextReferentie(j.aanbieder.agb),
      ...(j.standard === 'iwmo' ? { beschikkingNummer: w.nextBeschikking(j.gemeente.code) } : {}),
      product: { categorie: p.categorie, code: p.code },
      toewijzingIngangsdatum: today + r.int(0, 21),
      toewijzingEinddatum: addMonths(today, r.int(p.months[0], p.months[1])),
      omvang: omvangFor(p, r),
      verwijzerType: verwijzer,
      ...(verwijzer === '02'
        ? {
            verwijzerNaam: `Huisartsenpraktijk ${r.pick(['De Linde', 'Centrum', 'Noord', 'Het Plein', 'De Brink'])}`,
            verwijzerAgb: `01${String(r.int(0, 999_999)).padStart(6, '0')}`,
          }
        : {}),
    }))
  );
}

function reject(w: World, j: JourneyState, q: Requested, i: number, reden: string): Steps<Sent> {
  return send319(
    w,
    j,
    {
      referentie: (q.rows[i] as AangevraagdProductRow).referentie,
      verzoekAntwoord: '1',
      redenAfwijzing: reden,
    },
    q.sides[i] ?? [],
  );
}

function* honour(w: World, j: JourneyState, q: Requested, indexes: number[]): Steps<Toewijzing[]> {
  const out: Toewijzing[] = [];
  const day = w.sim.today();
  for (const i of indexes) {
    const row = q.rows[i] as AangevraagdProductRow;
    const p =
      productsOf(w, j).find((c) => c.code === row.product?.code) ?? (pickProducts(w, j)[0] as CatalogProduct);
    const tw = newToewijzing(w, j, p, {
      ingangsdatum: Math.max(row.toewijzingIngangsdatum, day - 30),
      einddatum: row.toewijzingEinddatum ?? addMonths(day, 6),
      omvang: row.omvang,
      referentie: row.referentie,
    });
    tw.requestSides = q.sides[i] ?? [];
    tw.answerSides = q.answers[i] ?? [];
    out.push(tw);
  }
  if (out.length > 0) yield* send301(w, j);
  return out;
}

/** iJw: another gemeente is responsible (reden 8); the provider asks that gemeente instead (IV095). */
function* woonplaats(w: World, j: JourneyState, q: Requested, other: Gemeente): Steps<Toewijzing[]> {
  const r = j.random;
  for (let i = 0; i < q.rows.length; i++) {
    yield* send319(
      w,
      j,
      {
        referentie: (q.rows[i] as AangevraagdProductRow).referentie,
        verzoekAntwoord: '1',
        redenAfwijzing: '8',
        woonplaatsGemeente: other.code,
      },
      q.sides[i] ?? [],
    );
  }
  yield on(w, j, addWorkingDays(w.sim.today(), r.int(2, 10)));
  j.gemeente = other;
  j.tws = [];
  return yield* request(w, j, q.rows);
}

/** 319 "in onderzoek" for every row, then the final answer within 8 weeks of the request (OP274); sometimes later. */
function* onderzoek(w: World, j: JourneyState, q: Requested, requestDay: Day): Steps<Toewijzing[]> {
  const r = j.random;
  for (let i = 0; i < q.rows.length; i++)
    yield* send319(
      w,
      j,
      { referentie: (q.rows[i] as AangevraagdProductRow).referentie, verzoekAntwoord: '2' },
      q.sides[i] ?? [],
      q.answers[i],
    );
  const late = r.chance(w.sim.rates.late);
  const days = late ? 8 * WEEK + r.int(1, 21) : r.int(2 * WEEK, 8 * WEEK - 3);
  w.sim.countDeadline('onderzoek 8 weken', late);
  yield on(w, j, requestDay + days, gemeenteBatch(j));
  const all = q.rows.map((_, i) => i);
  if (r.chance(0.3)) {
    for (const i of all) yield* reject(w, j, q, i, r.pick(['4', '7']));
    return [];
  }
  return yield* honour(w, j, q, all);
}

type Special = 'none' | 'vow' | 'temp' | 'withdraw' | 'move' | 'extend';

/** Care from the first start to the last stop. */
function* care(w: World, j: JourneyState, first: Toewijzing[]): Steps {
  const r = j.random;
  let tws = first;
  if (r.chance(0.02)) tws = yield* replaceMistake(w, j, tws);
  yield* startCare(w, j, tws);
  if (r.chance(0.04)) yield* correctStart(w, j, tws[0] as Toewijzing);
  // What happens during care, besides the planned end.
  const special: Special = r.weighted(
    ['none', 'extend', 'vow', 'temp', 'withdraw', 'move'],
    [50, 25, 9, 6, 5, w.gemeenten.length > 1 ? 5 : 0],
  );
  const careStart = Math.min(...tws.map((t) => t.careFrom ?? t.current.ingangsdatum));
  const plannedEnd = Math.min(...tws.map((t) => t.current.einddatum ?? careStart + 365));
  const dropOut = r.chance(0.15) && plannedEnd - careStart > 40;
  let endDay = dropOut ? careStart + r.int(21, plannedEnd - careStart - 7) : plannedEnd;
  let endReason = dropOut ? dropOutReason(j, r) : planReason(j, r);

  if (special !== 'none' && special !== 'extend' && endDay - careStart > 45) {
    const at = careStart + r.int(21, endDay - careStart - 14);
    yield on(w, j, at);
    if (special === 'vow') tws = yield* changeRequest(w, j, tws);
    else if (special === 'temp') {
      const done = yield* temporaryStop(w, j, tws, endReason);
      if (done) return;
    } else if (special === 'withdraw' || special === 'move') {
      yield* endEarly(w, j, tws, special === 'move');
      return;
    }
  } else if (special === 'extend' && !dropOut) {
    // Extension: same number, later Einddatum, RedenWijziging 04 (OP380), a few weeks before the end.
    const extendable = tws.filter((t) => t.current.omvang?.frequentie !== '6');
    if (extendable.length > 0) {
      endDay = yield* extend(w, j, extendable, plannedEnd);
      endReason = planReason(j, r);
    }
  }
  yield* finish(w, j, tws, endDay, endReason);
}

/*
 * The steps of `care`, each its own generator: one large generator took the optimising compiler ~0.1 s
 * per compilation (all its registers are saved and restored at every yield), twice per run.
 */

/** A toewijzing sent by mistake: withdrawn with RedenWijziging 13 and replaced by a new number (Proc §3.3.2). */
function* replaceMistake(w: World, j: JourneyState, tws: Toewijzing[]): Steps<Toewijzing[]> {
  const r = j.random;
  yield on(w, j, addWorkingDays(w.sim.today(), r.int(1, 4)), gemeenteBatch(j));
  const victim = tws[0] as Toewijzing;
  const original = victim.current;
  change(w, victim, { einddatum: original.ingangsdatum, redenWijziging: '13' });
  victim.deleted = true;
  const replacement = newToewijzing(w, j, victim.catalogProduct, {
    ingangsdatum: original.ingangsdatum,
    einddatum: original.einddatum ?? addMonths(original.ingangsdatum, victim.catalogProduct.months[1]),
    omvang: original.omvang,
    ...(original.referentie !== undefined ? { referentie: original.referentie } : {}),
  });
  replacement.requestSides = victim.requestSides;
  replacement.answerSides = victim.answerSides;
  yield* send301(w, j);
  return tws.map((t) => (t === victim ? replacement : t));
}

/** Start: the real start, reported within 5 working days (OP271; after a retroactive 301: after receipt). */
function* startCare(w: World, j: JourneyState, tws: readonly Toewijzing[]): Steps {
  const r = j.random;
  const sim = w.sim;
  const today = sim.today();
  const startDay = Math.max(Math.min(...tws.map((t) => t.current.ingangsdatum)), today + r.int(0, 10));
  const wd = sim.delayWithin('start 305', 5, r, [0, 1, 1, 2, 2, 3, 4, 5]);
  const sendDay = addWorkingDays(Math.max(startDay, today), wd);
  yield on(w, j, sendDay);
  // A 305 reports care that has begun: a product whose toewijzing starts after this day is reported in a
  // 305 of its own once it has (the one that starts first always begins on startDay).
  const begins = tws.map((tw) => ({ tw, begin: Math.max(tw.current.ingangsdatum, startDay) }));
  const starts = begins
    .filter((b) => b.begin <= sendDay)
    .map(({ tw, begin }) => ({ tw, row: startRow(tw, begin) }));
  yield* send305(w, j, starts);
  for (const s of starts) {
    s.tw.careFrom = s.row.begindatum;
    w.declarations.add(s.tw);
  }
  const later = begins.filter((b) => b.begin > sendDay).map((b) => b.tw);
  if (later.length > 0) yield* startCare(w, j, later);
}

/** A wrong Begindatum corrected: delete (StatusAanlevering 3) and send the right one, in one message (IV008). */
function* correctStart(w: World, j: JourneyState, tw: Toewijzing): Steps {
  const r = j.random;
  const sim = w.sim;
  yield on(w, j, sim.today() + r.int(5, 20));
  const old = tw.start;
  if (!old || tw.ended) return;
  const fixed = Math.min(
    sim.today(),
    Math.max(tw.current.ingangsdatum, old.row.begindatum + r.pick([-3, -2, -1, 1, 2, 3, 7])),
  );
  if (fixed === old.row.begindatum) return;
  yield* send305(
    w,
    j,
    [
      { tw, row: { ...old.row, status: '3' } },
      { tw, row: startRow(tw, fixed) },
    ],
    [old.side, undefined],
  );
  tw.careFrom = fixed;
}

/** The gemeente ends the toewijzing early (herbeoordeling, or the client moved: RedenWijziging 07). */
function* endEarly(w: World, j: JourneyState, tws: readonly Toewijzing[], move: boolean): Steps {
  const r = j.random;
  const until = w.sim.today() + r.int(7, 30);
  for (const tw of tws)
    change(w, tw, { einddatum: until, redenWijziging: move ? '07' : r.pick(['05', '05', '03', '08']) });
  yield* send301(w, j);
  const reden = move ? (j.standard === 'ijw' ? '35' : '31') : '36';
  yield* stopAll(w, j, tws, until, reden);
  if (move) yield* moveTo(w, j, tws, until + 1);
}

/** Extension a few weeks before the planned end; returns the new end. */
function* extend(w: World, j: JourneyState, tws: readonly Toewijzing[], plannedEnd: Day): Steps<Day> {
  const r = j.random;
  yield on(w, j, Math.max(w.sim.today(), plannedEnd - r.int(7, 30)), gemeenteBatch(j));
  const newEnd = addMonths(plannedEnd, r.int(3, 6));
  for (const tw of tws) change(w, tw, { einddatum: newEnd, redenWijziging: '04' });
  yield* send301(w, j);
  return newEnd;
}

/** The definitive stop; after an early end the gemeente sometimes shortens the toewijzing to match. */
function* finish(
  w: World,
  j: JourneyState,
  tws: readonly Toewijzing[],
  endDay: Day,
  endReason: string,
): Steps {
  const r = j.random;
  const sim = w.sim;
  const active = tws.filter((t) => !t.ended && !t.deleted);
  if (active.length === 0) return;
  const assignedUntil = Math.min(...active.map((t) => t.current.einddatum ?? endDay));
  // If a change took longer than the planned end, care went on until now (within the toewijzing).
  const lastDay = Math.min(assignedUntil, Math.max(endDay, sim.today()));
  yield* stopAll(w, j, active, lastDay, endReason);
  const shortened = active.filter((t) => (t.current.einddatum ?? lastDay) > lastDay + 14);
  if (shortened.length > 0 && r.chance(0.5)) {
    yield on(w, j, addWorkingDays(sim.today(), r.int(1, 10)), gemeenteBatch(j));
    for (const tw of shortened)
      change(w, tw, { einddatum: lastDay, redenWijziging: endReason === '02' ? '02' : '05' });
    yield* send301(w, j);
  }
}

function planReason(j: JourneyState, r: Random): string {
  if (j.standard === 'iwmo' && j.person.birth < -3650 && r.chance(0.15)) return '02';
  return j.standard === 'ijw' ? '31' : '19';
}

function dropOutReason(j: JourneyState, r: Random): string {
  return j.standard === 'ijw' ? r.pick(['32', '33', '34', '34']) : r.pick(['21', '22', '23', '23']);
}

/** Definitive stop of these toewijzingen on `einddatum`, reported within 5 working days (OP272). */
function* stopAll(
  w: World,
  j: JourneyState,
  tws: readonly Toewijzing[],
  einddatum: Day,
  reden: string,
): Steps {
  const r = j.random;
  const wd = w.sim.delayWithin('stop 307', 5, r, [0, 1, 1, 2, 3, 4, 5]);
  yield on(w, j, addWorkingDays(Math.max(einddatum, w.sim.today()), wd));
  const rows = tws
    .filter((t) => t.start !== undefined)
    .map((tw) => ({ tw, row: stopRow(tw, reden, einddatum) }));
  for (const tw of tws) {
    tw.careTo = Math.min(tw.careTo ?? einddatum, einddatum);
    tw.ended = true;
  }
  if (rows.length === 0) return;
  const held: HeldStopStart = {};
  const sent = yield* send307(w, j, rows, undefined, held);
  const first = rows[0];
  if (first && r.chance(0.03)) yield* correctStop(w, j, first, sent, held);
  else if (held.relation) w.sim.settle(held.relation, true);
}

/** A wrong Einddatum corrected: delete the stop (StatusAanlevering 3) and send the right one (IV008). */
function* correctStop(
  w: World,
  j: JourneyState,
  first: { readonly tw: Toewijzing; readonly row: StopRow },
  sent: Sent,
  held: HeldStopStart,
): Steps {
  const r = j.random;
  const day = w.sim.today() + r.int(5, 15);
  const moment = on(w, j, day);
  const old = first.row;
  const fixed = Math.min(day, Math.max(old.begindatum, old.einddatum + r.pick([-3, -2, -1, 1, 2])));
  // The stop's stop-start holds unless a deletion stands in the output; one after the last day is not written.
  if (fixed === old.einddatum && held.relation) w.sim.settle(held.relation, true);
  yield moment;
  if (fixed === old.einddatum) return;
  const code = codeFor(j.standard, 307);
  const side: Side = { message: sent.ref, table: `${code}_StopProduct`, row: [1] };
  yield* send307(
    w,
    j,
    [
      { tw: first.tw, row: { ...old, status: '3' } },
      { tw: first.tw, row: { ...old, einddatum: fixed } },
    ],
    [side, undefined],
    undefined,
    held.relation,
  );
}

/** Temporary stop (20); then a restart (new 305) or a definitive stop with Einddatum ≥ the temporary one (OP377–379). */
function* temporaryStop(
  w: World,
  j: JourneyState,
  tws: readonly Toewijzing[],
  endReason: string,
): Steps<boolean> {
  const r = j.random;
  const sim = w.sim;
  const tw = tws[0] as Toewijzing;
  if (!tw.start) return false;
  const pauseDay = sim.today() - r.int(0, 3);
  const wd = sim.delayWithin('stop 307', 5, r, [0, 1, 2]);
  yield on(w, j, addWorkingDays(pauseDay, wd));
  tw.careTo = pauseDay;
  yield* send307(w, j, [{ tw, row: stopRow(tw, '20', pauseDay) }]);
  yield on(w, j, pauseDay + r.int(14, 60));
  if (r.chance(0.6) && (tw.current.einddatum ?? Number.POSITIVE_INFINITY) > sim.today() + 14) {
    const restart = sim.today() - r.int(0, 4);
    yield on(w, j, addWorkingDays(restart, sim.delayWithin('start 305', 5, r, [0, 1, 1, 2])));
    yield* send305(w, j, [{ tw, row: startRow(tw, Math.max(restart, pauseDay + 1)) }]);
    tw.careTo = undefined;
    tw.careFrom = Math.max(restart, pauseDay + 1);
    tw.declaredFrom = Math.max(tw.declaredFrom ?? 0, tw.careFrom);
    w.declarations.add(tw);
    return false;
  }
  // Became definitive around now; Einddatum ≥ the temporary one (TR414), reported within 5 working days.
  const definitive = Math.max(pauseDay, sim.today() - r.int(0, 4));
  yield on(w, j, addWorkingDays(definitive, sim.delayWithin('stop 307', 5, r, [0, 1, 1, 2])));
  yield* send307(w, j, [
    {
      tw,
      row: stopRow(
        tw,
        j.standard === 'ijw' ? r.pick(['31', '33', endReason]) : r.pick(['19', '22', endReason]),
        definitive,
      ),
    },
  ]);
  tw.ended = true;
  const others = tws.filter((t) => t !== tw && !t.ended);
  if (others.length > 0)
    yield* stopAll(
      w,
      j,
      others,
      Math.min(...others.map((t) => t.current.einddatum ?? definitive)),
      endReason,
    );
  return true;
}

/**
 * 317: a change request listing every current toewijzing (TR349). Honoured: a 301 ends the changed one on
 * GewensteIngangsdatum − 1 (RedenWijziging 12) and adds a new number from then; every product carries the
 * request's ReferentieAanbieder (IV093). The provider stops the old one (37) and starts the new one.
 */
function* changeRequest(w: World, j: JourneyState, tws: Toewijzing[]): Steps<Toewijzing[]> {
  const r = j.random;
  const sim = w.sim;
  const current = j.tws.filter(
    (t) => !t.ended && !t.deleted && (t.current.einddatum ?? Number.POSITIVE_INFINITY) > sim.today() + 21,
  );
  const target = current.find((t) => tws.includes(t) && t.current.omvang);
  if (!target?.current.omvang) return tws;
  const gewenst = sim.today() + r.int(7, 21);
  const oldOmvang = target.current.omvang;
  const cp = target.catalogProduct;
  let volume = oldOmvang.volume + r.pick([-1, 1, 2, 3]) * Math.max(1, Math.round(oldOmvang.volume / 4));
  volume = Math.max(1, volume === oldOmvang.volume ? volume + 1 : volume);
  const newOmvang = { ...oldOmvang, volume };
  // Sometimes the provider also asks for a product the client does not have yet (NieuwProduct).
  const candidates = productsOf(w, j).filter(
    (p) => !current.some((t) => t.catalogProduct.categorie === p.categorie),
  );
  const extra = candidates.length > 0 && r.chance(0.3) ? r.pick(candidates) : undefined;
  const extraEnd = target.current.einddatum ?? addMonths(gewenst, 6);
  const unchanged = current.filter((t) => t !== target);
  const v: Verzoek = {
    referentie: w.nextReferentie(j.aanbieder.agb),
    reden: r.chance(0.6) ? '2' : '1',
    ongewijzigd: unchanged.map((t) => t.nummer),
    teWijzigen: [
      {
        nummer: target.nummer,
        gewensteIngangsdatum: gewenst,
        ...(target.current.einddatum !== undefined ? { einddatum: target.current.einddatum } : {}),
        omvang: newOmvang,
      },
    ],
    nieuw: extra
      ? [
          {
            product: { categorie: extra.categorie, code: extra.code },
            gewensteIngangsdatum: gewenst,
            einddatum: extraEnd,
            omvang: omvangFor(extra, r),
          },
        ]
      : [],
  };
  const code = codeFor(j.standard, 317);
  const vowSides: Side[] = [];
  const sent = yield* reliably(
    w,
    j,
    (force) => ({
      standard: j.standard,
      n: 317,
      afzender: j.aanbieder.agb,
      ontvanger: j.gemeente.code,
      gemeente: j.gemeente.code,
      journey: j.id,
      build: (h, style, retour) => verzoekOmWijziging(h, j.person, v, style, retour),
      rowCount: v.ongewijzigd.length + v.teWijzigen.length + v.nieuw.length,
      rowRejectCodes: ['9350', '9351'],
      forceAccept: force,
    }),
    (s) => {
      vowSides.push({ message: s.ref, table: code, row: [] });
      // Each listed toewijzing, by number, to every 301 row that carried it up to the 317 (TR349–TR351).
      const day = s.header.dagtekening;
      for (const [i, t] of unchanged.entries()) {
        t.linkFrom(
          sim,
          'wijziging-toewijzing',
          { message: s.ref, table: `${code}_OngewijzigdProduct`, row: [i + 1] },
          day,
        );
      }
      target.linkFrom(
        sim,
        'wijziging-toewijzing',
        { message: s.ref, table: `${code}_TeWijzigenProduct`, row: [1] },
        day,
      );
    },
  );
  const wd = sim.delayWithin('antwoord 317', 5, r, [1, 2, 3, 3, 4, 5]);
  yield on(w, j, addWorkingDays(dayOf(sent.moment), wd), gemeenteBatch(j));
  if (r.chance(0.15)) {
    yield* send319(
      w,
      j,
      { referentie: v.referentie, verzoekAntwoord: '1', redenAfwijzing: r.pick(['1', '2', '4', '7']) },
      vowSides,
    );
    return tws;
  }
  change(w, target, {
    einddatum: Math.max(gewenst - 1, target.current.ingangsdatum),
    redenWijziging: '12',
    referentie: v.referentie,
  });
  target.requestSides = vowSides;
  const successor = newToewijzing(w, j, cp, {
    ingangsdatum: gewenst,
    einddatum:
      target.current.einddatum === gewenst - 1
        ? (v.teWijzigen[0]?.einddatum ?? addMonths(gewenst, 6))
        : addMonths(gewenst, 6),
    omvang: newOmvang,
    referentie: v.referentie,
  });
  successor.requestSides = vowSides;
  const asked = v.nieuw[0];
  const added =
    extra && asked
      ? newToewijzing(w, j, extra, {
          ingangsdatum: gewenst,
          einddatum: extraEnd,
          omvang: asked.omvang,
          referentie: v.referentie,
        })
      : undefined;
  if (added) added.requestSides = vowSides;
  for (const t of current) {
    if (t === target) continue;
    change(w, t, { referentie: v.referentie });
    t.requestSides = vowSides;
  }
  yield* send301(w, j);
  // Provider: stop the old toewijzing (37) and start the new one, after the change date.
  const wdStop = sim.delayWithin('stop 307', 5, r, [0, 1, 2, 3]);
  yield on(w, j, addWorkingDays(Math.max(gewenst, sim.today()), wdStop));
  if (target.start) yield* send307(w, j, [{ tw: target, row: stopRow(target, '37', gewenst - 1) }]);
  target.careTo = gewenst - 1;
  target.ended = true;
  const starting = added ? [successor, added] : [successor];
  yield* send305(
    w,
    j,
    starting.map((tw) => ({ tw, row: startRow(tw, gewenst) })),
  );
  for (const tw of starting) {
    tw.careFrom = gewenst;
    w.declarations.add(tw);
  }
  const next = tws.map((t) => (t === target ? successor : t));
  return added ? [...next, added] : next;
}

/** The client moved: the new gemeente (woonplaatsbeginsel) assigns the same care from the day after. */
function* moveTo(w: World, j: JourneyState, tws: readonly Toewijzing[], from: Day): Steps {
  const r = j.random;
  const others = w.gemeenten.filter((g) => g.code !== j.gemeente.code);
  if (others.length === 0) return;
  j.gemeente = r.pick(others);
  j.person = { ...j.person, address: address(r, j.gemeente) };
  j.tws = [];
  yield on(w, j, Math.max(w.sim.today(), from - r.int(0, 5)), gemeenteBatch(j));
  const fresh = tws.map((t) =>
    newToewijzing(w, j, t.catalogProduct, {
      ingangsdatum: Math.max(from, w.sim.today() - 30),
      einddatum: addMonths(from, r.int(t.catalogProduct.months[0], t.catalogProduct.months[1])),
      omvang: t.current.omvang,
    }),
  );
  yield* send301(w, j);
  yield* care(w, j, fresh);
}
