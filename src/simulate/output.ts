/**
 * Everything the simulator writes: one file per exchange, `manifest.ndjson` in hub order,
 * `ground-truth.ndjson` (exchanges, relations, summary) and `organisations.json`. Lines are buffered and
 * written with plain synchronous writes, so memory stays flat however long the run.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DAY_MS, isoDay } from '../domain/calendar.js';
import type { RelationType } from '../domain/relation-types.js';

/** The header values that identify a message (and, for a retour, its own identification). */
export interface MessageRef {
  readonly code: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
  readonly identificatieRetour?: string;
  readonly dagtekeningRetour?: string;
}

/** One side of a relation: a message, and a row of one of its tables (`[]` = the message itself). */
export interface Side {
  readonly message: MessageRef;
  readonly table: string;
  readonly row: readonly number[];
}

export { RELATION_TYPES, type RelationType } from '../domain/relation-types.js';

export type ExchangeStatus = 'message' | 'duplicate' | 'broken';

export interface ExchangeTruth {
  readonly status: ExchangeStatus;
  readonly code: string;
  readonly message: MessageRef | null;
  readonly journey: string | null;
  readonly gemeente: string;
  readonly reason?: string;
}

const DROPPED = Symbol('dropped');

/** Marks a message that passed the hub before the written period: relations to it are left out. */
export function markDropped(ref: MessageRef): void {
  (ref as MessageRef & { [DROPPED]?: boolean })[DROPPED] = true;
}

export function isDropped(ref: MessageRef): boolean {
  return (ref as MessageRef & { [DROPPED]?: boolean })[DROPPED] === true;
}

const encoder = new TextEncoder();

