/**
 * Monthly declarations (323) per provider per gemeente per domain, and the gemeente's answer (325).
 * One declaration period is one calendar month (OP280); a prestatie covers one month of one toewijzing,
 * inside the toewijzing (OP367) unless the provider gets it wrong on purpose, and then the 325 rejects it.
 */

import { addWorkingDays, type Day, dayOf, isoDay, monthEnd, monthStart } from '../domain/calendar.js';
import type { Standard } from '../schema/model.js';
import { codeFor, declaratie, declaratieAntwoord } from './messages.js';
import type { Declaratie, DeclaratieClient, Header, Prestatie, RejectedPrestaties } from './model.js';
import type { MessageRef, Side } from './output.js';
import type { Random } from './random.js';
import { refOf, type Sim } from './sim.js';
import type { Toewijzing } from './toewijzing.js';

/** A deliberate mistake in a prestatie and the code the gemeente rejects it with. */
type Mistake = 'none' | 'before-start' | 'volume' | 'tarief';

/** A prestatie as declared: what it was for, and what was wrong with it on purpose. */
interface Declared {
  readonly tw: Toewijzing;
  readonly prestatie: Prestatie;
  readonly mistake: Mistake;
  readonly side: Side;
}

interface Book {
  readonly gemeente: string;
  readonly agb: string;
  readonly standard: Standard;
  readonly tws: Set<Toewijzing>;
  /** Rejected prestaties the provider declares again, corrected, with its next declaration. */
  readonly again: Declared[];
  armed: boolean;
  declaraties: number;
}

export class Declarations {
  readonly #books = new Map<string, Book>();
  #prestatieCounter = new Map<string, number>();
  /** Share of prestaties deliberately wrong. */
  readonly mistakeRate = 0.03;
  readonly creditRate = 0.02;

  constructor(
    readonly sim: Sim,
    readonly random: Random,
  ) {}

  /** Care on this toewijzing has started: from now on its provider declares it monthly. */
  add(tw: Toewijzing): void {
    const key = `${tw.gemeente}|${tw.agb}|${tw.standard}`;
    let book = this.#books.get(key);
    if (!book) {
      book = {
        gemeente: tw.gemeente,
        agb: tw.agb,
        standard: tw.standard,
        tws: new Set(),
        again: [],
        armed: false,
        declaraties: 0,
      };
      this.#books.set(key, book);
    }
    book.tws.add(tw);
    if (!book.armed) this.#arm(book, monthStart(this.sim.today()));
  }

  /** Schedules the declaration for the month starting at `period`. */
  #arm(book: Book, period: Day): void {
    book.armed = true;
    const next = monthEnd(period) + 1;
    const day = addWorkingDays(next, this.random.int(1, 12));
    this.sim.s.at(this.sim.momentOn(day, this.random), () => this.#declare(book, period));
  }

  #nextReferentie(agb: string): string {
    const n = (this.#prestatieCounter.get(agb) ?? 0) + 1;
    this.#prestatieCounter.set(agb, n);
    return `PR${String(n).padStart(9, '0')}`;
  }

