/**
 * Journey state of one toewijzing (ToewijzingNummer at one gemeente), and the ground-truth relations that
 * point at its 301 rows. A 301 is a full snapshot (OP087), so a number recurs in many 301s; every row that
 * carries it up to a source's Dagtekening is a target, which makes the link set independent of order.
 */

import type { Day } from '../domain/calendar.js';
import type { Standard } from '../schema/model.js';
import type { CatalogProduct } from './catalog.js';
import type { Prestatie, StartRow, ToegewezenProductRow } from './model.js';
import type { MessageRef, RelationType, Side } from './output.js';
import type { Sim } from './sim.js';

interface PendingSource {
  readonly day: Day;
  readonly type: RelationType;
  readonly from: Side;
}

export interface StartEntry {
  readonly side: Side;
  readonly row: StartRow;
}

export class Toewijzing {
  /** Every 301 ToegewezenProduct row that carried this number, with its Dagtekening. */
  readonly #rows301: { readonly side: Side; readonly day: Day }[] = [];
  /** Sources sent today: a 301 written later today still counts for them (Dagtekening equal). */
  #today: PendingSource[] = [];
  /** 315 AangevraagdProduct rows / 317 messages whose ReferentieAanbieder this toewijzing carries. */
  requestSides: Side[] = [];
  /**
   * 319 messages "in onderzoek" (VerzoekAntwoord 2) sent for a ReferentieAanbieder before the 301 that
   * honours it: each links to every later 301 row that still carries that ReferentieAanbieder.
   */
  answerSides: { readonly side: Side; readonly day: Day; readonly referentie: string }[] = [];
  /** Latest version as the gemeente would send it now. */
  current: ToegewezenProductRow;
  /** Changed since the last 301 (OP087: a snapshot includes current and changed toewijzingen). */
  changed = true;
  /** The accepted, not cancelled 305 entry the care runs on. */
  start: StartEntry | undefined;
  /** Care delivered from (start Begindatum) up to `careTo` (inclusive, undefined = ongoing). */
  careFrom: Day | undefined;
  careTo: Day | undefined;
  /** First day not yet declared. */
  declaredFrom: Day | undefined;
  /** Volume left for a toewijzing with frequentie 6 (total). */
  remaining: number;
  /** Last approved debet prestatie, a candidate for a credit/debet correction. */
  lastDebet: { readonly side: Side; readonly prestatie: Prestatie } | undefined;
  deleted = false;
  /** Set after the definitive stop: no more changes. */
  ended = false;

  constructor(
    readonly gemeente: string,
    readonly standard: Standard,
    readonly agb: string,
    readonly bsn: string,
    readonly catalogProduct: CatalogProduct,
    readonly journey: string,
    row: ToegewezenProductRow,
  ) {
    this.current = row;
    this.remaining = row.omvang?.frequentie === '6' ? row.omvang.volume : Number.POSITIVE_INFINITY;
  }

  get nummer(): number {
    return this.current.nummer;
  }

  /** Records one 301 row and emits the relations that end on it. */
  record301(sim: Sim, message: MessageRef, table: string, index: number, day: Day): void {
    const side: Side = { message, table, row: [index + 1] };
    // Rows are recorded in sending order and a version's Toewijzingsdatum+tijd only grows (a resend keeps
    // it, IV013): the previous row is the previous version by Toewijzingsdatum+tijd, as the koppeltabel orders.
    const previous = this.#rows301[this.#rows301.length - 1];
    if (previous) sim.relation('toewijzing-versie', side, previous.side);
    if (this.current.referentie !== undefined) {
      for (const from of this.requestSides) sim.relation('verzoek-toewijzing', from, side);
    }
    for (const a of this.answerSides) {
      if (a.referentie === this.current.referentie && a.day <= day)
        sim.relation('antwoord-toewijzing', a.side, side);
    }
    for (const s of this.#today) if (s.day >= day) sim.relation(s.type, s.from, side);
    this.#rows301.push({ side, day });
  }

  /** A row that refers to this toewijzing by number: relations to every 301 row up to `day`. */
  linkFrom(sim: Sim, type: RelationType, from: Side, day: Day): void {
    for (const r of this.#rows301) if (r.day <= day) sim.relation(type, from, r.side);
    if (this.#today.length > 0 && (this.#today[0] as PendingSource).day !== day) this.#today = [];
    this.#today.push({ day, type, from });
  }
}
