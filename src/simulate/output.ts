/**
 * Everything the simulator writes: one file per exchange, `manifest.ndjson` in hub order,
 * `ground-truth.ndjson` (exchanges, relations, summary) and `organisations.json`. Lines are buffered and
 * written with plain synchronous writes, so memory stays flat however long the run.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RelationType } from '../domain/relation-types.js';
import { isoMoment } from './calendar.js';

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

const JSON_TEXT = Symbol('json');
const DROPPED = Symbol('dropped');

/** Marks a message that passed the hub before the written period: relations to it are left out. */
export function markDropped(ref: MessageRef): void {
  (ref as MessageRef & { [DROPPED]?: boolean })[DROPPED] = true;
}

export function isDropped(ref: MessageRef): boolean {
  return (ref as MessageRef & { [DROPPED]?: boolean })[DROPPED] === true;
}

/**
 * JSON of a MessageRef, made once per message and kept on it (relations repeat it many times).
 * JSON.stringify on purpose: its result is one flat string, where a template literal would keep a tree of
 * a dozen cons strings alive for as long as the journey holds the ref.
 */
function jsonOf(ref: MessageRef): string {
  const holder = ref as MessageRef & { [JSON_TEXT]?: string };
  let s = holder[JSON_TEXT];
  if (s === undefined) {
    s = JSON.stringify(ref);
    holder[JSON_TEXT] = s;
  }
  return s;
}

function sideJson(side: Side): string {
  return `{"message":${jsonOf(side.message)},"table":"${side.table}","row":[${side.row.join(',')}]}`;
}

/** Lines encoded straight into a reused buffer: no big strings to flatten, one write per megabyte. */
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

  flush(): void {
    if (this.#used > 0) writeSync(this.#fd, this.#buf, 0, this.#used);
    this.#used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

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
  readonly perCode = new Map<string, number>();
  readonly perStatus = new Map<string, number>();
  readonly perRelation = new Map<string, number>();
  exchanges = 0;

  /**
   * @param startMoment exchanges before it are not written (the warm-up before `--from`): a hub extract
   *   starts at some moment, with care already running.
   */
  constructor(
    dir: string,
    files: FileSink = new FolderSink(dir),
    readonly startMoment = Number.NEGATIVE_INFINITY,
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
    this.#hub++;
    const hubId = `GGK${String(this.#hub).padStart(8, '0')}`;
    const iso = isoMoment(moment);
    const file = `berichten/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${hubId}.xml`;
    this.#files.write(file, xml);
    // Values here are digits, codes and ISO moments: no JSON escaping needed.
    this.#manifest.line(
      `{"file":"${file}","moment":"${iso}","verzender":"${verzender}","ontvanger":"${ontvanger}","hubId":"${hubId}"}`,
    );
    const message = truth.message ? jsonOf(truth.message) : 'null';
    const journey = truth.journey === null ? 'null' : `"${truth.journey}"`;
    const reason = truth.reason === undefined ? '' : `,"reason":${JSON.stringify(truth.reason)}`;
    this.#truth.line(
      `{"kind":"exchange","hubId":"${hubId}","file":"${file}","status":"${truth.status}","code":"${truth.code}","message":${message},"journey":${journey},"gemeente":"${truth.gemeente}"${reason}}`,
    );
    this.exchanges++;
    this.perCode.set(truth.code, (this.perCode.get(truth.code) ?? 0) + 1);
    this.perStatus.set(truth.status, (this.perStatus.get(truth.status) ?? 0) + 1);
    return hubId;
  }

  relation(type: RelationType, from: Side, to: Side): void {
    if (isDropped(from.message) || isDropped(to.message)) return;
    this.#truth.line(`{"kind":"relation","type":"${type}","from":${sideJson(from)},"to":${sideJson(to)}}`);
    this.perRelation.set(type, (this.perRelation.get(type) ?? 0) + 1);
  }

  close(extra: Record<string, unknown>): void {
    const sorted = (m: Map<string, number>) =>
      Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
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
