/**
 * The run's shared machinery: the clock (scheduler), identification numbers, sending a message through
 * the hub (with its retour, a duplicate passage or a broken first attempt) and recording ground truth.
 */

import { addWorkingDays, DAY_MS, type Day, dayOf, isoDay } from '../domain/calendar.js';
import type { Standard } from '../schema/model.js';
import { codeFor, retourCode } from './messages.js';
import type { Header, RetourInfo } from './model.js';
import { type MessageRef, markDropped, type Output, type RelationType, type Side } from './output.js';
import type { Random } from './random.js';
import type { Scheduler } from './scheduler.js';
import { keep, STYLES, type StyleName } from './xml-writer.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

export interface SimRates {
  readonly duplicates: number;
  readonly errors: number;
  /** Share of deadlines that are missed. */
  readonly late: number;
}

export interface SendSpec {
  readonly standard: Standard;
  /** 301, 305, … */
  readonly n: number;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly gemeente: string;
  readonly journey: string | null;
  /** Builds the message (retour = undefined) or its retour. */
  readonly build: (h: Header, style: StyleName, retour?: RetourInfo) => Uint8Array;
  /** Number of rows of the main repeating class (for class-level retour codes). */
  readonly rowCount: number;
  /** Codes the receiver may give a row when it rejects the message; empty = header-level 0001 only. */
  readonly rowRejectCodes: readonly string[];
  /** Never reject (a resend after an earlier rejection). */
  readonly forceAccept?: boolean;
}

export interface Sent {
  readonly header: Header;
  readonly ref: MessageRef;
  readonly moment: number;
  /** False when the retour rejected it: the message counts as not sent (OP286), and the sender resends. */
  readonly accepted: boolean;
  /**
   * True when a rejecting retour is in the output. A rejection dated after the run's last day is never
   * written, so the message stands unrejected there: the ground truth relates it as if accepted.
   */
  readonly visiblyRejected: boolean;
  /** When the retour passes the hub. */
  readonly retourMoment: number;
}

const HAS_RETOUR = new Set([301, 305, 307, 315, 317, 319]);

/** How to spell a message again (for a re-serialised duplicate), without building a closure per message. */
interface Rebuild {
  readonly build?: SendSpec['build'];
  readonly header?: Header;
  readonly retour?: RetourInfo;
  readonly plain?: (style: StyleName) => Uint8Array;
}

export function refOf(h: Header): MessageRef {
  return {
    code: h.code,
    afzender: h.afzender,
    ontvanger: h.ontvanger,
    identificatie: h.identificatie,
    dagtekening: isoDay(h.dagtekening),
  };
}

export function retourRefOf(h: Header, r: { identificatie: string; dagtekening: Day }): MessageRef {
  return {
    code: retourCode(h.code),
    afzender: h.afzender,
    ontvanger: h.ontvanger,
    identificatie: h.identificatie,
    dagtekening: isoDay(h.dagtekening),
    identificatieRetour: r.identificatie,
    dagtekeningRetour: isoDay(r.dagtekening),
  };
}

export function mainTable(ref: MessageRef): string {
  return ref.code;
}

/** A relation that a later message may still undo; see `Sim.hold`. */
export interface HeldRelation {
  readonly type: RelationType;
  readonly from: Side;
  readonly to: Side;
}

export class Sim {
  readonly #ids = new Map<string, Map<string, number>>();
  readonly #idBase = new Map<string, number>();
  readonly #styles = new Map<string, number>();
  /** Deadline counters: [kept, missed] per kind, for the summary. */
  readonly deadlines = new Map<string, [number, number]>();
  readonly #held = new Set<HeldRelation>();

  constructor(
    readonly s: Scheduler,
    readonly out: Output,
    readonly random: Random,
    readonly rates: SimRates,
  ) {}

  registerStyle(org: string, style: number): void {
    this.#styles.set(org, style);
  }