  #declare(book: Book, period: Day): void {
    const rnd = this.random;
    const periodEnd = monthEnd(period);
    const byClient = new Map<
      string,
      { prestaties: Prestatie[]; sources: Toewijzing[]; mistakes: Mistake[]; credits: (Side | undefined)[] }
    >();
    const push = (tw: Toewijzing, p: Prestatie, mistake: Mistake, creditOf?: Side) => {
      let c = byClient.get(tw.bsn);
      if (!c) {
        c = { prestaties: [], sources: [], mistakes: [], credits: [] };
        byClient.set(tw.bsn, c);
      }
      c.prestaties.push(p);
      c.sources.push(tw);
      c.mistakes.push(mistake);
      c.credits.push(creditOf);
    };
    // What the last 325 rejected, corrected: inside the toewijzing, the right volume and tariff.
    for (const x of book.again.splice(0)) {
      const tp = x.tw.current;
      const begin = Math.max(x.prestatie.begindatum, tp.ingangsdatum);
      const end = Math.min(x.prestatie.einddatum, tp.einddatum ?? Number.POSITIVE_INFINITY);
      if (x.tw.deleted || begin > end) continue;
      const p =
        x.mistake === 'none'
          ? { ...x.prestatie, referentieNummer: this.#nextReferentie(book.agb) }
          : this.#prestatie(book.agb, x.tw, begin, end, 'none', rnd);
      if (p) push(x.tw, p, 'none');
    }
    for (const tw of [...book.tws]) {
      if (tw.deleted || tw.careFrom === undefined) {
        if (tw.deleted) book.tws.delete(tw);
        continue;
      }
      // Correct an earlier month: credit the old debet and declare it again (IV086, TR323).
      if (tw.lastDebet && rnd.chance(this.creditRate)) {
        const old = tw.lastDebet.prestatie;
        push(
          tw,
          {
            ...old,
            referentieNummer: this.#nextReferentie(book.agb),
            vorigReferentieNummer: old.referentieNummer,
            debetCredit: 'C',
          },
          'none',
          tw.lastDebet.side,
        );
        const volume = Math.max(1, old.volume - rnd.int(0, Math.max(1, Math.floor(old.volume / 4))));
        push(
          tw,
          { ...old, referentieNummer: this.#nextReferentie(book.agb), volume, bedrag: volume * old.tarief },
          'none',
        );
        tw.lastDebet = undefined;
      }
      const from = tw.declaredFrom ?? tw.careFrom;
      const tp = tw.current;
      const careEnd = Math.min(
        tw.careTo ?? Number.POSITIVE_INFINITY,
        tp.einddatum ?? Number.POSITIVE_INFINITY,
      );
      for (let m = monthStart(from); m <= period; m = monthEnd(m) + 1) {
        let begin = Math.max(m, from, tp.ingangsdatum);
        const end = Math.min(monthEnd(m), careEnd);
        if (begin > end || tw.remaining <= 0) continue;
        let mistake: Mistake = 'none';
        if (rnd.chance(this.mistakeRate)) {
          // Before the toewijzing only when it starts within this month; else too much volume or a wrong tariff.
          mistake = tp.ingangsdatum > m ? 'before-start' : rnd.chance(0.5) ? 'volume' : 'tarief';
          if (mistake === 'before-start') begin = m;
        }
        const p = this.#prestatie(book.agb, tw, begin, end, mistake, rnd);
        if (p) push(tw, p, mistake);
      }
      tw.declaredFrom = Math.min(periodEnd, careEnd) + 1;
      if (tw.careTo !== undefined && tw.declaredFrom > careEnd) book.tws.delete(tw);
      else if (tw.ended || (tp.einddatum !== undefined && tw.declaredFrom > tp.einddatum))
        book.tws.delete(tw);
    }
    if (byClient.size > 0) this.#send(book, period, periodEnd, byClient);
    if (book.tws.size > 0 || book.again.length > 0) this.#arm(book, periodEnd + 1);
    else book.armed = false;
  }

  #prestatie(
    agb: string,
    tw: Toewijzing,
    begin: Day,
    end: Day,
    mistake: Mistake,
    rnd: Random,
  ): Prestatie | undefined {
    const tp = tw.current;
    const cp = tw.catalogProduct;
    const o = tp.omvang;
    if (!o) return undefined;
    const days = end - begin + 1;
    const monthDays = monthEnd(begin) - monthStart(begin) + 1;
    let volume: number;
    if (o.frequentie === '2') volume = Math.round((o.volume * days * (0.6 + 0.4 * rnd.next())) / 7);
    else if (o.frequentie === '4') {
      volume =
        cp.eenheid === '14'
          ? Math.min(days, o.volume)
          : Math.round((o.volume * days * (0.7 + 0.3 * rnd.next())) / monthDays);
    } else if (o.frequentie === '6') {
      volume = o.volume === 1 ? 1 : Math.min(tw.remaining, Math.round((o.volume / 6) * (0.5 + rnd.next())));
      tw.remaining -= volume;
    } else volume = Math.round(o.volume * days * 0.9);
    volume = Math.max(1, volume);
    if (mistake === 'volume')
      volume = o.frequentie === '6' ? o.volume + rnd.int(1, 5) : Math.round(o.volume * 6) + rnd.int(1, 10);
    const tarief = mistake === 'tarief' ? cp.tarief + rnd.int(1, 9) * 100 : cp.tarief;
    return {
      referentieNummer: this.#nextReferentie(agb),
      nummer: tp.nummer,
      categorie: cp.categorie,
      productCode: cp.code,
      begindatum: begin,
      einddatum: end,
      volume,
      eenheid: cp.eenheid,
      tarief,
      bedrag: volume * tarief,
      debetCredit: 'D',
    };
  }