/** Lines encoded straight into a reused buffer, one write per megabyte. */
class LineFile {
  readonly #fd: number;
  readonly #buf = Buffer.allocUnsafe(1 << 20);
  #used = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'w');
  }

  line(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; flush first when it might not fit.
    if (this.#used + 3 * s.length + 1 > this.#buf.length) this.flush();
    if (3 * s.length + 1 > this.#buf.length) {
      writeSync(this.#fd, `${s}\n`);
      return;
    }
    this.#used += this.#buf.write(s, this.#used, 'utf8');
    this.#buf[this.#used++] = 0x0a;
  }

  /*
   * Lines written piece by piece (below) build no line string: a template literal is a tree of cons
   * strings that Buffer#write first flattens into a new string, and those ~100 MB of short-lived strings
   * per 100,000 exchanges filled the young generation and made it scavenge more often.
   */

  /** Pre-encoded bytes (the constant parts of a line). */
  bytes(b: Uint8Array): void {
    if (this.#used + b.length > this.#buf.length) this.flush();
    this.#buf.set(b, this.#used);
    this.#used += b.length;
  }

  /** A string, UTF-8: short ASCII ones copied in place, others encoded natively. */
  text(s: string): void {
    const n = s.length;
    if (this.#used + 3 * n > this.#buf.length) {
      this.flush();
      if (3 * n > this.#buf.length) {
        writeSync(this.#fd, s);
        return;
      }
    }
    const buf = this.#buf;
    let at = this.#used;
    if (n <= 40) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.#used += buf.write(s, this.#used, 'utf8');
          return;
        }
        buf[at++] = c;
      }
      this.#used = at;
    } else this.#used += buf.write(s, at, 'utf8');
  }

  /** A JSON string's content as `JSON.stringify` writes it (the quotes are the caller's). */
  jsonText(s: string): void {
    const n = s.length;
    if (n <= 40 && this.#used + n <= this.#buf.length) {
      const buf = this.#buf;
      let at = this.#used;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) break;
        buf[at++] = c;
      }
      if (i === n) {
        this.#used = at;
        return;
      }
    }
    this.text(JSON.stringify(s).slice(1, -1));
  }

  /** A non-negative integer's decimal digits, zero-padded to `width`. */
  digits(v: number, width = 1): void {
    if (this.#used + 20 + width > this.#buf.length) this.flush();
    const buf = this.#buf;
    let len = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) len++;
    if (len < width) len = width;
    let at = this.#used + len;
    this.#used = at;
    for (let i = 0; i < len; i++) {
      buf[--at] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
  }

  /** `[1,2]` as `Array#join(',')` writes the numbers. */
  row(row: readonly number[]): void {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) this.bytes(COMMA);
      const v = row[i] as number;
      if (Number.isInteger(v) && v >= 0 && v < 1e15) this.digits(v);
      else this.text(String(v));
    }
  }

  /** A moment as `Date#toISOString` spells it, from its day's text (`isoDay`). */
  moment(ms: number, dayText: string): void {
    this.text(dayText);
    const inDay = ms - Math.floor(ms / DAY_MS) * DAY_MS;
    const sec = Math.floor(inDay / 1000);
    this.bytes(T);
    this.digits(Math.floor(sec / 3600), 2);
    this.bytes(COLON);
    this.digits(Math.floor(sec / 60) % 60, 2);
    this.bytes(COLON);
    this.digits(sec % 60, 2);
    this.bytes(DOT);
    this.digits(inDay % 1000, 3);
    this.bytes(Z);
  }

  end(): void {
    if (this.#used + 1 > this.#buf.length) this.flush();
    this.#buf[this.#used++] = 0x0a;
  }

  flush(): void {
    if (this.#used > 0) writeSync(this.#fd, this.#buf, 0, this.#used);
    this.#used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

const COMMA = encoder.encode(',');
const COLON = encoder.encode(':');
const DOT = encoder.encode('.');
const T = encoder.encode('T');
const Z = encoder.encode('Z');
const M_FILE = encoder.encode('{"file":"');
const M_MOMENT = encoder.encode('","moment":"');
const M_VERZENDER = encoder.encode('","verzender":"');
const M_ONTVANGER = encoder.encode('","ontvanger":"');
const M_HUB = encoder.encode('","hubId":"');
const END_QUOTE = encoder.encode('"}');
const X_HUB = encoder.encode('{"kind":"exchange","hubId":"');
const X_FILE = encoder.encode('","file":"');
const X_STATUS = encoder.encode('","status":"');
const X_CODE = encoder.encode('","code":"');
const X_MESSAGE = encoder.encode('","message":');
const NULL = encoder.encode('null');
const X_JOURNEY = encoder.encode(',"journey":');
const QUOTE = encoder.encode('"');
const X_GEMEENTE = encoder.encode(',"gemeente":"');
const X_REASON = encoder.encode('","reason":');
const QUOTE_END = encoder.encode('"}');
const END = encoder.encode('}');
const R_TYPE = encoder.encode('{"kind":"relation","type":"');
const R_FROM = encoder.encode('","from":');
const R_TO = encoder.encode(',"to":');
const S_MESSAGE = encoder.encode('{"message":');
const S_TABLE = encoder.encode(',"table":"');
const S_ROW = encoder.encode('","row":[');
const S_END = encoder.encode(']}');
const XML = encoder.encode('.xml');
const REF_CODE = encoder.encode('{"code":"');
const REF_AFZENDER = encoder.encode('","afzender":"');
const REF_ONTVANGER = encoder.encode('","ontvanger":"');
const REF_IDENTIFICATIE = encoder.encode('","identificatie":"');
const REF_DAGTEKENING = encoder.encode('","dagtekening":"');
const REF_IDENTIFICATIE_RETOUR = encoder.encode('","identificatieRetour":"');
const REF_DAGTEKENING_RETOUR = encoder.encode('","dagtekeningRetour":"');

/** Where the message files go: a folder (the default) or, for measuring the generator alone, nowhere. */
export interface FileSink {
  write(file: string, content: Uint8Array): void;
}

export class FolderSink implements FileSink {
  readonly #dirs = new Set<string>();

  constructor(readonly dir: string) {}

  write(file: string, content: Uint8Array): void {
    const sub = file.slice(0, file.lastIndexOf('/'));
    if (!this.#dirs.has(sub)) {
      mkdirSync(join(this.dir, sub), { recursive: true });
      this.#dirs.add(sub);
    }
    writeFileSync(join(this.dir, file), content);
  }
}

/** Counts the files' bytes and drops them: benchmarks of the generator itself. */
export class NullSink implements FileSink {
  bytes = 0;

  write(_file: string, content: Uint8Array): void {
    this.bytes += content.length;
  }
}

export class Output {
  readonly #dir: string;
  readonly #files: FileSink;
  readonly #manifest: LineFile;
  readonly #truth: LineFile;
  #hub = 0;
  /** The message folder (`berichten/YYYY/MM/`) of the last exchange's day. */
  #folderDay = Number.NaN;
  #folder = '';
  readonly perCode = new Map<string, number>();
  readonly perStatus = new Map<string, number>();
  readonly perRelation = new Map<string, number>();
  exchanges = 0;

  /**
   * @param startMoment exchanges before it are not written (the warm-up before `--from`): a hub extract
   *   starts at some moment, with care already running.
   */
  /**
   * @param runTag part of every hub id, from the run's options: the hub numbers its exchanges once, so two
   *   runs ingested into one store must not share ids (a known hub id is an exchange already received).
   */
  constructor(
    dir: string,
    files: FileSink = new FolderSink(dir),
    readonly startMoment = Number.NEGATIVE_INFINITY,
    readonly runTag = '',
  ) {
    this.#dir = dir;
    this.#files = files;
    mkdirSync(dir, { recursive: true });
    this.#manifest = new LineFile(join(dir, 'manifest.ndjson'));
    this.#truth = new LineFile(join(dir, 'ground-truth.ndjson'));
  }

  writeJson(name: string, value: unknown): void {
    writeFileSync(join(this.#dir, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Writes one exchange at `moment` (must not go back in time: the caller keeps hub order). */
  exchange(
    moment: number,
    xml: Uint8Array,
    verzender: string,
    ontvanger: string,
    truth: ExchangeTruth,
  ): string {
    if (moment < this.startMoment) return '';
    const hub = ++this.#hub;
    const day = Math.floor(moment / DAY_MS);
    const dayText = isoDay(day);
    const hubId = `GGK${this.runTag}${String(hub).padStart(8, '0')}`;
    if (day !== this.#folderDay) {
      this.#folderDay = day;
      this.#folder = `berichten/${dayText.slice(0, 4)}/${dayText.slice(5, 7)}/`;
    }
    const folder = this.#folder;
    this.#files.write(`${folder}${hubId}.xml`, xml);
    // Values here are digits, codes and ISO moments: no JSON escaping needed.
    const m = this.#manifest;
    m.bytes(M_FILE);
    m.text(folder);
    m.text(hubId);
    m.bytes(XML);
    m.bytes(M_MOMENT);
    m.moment(moment, dayText);
    m.bytes(M_VERZENDER);
    m.text(verzender);
    m.bytes(M_ONTVANGER);
    m.text(ontvanger);
    m.bytes(M_HUB);
    m.text(hubId);
    m.bytes(END_QUOTE);
    m.end();
    const t = this.#truth;
    t.bytes(X_HUB);
    t.text(hubId);
    t.bytes(X_FILE);
    t.text(folder);
    t.text(hubId);
    t.bytes(XML);
    t.bytes(X_STATUS);
    t.text(truth.status);
    t.bytes(X_CODE);
    t.text(truth.code);
    t.bytes(X_MESSAGE);
    if (truth.message) this.#ref(truth.message);
    else t.bytes(NULL);
    t.bytes(X_JOURNEY);
    if (truth.journey === null) t.bytes(NULL);
    else {
      t.bytes(QUOTE);
      t.text(truth.journey);
      t.bytes(QUOTE);
    }
    t.bytes(X_GEMEENTE);
    t.text(truth.gemeente);
    if (truth.reason === undefined) t.bytes(QUOTE_END);
    else {
      t.bytes(X_REASON);
      t.text(JSON.stringify(truth.reason));
      t.bytes(END);
    }
    t.end();
    this.exchanges++;
    this.perCode.set(truth.code, (this.perCode.get(truth.code) ?? 0) + 1);
    this.perStatus.set(truth.status, (this.perStatus.get(truth.status) ?? 0) + 1);
    return hubId;
  }

  relation(type: RelationType, from: Side, to: Side): void {
    if (isDropped(from.message) || isDropped(to.message)) return;
    const t = this.#truth;
    t.bytes(R_TYPE);
    t.text(type);
    t.bytes(R_FROM);
    this.#side(from);
    t.bytes(R_TO);
    this.#side(to);
    t.bytes(END);
    t.end();
    this.perRelation.set(type, (this.perRelation.get(type) ?? 0) + 1);
  }

  /**
   * A MessageRef as JSON.stringify writes it (fields in the order refOf/retourRefOf create them). Written
   * field by field on every use: a JSON text kept on each ref was long-lived garbage for the young
   * generation to copy, and JSON.stringify's result is a cons string that the first write flattened again.
   */
  #ref(ref: MessageRef): void {
    const t = this.#truth;
    t.bytes(REF_CODE);
    t.jsonText(ref.code);
    t.bytes(REF_AFZENDER);
    t.jsonText(ref.afzender);
    t.bytes(REF_ONTVANGER);
    t.jsonText(ref.ontvanger);
    t.bytes(REF_IDENTIFICATIE);
    t.jsonText(ref.identificatie);
    t.bytes(REF_DAGTEKENING);
    t.jsonText(ref.dagtekening);
    if (ref.identificatieRetour !== undefined) {
      t.bytes(REF_IDENTIFICATIE_RETOUR);
      t.jsonText(ref.identificatieRetour);
    }
    if (ref.dagtekeningRetour !== undefined) {
      t.bytes(REF_DAGTEKENING_RETOUR);
      t.jsonText(ref.dagtekeningRetour);
    }
    t.bytes(QUOTE_END);
  }

  #side(side: Side): void {
    const t = this.#truth;
    t.bytes(S_MESSAGE);
    this.#ref(side.message);
    t.bytes(S_TABLE);
    t.text(side.table);
    t.bytes(S_ROW);
    t.row(side.row);
    t.bytes(S_END);
  }

  close(extra: Record<string, unknown>): void {
    const sorted = (m: Map<string, number>) =>
      Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b, 'en')));
    this.#truth.line(
      JSON.stringify({
        kind: 'summary',
        exchanges: this.exchanges,
        perCode: sorted(this.perCode),
        perStatus: sorted(this.perStatus),
        perRelation: sorted(this.perRelation),
        ...extra,
      }),
    );
    this.#manifest.close();
    this.#truth.close();
  }
}