  style(org: string): StyleName {
    return STYLES[(this.#styles.get(org) ?? 0) % STYLES.length] as StyleName;
  }

  today(): Day {
    return dayOf(this.s.now);
  }

  /** Identificatie, unique per sender per message type (TR056), at most 12 characters. */
  nextId(sender: string, code: string): string {
    let counters = this.#ids.get(sender);
    if (!counters) {
      counters = new Map();
      this.#ids.set(sender, counters);
    }
    const n = (counters.get(code) ?? 0) + 1;
    counters.set(code, n);
    let base = this.#idBase.get(sender);
    if (base === undefined) {
      base = this.random.int(1, 9) * 10 ** this.random.int(6, 9);
      this.#idBase.set(sender, base);
    }
    const style = this.#styles.get(sender) ?? 0;
    if (style % 3 === 1) return `${code.slice(-3)}${String((base % 100_000_000) + n).padStart(9, '0')}`;
    if (style % 3 === 2) return `M${n.toString(36).toUpperCase().padStart(8, '0')}`;
    return String(base + n);
  }

  /** A moment during office hours (or the night batch of a municipality's system) on `day` or the next working day. */
  momentOn(day: Day, random: Random, batch = false): number {
    // Messages are made on working days (office systems and their nightly batches).
    day = addWorkingDays(day, 0);
    const minutes = batch ? random.int(60, 240) : random.int(6 * 60 + 30, 16 * 60 + 30);
    const t = day * DAY_MS + minutes * MINUTE + random.int(0, 59_999);
    return Math.max(t, this.s.now);
  }

  /** Working days to wait for a step with a deadline of `limit` working days; sometimes late. */
  delayWithin(kind: string, limit: number, random: Random, typical: readonly number[]): number {
    const late = random.chance(this.rates.late);
    this.countDeadline(kind, late);
    if (late) return limit + 1 + Math.floor(random.exponential(3));
    return Math.min(limit, random.pick(typical));
  }

  /** Counts a deadline kept or missed (only inside the written period). */
  countDeadline(kind: string, late: boolean): void {
    if (this.s.now < this.out.startMoment) return;
    const counts = this.deadlines.get(kind) ?? [0, 0];
    counts[late ? 1 : 0]++;
    this.deadlines.set(kind, counts);
  }

  relation(type: RelationType, from: Side, to: Side): void {
    this.out.relation(type, from, to);
  }

  /** True when a message passing the hub at `moment` is written (the run's last day ends the output). */
  written(moment: number): boolean {
    return moment <= this.s.end;
  }

  /**
   * A relation that holds unless a later message undoes it (a deletion of the stop, IV008). The ground
   * truth cannot take a relation back, so it waits: `settle` writes or drops it, and `close` writes those
   * still waiting, whose undoing message falls after the last day and so is not in the output.
   */
  hold(type: RelationType, from: Side, to: Side): HeldRelation {
    const h: HeldRelation = { type, from, to };
    this.#held.add(h);
    return h;
  }

  settle(h: HeldRelation, holds: boolean): void {
    if (!this.#held.delete(h)) return;
    if (holds) this.relation(h.type, h.from, h.to);
  }

  /** At the end of the run: the relations nothing undid in the output hold. */
  close(): void {
    for (const h of this.#held) this.relation(h.type, h.from, h.to);
    this.#held.clear();
  }

  /**
   * Sends a heen message now: writes it (after a broken first attempt, sometimes), maybe a duplicate
   * passage later, and schedules the receiver's retour.
   */
  send(spec: SendSpec): Sent {
    const code = codeFor(spec.standard, spec.n);
    const today = this.today();
    const header: Header = {
      standard: spec.standard,
      code,
      afzender: spec.afzender,
      ontvanger: spec.ontvanger,
      identificatie: this.nextId(spec.afzender, code),
      dagtekening: today,
    };
    const ref = refOf(header);
    const style = this.style(spec.afzender);
    const xml = spec.build(header, style);
    let moment = this.s.now;
    if (this.rates.errors > 0 && this.random.chance(this.rates.errors / 4)) {
      // A first attempt the hub or receiver could not read; the sender fixes and resends the same day.
      this.#emitBroken(moment, xml, spec.afzender, spec.ontvanger, code, spec.gemeente, spec.journey);
      const endOfDay = today * DAY_MS + 23 * HOUR;
      moment = Math.min(endOfDay, moment + this.random.int(20, 240) * MINUTE);
    }
    this.#emitMessage(moment, ref, spec, spec.afzender, spec.ontvanger, xml, { build: spec.build, header });
    if (!HAS_RETOUR.has(spec.n)) {
      return { header, ref, moment, accepted: true, visiblyRejected: false, retourMoment: moment };
    }
    const rejected = !spec.forceAccept && this.random.chance(this.rates.errors);
    const wd = this.delayWithin(`retour ${spec.n + 1}`, 3, this.random, [0, 0, 0, 0, 0, 1, 1, 1, 2, 3]);
    const retourDay = addWorkingDays(today, wd);
    const retourMoment =
      retourDay === today
        ? moment + this.random.int(2, 90) * MINUTE
        : Math.max(moment, this.momentOn(retourDay, this.random));
    let retourInfo: RetourInfo;
    const id = this.nextId(spec.ontvanger, retourCode(code));
    if (!rejected) retourInfo = { identificatie: id, dagtekening: retourDay };
    else if (spec.rowRejectCodes.length > 0 && spec.rowCount > 0 && this.random.chance(0.7)) {
      const bad = this.random.int(0, spec.rowCount - 1);
      const rows = Array.from({ length: spec.rowCount }, (_, i) =>
        i === bad ? [this.random.pick(spec.rowRejectCodes)] : ['0200'],
      );
      retourInfo = { identificatie: id, dagtekening: retourDay, classCodes: { client: ['0200'], rows } };
    } else retourInfo = { identificatie: id, dagtekening: retourDay, headerCodes: ['0001'] };
    const retourRef = retourRefOf(header, retourInfo);
    this.s.at(retourMoment, () => {
      const rStyle = this.style(spec.ontvanger);
      const rxml = spec.build(header, rStyle, retourInfo);
      this.#emitMessage(this.s.now, retourRef, spec, spec.ontvanger, spec.afzender, rxml, {
        build: spec.build,
        header,
        retour: retourInfo,
      });
      this.relation(
        'retour',
        { message: retourRef, table: retourRef.code, row: [] },
        { message: ref, table: ref.code, row: [] },
      );
    });
    return {
      header,
      ref,
      moment,
      accepted: !rejected,
      visiblyRejected: rejected && this.written(retourMoment),
      retourMoment,
    };
  }

  /** Writes a message that is not a heen-with-retour (325) through the same hub path. */
  emitPlain(
    moment: number,
    ref: MessageRef,
    gemeente: string,
    journey: string | null,
    verzender: string,
    ontvanger: string,
    build: (style: StyleName) => Uint8Array,
  ): void {
    const xml = build(this.style(verzender));
    this.#emitMessage(moment, ref, { gemeente, journey }, verzender, ontvanger, xml, { plain: build });
  }

  #emitMessage(
    moment: number,
    ref: MessageRef,
    spec: Pick<SendSpec, 'gemeente' | 'journey'>,
    verzender: string,
    ontvanger: string,
    xml: Uint8Array,
    again: Rebuild,
  ): void {
    if (moment < this.out.startMoment) {
      // Passed the hub before the written period (warm-up): not in the output, nor its duplicates.
      markDropped(ref);
      return;
    }
    const truth = {
      status: 'message' as const,
      code: ref.code,
      message: ref,
      journey: spec.journey,
      gemeente: spec.gemeente,
    };
    // Messages are built into one shared buffer: bytes written later need their own copy.
    if (moment <= this.s.now) this.out.exchange(this.s.now, xml, verzender, ontvanger, truth);
    else {
      const kept = keep(xml);
      this.s.at(moment, () => this.out.exchange(this.s.now, kept, verzender, ontvanger, truth));
    }
    if (this.rates.duplicates > 0 && this.random.chance(this.rates.duplicates)) {
      // Same message through the hub again: a resend or an overlapping extract, minutes to days later.
      const later =
        moment +
        Math.round(
          this.random.chance(0.7) ? this.random.int(1, 180) * MINUTE : this.random.int(1, 72) * HOUR,
        );
      const reserialise = this.random.chance(0.5);
      const own = STYLES.indexOf(this.style(verzender));
      const other = STYLES[(own + 1) % STYLES.length] as StyleName;
      const dupXml = keep(
        !reserialise
          ? xml
          : again.plain
            ? again.plain(other)
            : (again.build as SendSpec['build'])(again.header as Header, other, again.retour),
      );
      this.s.at(later, () =>
        this.out.exchange(this.s.now, dupXml, verzender, ontvanger, {
          ...truth,
          status: 'duplicate',
          reason: reserialise ? 'reserialised' : 'identical',
        }),
      );
    }
  }

  #emitBroken(
    moment: number,
    xml: Uint8Array,
    verzender: string,
    ontvanger: string,
    code: string,
    gemeente: string,
    journey: string | null,
  ): void {
    const text = Buffer.from(xml.buffer, xml.byteOffset, xml.length).toString('utf8');
    const { xml: broken, reason } = breakXml(text, this.random);
    const bytes = Buffer.from(broken);
    const write = () =>
      this.out.exchange(this.s.now, bytes, verzender, ontvanger, {
        status: 'broken',
        code,
        message: null,
        journey,
        gemeente,
        reason,
      });
    if (moment <= this.s.now) write();
    else this.s.at(moment, write);
  }
}