  #send(
    book: Book,
    period: Day,
    periodEnd: Day,
    byClient: Map<
      string,
      { prestaties: Prestatie[]; sources: Toewijzing[]; mistakes: Mistake[]; credits: (Side | undefined)[] }
    >,
  ): void {
    const sim = this.sim;
    const rnd = this.random;
    const code = codeFor(book.standard, 323);
    const today = sim.today();
    book.declaraties++;
    const d: Declaratie = {
      nummer: `D${isoDay(period).slice(2, 7).replace('-', '')}${String(book.declaraties).padStart(5, '0')}`,
      periodeBegin: period,
      periodeEind: periodEnd,
      dagtekening: today,
      clienten: [...byClient.entries()].map(
        ([bsn, c]): DeclaratieClient => ({ bsn, prestaties: c.prestaties }),
      ),
    };
    const sent = sim.send({
      standard: book.standard,
      n: 323,
      afzender: book.agb,
      ontvanger: book.gemeente,
      gemeente: book.gemeente,
      journey: null,
      build: (h, style) => declaratie(h, d, style),
      rowCount: 0,
      rowRejectCodes: [],
    });
    const ref = sent.ref;
    const table = `${code}_Prestatie`;
    const rejected = new Map<number, Map<number, readonly string[]>>();
    const reject = (ci: number, pi: number, code: string) => {
      let own = rejected.get(ci);
      if (!own) {
        own = new Map();
        rejected.set(ci, own);
      }
      own.set(pi, [code]);
    };
    const entries = [...byClient.values()];
    const declared: Declared[] = [];
    entries.forEach((c, ci) => {
      c.prestaties.forEach((p, pi) => {
        const side: Side = { message: ref, table, row: [ci + 1, pi + 1] };
        const tw = c.sources[pi] as Toewijzing;
        declared.push({ tw, prestatie: p, mistake: c.mistakes[pi] as Mistake, side });
        tw.linkFrom(sim, 'prestatie-toewijzing', side, today);
        const credited = c.credits[pi];
        if (credited) sim.relation('credit-debet', side, credited);
        const mistake = c.mistakes[pi];
        if (mistake === 'before-start') reject(ci, pi, '9307');
        else if (mistake === 'volume') reject(ci, pi, '9321');
        else if (mistake === 'tarief') reject(ci, pi, '0611');
        else if (p.debetCredit === 'D' && !credited) tw.lastDebet = { side, prestatie: p };
      });
    });
    const headerReject = rnd.chance(sim.rates.errors / 2);
    const wd = sim.delayWithin('antwoord 325', 10, rnd, [2, 3, 4, 5, 5, 6, 7, 8, 9, 10]);
    const answerDay = addWorkingDays(dayOf(sent.moment), wd);
    const moment = Math.max(sent.moment + 60_000, sim.momentOn(answerDay, rnd, rnd.chance(0.5)));
    sim.s.at(moment, () => {
      this.#answer(book, sent.header, d, headerReject ? new Map() : rejected, headerReject, ref);
      this.#declareAgain(book, headerReject ? declared : declared.filter((x) => x.mistake !== 'none'));
    });
  }

  /** Most of what a 325 rejects, the provider declares again with its next declaration. */
  #declareAgain(book: Book, rejected: readonly Declared[]): void {
    for (const x of rejected) {
      if (x.prestatie.debetCredit !== 'D' || !this.random.chance(0.85)) continue;
      // A debet the gemeente never accepted is not the one a later credit reverses.
      if (x.tw.lastDebet?.side === x.side) x.tw.lastDebet = undefined;
      book.again.push(x);
    }
    if (book.again.length > 0 && !book.armed) this.#arm(book, monthStart(this.sim.today()));
  }

  #answer(
    book: Book,
    declaratieHeader: Header,
    d: Declaratie,
    rejected: RejectedPrestaties,
    headerReject: boolean,
    declaratieRef: MessageRef,
  ): void {
    const sim = this.sim;
    const code = codeFor(book.standard, 325);
    const h: Header = {
      standard: book.standard,
      code,
      afzender: book.gemeente,
      ontvanger: book.agb,
      identificatie: sim.nextId(book.gemeente, code),
      dagtekening: sim.today(),
    };
    const ref = refOf(h);
    const content = { declaratie: d, rejected, ...(headerReject ? { headerCodes: ['0001'] } : {}) };
    sim.emitPlain(sim.s.now, ref, book.gemeente, null, book.gemeente, book.agb, (style) =>
      declaratieAntwoord(h, declaratieHeader, content, style),
    );
    sim.relation(
      'declaratie-antwoord',
      { message: ref, table: code, row: [] },
      { message: declaratieRef, table: declaratieRef.code, row: [] },
    );
    if (headerReject) return;
    if (rejected.size === 0) return;
    // Ordinals in the 325: only clients with a rejected prestatie, only rejected prestaties, in 323 order.
    let c325 = 0;
    d.clienten.forEach((c, ci) => {
      const own = rejected.get(ci);
      if (!own) return;
      c325++;
      let p325 = 0;
      c.prestaties.forEach((_, pi) => {
        if (!own.has(pi)) return;
        p325++;
        sim.relation(
          'prestatie-antwoord',
          { message: ref, table: `${code}_Prestatie`, row: [c325, p325] },
          { message: declaratieRef, table: `${declaratieRef.code}_Prestatie`, row: [ci + 1, pi + 1] },
        );
      });
    });
  }
}
