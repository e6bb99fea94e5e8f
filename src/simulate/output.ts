/**
 * Everything the simulator writes: one file per exchange, `manifest.ndjson` in hub order,
 * `ground-truth.ndjson` (exchanges, relations, summary) and `organisations.json`, in a folder or in one ZIP
 * with the same names. Lines are buffered and written with plain synchronous writes, so memory stays flat
 * however long the run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RelationType } from '../domain/relation-types.js';
import { BufferedFile } from './buffered-file.js';
import { isoMoment } from './calendar.js';
import { ZipWriter } from './zip-writer.js';

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

/** Where the message files go: the output (folder or ZIP) or, for measuring the generator alone, nowhere. */
export interface FileSink {
  /** `moment`: when the exchange passed the hub (a ZIP entry's modification time). */
  write(file: string, content: Uint8Array, moment: number): void;
}

/**
 * What holds the output: every file in a folder, or one ZIP with the same names inside. The line files
 * (manifest, ground truth) are written while the run goes; a ZIP takes them in as its last entries.
 */
interface Container extends FileSink {
  /** Where a line file called `name` is written during the run. */
  linePath(name: string): string;
  /** A whole small file (organisations.json). */
  writeWhole(name: string, content: Uint8Array): void;
  /** After the line files are closed. */
  finish(lineFiles: readonly string[]): void;
}

class FolderContainer implements Container {
  readonly #dirs = new Set<string>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  write(file: string, content: Uint8Array): void {
    const sub = file.slice(0, file.lastIndexOf('/'));
    if (!this.#dirs.has(sub)) {
      mkdirSync(join(this.dir, sub), { recursive: true });
      this.#dirs.add(sub);
    }
    writeFileSync(join(this.dir, file), content);
  }

  linePath(name: string): string {
    return join(this.dir, name);
  }

  writeWhole(name: string, content: Uint8Array): void {
    writeFileSync(join(this.dir, name), content);
  }

  finish(): void {}
}

/** One ZIP: no syscalls per exchange. The line files are spilled next to it and added at the end. */
class ZipContainer implements Container {
  readonly #zip: ZipWriter;
  /** The last exchange's moment: the time of the line files, complete only then. */
  #latest: number;

  constructor(
    readonly path: string,
    readonly startMoment: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.#zip = new ZipWriter(path);
    this.#latest = startMoment;
  }

  write(file: string, content: Uint8Array, moment: number): void {
    this.#zip.add(file, content, moment);
    this.#latest = moment;
  }

  linePath(name: string): string {
    return `${this.path}.${name}.part`;
  }

  writeWhole(name: string, content: Uint8Array): void {
    this.#zip.add(name, content, this.startMoment);
  }

  finish(lineFiles: readonly string[]): void {
    for (const name of lineFiles) {
      this.#zip.addFile(name, this.linePath(name), this.#latest);
      rmSync(this.linePath(name));
    }
    this.#zip.close();
  }
}

/** A `--out` ending in `.zip` is written as one ZIP; anything else is a folder. */
export function isZipOutput(out: string): boolean {
  return out.toLowerCase().endsWith('.zip');
}

/** Counts the files' bytes and drops them: benchmarks of the generator itself. */
export class NullSink implements FileSink {
  bytes = 0;

  write(_file: string, content: Uint8Array): void {
    this.bytes += content.length;
  }
}

const MANIFEST = 'manifest.ndjson';
const GROUND_TRUTH = 'ground-truth.ndjson';

export class Output {
  readonly #container: Container;
  readonly #files: FileSink;
  readonly #manifest: BufferedFile;
  readonly #truth: BufferedFile;
  #hub = 0;
  readonly perCode = new Map<string, number>();
  readonly perStatus = new Map<string, number>();
  readonly perRelation = new Map<string, number>();
  exchanges = 0;

  /**
   * @param out a folder, or a path ending in `.zip` for one ZIP holding the same files.
   * @param files where message files go instead (benchmarks of the generator).
   * @param startMoment exchanges before it are not written (the warm-up before `--from`): a hub extract
   *   starts at some moment, with care already running.
   */
  constructor(
    out: string,
    files?: FileSink,
    readonly startMoment = Number.NEGATIVE_INFINITY,
  ) {
    this.#container = isZipOutput(out) ? new ZipContainer(out, startMoment) : new FolderContainer(out);
    this.#files = files ?? this.#container;
    this.#manifest = new BufferedFile(this.#container.linePath(MANIFEST));
    this.#truth = new BufferedFile(this.#container.linePath(GROUND_TRUTH));
  }

  writeJson(name: string, value: unknown): void {
    this.#container.writeWhole(name, Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
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
    this.#files.write(file, xml, moment);
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
    this.#container.finish([MANIFEST, GROUND_TRUTH]);
  }
}