/** A deliberately unreadable or XSD-invalid version of a message, and why. */
export function breakXml(xml: string, random: Random): { xml: string; reason: string } {
  const kind = random.int(0, 4);
  if (kind === 0) {
    const cut = Math.floor(xml.length * (0.3 + random.next() * 0.6));
    return { xml: xml.slice(0, cut), reason: 'not_well_formed: transfer cut off' };
  }
  if (kind === 1) {
    return {
      xml: xml.replace(/<([A-Za-z0-9]+:)?BerichtVersie>3<\/([A-Za-z0-9]+:)?BerichtVersie>\s*/, ''),
      reason: 'xsd_invalid: Header/BerichtVersie missing',
    };
  }
  if (kind === 2) {
    return {
      xml: xml.replace(
        /(Dagtekening>)(\d{4})-(\d{2})-(\d{2})</,
        (_m, open: string, y: string, mo: string, d: string) => `${open}${d}-${mo}-${y}<`,
      ),
      reason: 'xsd_invalid: Dagtekening is not an xs:date',
    };
  }
  if (kind === 3) {
    return {
      xml: xml.replaceAll('/3_2/', '/3_1/'),
      reason: 'unknown_type: namespace of release 3.1',
    };
  }
  return {
    xml: xml.replace(/(<([A-Za-z0-9]+:)?Header>)/, '$1<Opmerking>test</Opmerking>'),
    reason: 'xsd_invalid: unexpected element Opmerking in Header',
  };
}
