import { hash } from 'node:crypto';
import type { MessageSchema, SchemaSet, TableDef } from '../schema/model.js';
import { schemaSet } from '../schema/releases.js';

/** A row as stored: cells aligned with `TableDef.columns`; hashed cells hold stored pseudonyms. */
export type StoredRow = readonly unknown[];

/** What linking needs of a stored message (the `message` table's header columns plus its rows). */
export interface LinkableMessage {
  readonly berichtId: string;
  readonly code: string;
  readonly gemeente: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
  /** `{ [table]: Row[] }` as in `message.rows`. */
  readonly tables: Readonly<Record<string, readonly StoredRow[]>>;
}

/** A stored message's header as the `message` table names its columns. */
export interface StoredMessageHeader {
  readonly bericht_id: string;
  readonly code: string;
  readonly gemeente: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: string;
}

export function linkableMessage(
  header: StoredMessageHeader,
  tables: LinkableMessage['tables'],
): LinkableMessage {
  return {
    berichtId: header.bericht_id,
    code: header.code,
    gemeente: header.gemeente,
    afzender: header.afzender,
    ontvanger: header.ontvanger,
    identificatie: header.identificatie,
    dagtekening: header.dagtekening,
    tables,
  };
}

/**
 * One side a message or row offers for matching: rows with the same `key` are candidates for each other,
 * the `tag` says what the row is within that key space (e.g. in `twn`: toewijzing, start, stop, prestatie).
 */
export interface LinkEntry {
  /** `compactKey('<keyspace>|<scope…>|<value…>')`: scoped the way the standard scopes the number. */
  readonly key: string;
  readonly tag: string;
  readonly gemeente: string;
  readonly berichtId: string;
  readonly table: string;
  /** Ordinals joined by '.'; '' for the message itself. */
  readonly row: string;
  readonly dagtekening: string;
  /**
   * Sort key of the message: `<Dagtekening>|<Identificatie>`. A Dagtekening is a date, so the first '|' ends
   * it and the rest is the Identificatie, whatever it holds (`compareOrder`).
   */
  readonly order: string;
  /**
   * Tag-specific detail the rules test: StatusAanlevering (a stop under its start key:
   * `status|RedenBeeindiging|Einddatum`; just the status when indexed before and not filled in by migration
   * 0017; a start or stop under its ToewijzingNummer `status|Bsn`, just the status when indexed before),
   * DeclaratieNummer, `afgewezen` on a retour, `Toewijzingsdatum|Toewijzingstijd|Bsn` on a 301 row under
   * its ToewijzingNummer ('' likewise; without `|Bsn` when indexed before). Fields that can hold free text are
   * joined by `INFO_SEP` (read them with `infoField`): a prestatie under its ToewijzingNummer
   * `D/C␟ReferentieNummer␟VorigReferentieNummer␟Identificatie␟Dagtekening␟Bsn␟DeclaratieNummer`, a 325 prestatie
   * `ReferentieNummer␟DeclIdentificatie␟DeclDagtekening␟DeclaratieNummer` (␟ = `INFO_SEP`; '|' when indexed
   * before, and then without the last fields); a prestatie under `prest|…` its DeclaratieNummer.
   */
  readonly info: string;
  /** For rows of heen messages: the `msg|…` key of their message, whose retour says if it was rejected; else ''. */
  readonly message: string;
}

/** Retour codes that mean "accepted" or "not checked"; any other code rejects the whole message (OP286, IV028). */
const ACCEPTING_CODES = new Set(['0200', '0233']);

export const keyspaceOf = (key: string): string => key.slice(0, key.indexOf('|'));

/**
 * Separator of `info` fields that can hold free text (ReferentieNummer, Identificatie): a control character
 * no XML 1.0 text can contain, so no field value can. LDT_ReferentieNummer allows '|'.
 *
 * Entries indexed by earlier versions joined those fields with '|' and are read as they are, without a
 * migration (`infoField`): one of them whose ReferentieNummer or Identificatie held a '|' stays split wrong
 * and does not link on that field.
 */
export const INFO_SEP = '\u001f';

/**
 * Field `n` (from 0) of an `info`, undefined when it has fewer fields. An info that holds `INFO_SEP` is split
 * on it, any other on '|' (entries indexed before `INFO_SEP`, and infos whose fields cannot hold a '|').
 * No array is built: the rules read it for every pair in a group.
 */
export function infoField(info: string, n: number): string | undefined {
  const sep = info.includes(INFO_SEP) ? INFO_SEP : '|';
  let start = 0;
  for (let i = 0; i < n; i++) {
    const at = info.indexOf(sep, start);
    if (at < 0) return undefined;
    start = at + 1;
  }
  const end = info.indexOf(sep, start);
  return end < 0 ? info.slice(start) : info.slice(start, end);
}

/** 'D' or 'C' for the info of a prestatie under its ToewijzingNummer, in either format; '' otherwise. */
export function debetCredit(info: string): string {
  const sep = info[1];
  return sep === INFO_SEP || sep === '|' ? (info[0] ?? '') : '';
}

/**
 * The stored form of a key: its key space and a 128-bit digest of the whole key. Keys hold scopes and
 * pseudonyms (about 100 characters); a short fixed-size key keeps the index small and its inserts cheap.
 */
export function compactKey(key: string): string {
  return `${keyspaceOf(key)}|${hash('sha256', key, 'base64url').slice(0, 22)}`;
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

interface ColumnIndex {
  readonly index: ReadonlyMap<string, number>;
  readonly ord: readonly number[];
}

// Built once per table definition: linking runs for every message, on the ingest path.
const columnIndexes = new WeakMap<TableDef, ColumnIndex>();
const tablesByName = new WeakMap<MessageSchema, ReadonlyMap<string, TableDef>>();

function columnIndex(def: TableDef): ColumnIndex {
  let ci = columnIndexes.get(def);
  if (!ci) {
    ci = {
      index: new Map(def.columns.map((c, i) => [c.name, i])),
      ord: def.columns.flatMap((c, i) => (c.role === 'ordinal' ? [i] : [])),
    };
    columnIndexes.set(def, ci);
  }
  return ci;
}

// Classes rather than closures: linking builds these for every message on the ingest path.

/** One table of a message, its cells read by column name. */
class TableAccess {
  readonly name: string;
  readonly rows: readonly StoredRow[];
  readonly #code: string;
  readonly #columns: ColumnIndex;

  constructor(schema: MessageSchema, def: TableDef, rows: readonly StoredRow[]) {
    this.name = def.name;
    this.rows = rows;
    this.#code = schema.code;
    this.#columns = columnIndex(def);
  }

  col(row: StoredRow, column: string): string {
    const i = this.#columns.index.get(column);
    if (i === undefined) throw new Error(`links.unknown_column: ${this.#code} ${this.name}.${column}`);
    return text(row[i]).trim();
  }

  /** The column's value in the first row ('' without rows): the header fields of the main table. */
  first(column: string): string {
    const head = this.rows[0];
    return head ? this.col(head, column) : '';
  }

  ordinals(row: StoredRow): string {
    return this.#columns.ord.map((i) => text(row[i])).join('.');
  }
}

function tableOf(schema: MessageSchema, message: LinkableMessage, suffix: string): TableAccess {
  const name = suffix ? `${schema.code}_${suffix}` : schema.code;
  let byName = tablesByName.get(schema);
  if (!byName) {
    byName = new Map(schema.tables.map((t) => [t.name, t]));
    tablesByName.set(schema, byName);
  }
  const def = byName.get(name);
  if (!def) throw new Error(`links.unknown_table: ${name}`);
  return new TableAccess(schema, def, message.tables[name] ?? []);
}

/** The entries of one message; what they share is set once. */
class MessageEntries {
  readonly out: LinkEntry[] = [];
  readonly #message: LinkableMessage;
  readonly #order: string;
  readonly #msgKey: string;
  readonly #msgStored: string;
  readonly #isHeen: boolean;

  constructor(message: LinkableMessage, msgKey: string, isHeen: boolean) {
    this.#message = message;
    this.#order = `${message.dagtekening}|${message.identificatie}`;
    this.#msgKey = msgKey;
    this.#msgStored = msgKey ? compactKey(msgKey) : '';
    this.#isHeen = isHeen;
  }

  add(key: string, tag: string, table: string, row: string, info = ''): void {
    const m = this.#message;
    this.out.push({
      key: key === this.#msgKey ? this.#msgStored : compactKey(key),
      tag,
      gemeente: m.gemeente,
      berichtId: m.berichtId,
      table,
      row,
      dagtekening: m.dagtekening,
      order: this.#order,
      info,
      // A rejected message takes no part in stop-start and correctie, and expects no partner (orphans).
      message: this.#isHeen && !key.startsWith('msg|') ? this.#msgStored : '',
    });
  }
}

/**
 * A message's entries as a parse worker sends them: the fields they share (gemeente, BerichtId, Dagtekening,
 * order) once, then key, tag, table, row, info and message per entry. A structured clone copies every string
 * of every object, so 11 fields per entry cost about three times as much to send and read back.
 */
export type PackedEntries = readonly string[];

const SHARED = 4;
const OWN = 6;

export function packEntries(entries: readonly LinkEntry[]): PackedEntries {
  const first = entries[0];
  if (first === undefined) return [];
  const out = [first.gemeente, first.berichtId, first.dagtekening, first.order];
  for (const e of entries) {
    if (e.berichtId !== first.berichtId || e.gemeente !== first.gemeente || e.order !== first.order)
      throw new Error(`links.pack: entries of more than one message (${first.berichtId}, ${e.berichtId})`);
    out.push(e.key, e.tag, e.table, e.row, e.info, e.message);
  }
  return out;
}

export function unpackEntries(p: PackedEntries): LinkEntry[] {
  const out: LinkEntry[] = [];
  const [gemeente, berichtId, dagtekening, order] = p as [string, string, string, string];
  for (let i = SHARED; i < p.length; i += OWN)
    out.push({
      key: p[i] as string,
      tag: p[i + 1] as string,
      gemeente,
      berichtId,
      table: p[i + 2] as string,
      row: p[i + 3] as string,
      dagtekening,
      order,
      info: p[i + 4] as string,
      message: p[i + 5] as string,
    });
  return out;
}

const RETOURS = new Set([302, 306, 308, 316, 318, 320]);
const HEEN = new Set([301, 305, 307, 315, 317, 319]);

/** Per message the entries it offers; pure, the schema set is only read. */
export function linkEntries(message: LinkableMessage, schemas: SchemaSet = schemaSet()): LinkEntry[] {
  const schema = schemas.byCode(message.code);
  if (!schema) throw new Error(`links.unknown_type: message ${message.berichtId} has code ${message.code}`);
  const prefix = schema.code.replace(/\d+$/, '');
  const number = Number(schema.code.slice(prefix.length));
  // The party that is not the gemeente is the aanbieder (AGB).
  const aanbieder = schema.gemeenteField === 'Afzender' ? message.ontvanger : message.afzender;
  const scope = `${prefix}|${message.gemeente}|${aanbieder}`;
  // Retour ↔ heen on the copied header (IV028): the heen code is the retour code minus one.
  const isRetour = RETOURS.has(number);
  const isHeen = HEEN.has(number);
  const msgKey =
    isRetour || isHeen
      ? `msg|${prefix}${isRetour ? number - 1 : number}|${message.afzender}|${message.ontvanger}|${message.identificatie}|${message.dagtekening}`
      : '';
  const entries = new MessageEntries(message, msgKey, isHeen);
  const main = tableOf(schema, message, '');

  if (isHeen) entries.add(msgKey, 'heen', main.name, '');
  if (isRetour) {
    const codes = message.tables[`${schema.code}_RetourCode`] ?? [];
    const list = codes.length ? tableOf(schema, message, 'RetourCode') : undefined;
    const rejected = list?.rows.some((r) => !ACCEPTING_CODES.has(list.col(r, 'RetourCode'))) ?? false;
    entries.add(msgKey, 'retour', main.name, '', rejected ? 'afgewezen' : '');
  }

  switch (number) {
    case 301: {
      const tp = tableOf(schema, message, 'ToegewezenProduct');
      const bsn = main.first('Client_Bsn');
      for (const r of tp.rows) {
        const row = tp.ordinals(r);
        const twn = tp.col(r, 'ToewijzingNummer');
        // info = Toewijzingsdatum|Toewijzingstijd|Bsn: the first two order the versions, a resend keeps them
        // (OP087, IV013); the client's pseudonym (hex) is what a prestatie must share (TR338).
        if (twn)
          entries.add(
            `twn|${scope}|${twn}`,
            'toewijzing',
            tp.name,
            row,
            `${tp.col(r, 'Toewijzingsdatum')}|${tp.col(r, 'Toewijzingstijd')}|${bsn}`,
          );
        const ref = tp.col(r, 'ReferentieAanbieder');
        if (ref) entries.add(`ref|${scope}|${ref}`, 'toewijzing', tp.name, row);
      }
      break;
    }
    case 305:
    case 307: {
      const isStart = number === 305;
      const t = tableOf(schema, message, isStart ? 'StartProduct' : 'StopProduct');
      const bsn = main.first('Client_Bsn');
      for (const r of t.rows) {
        const row = t.ordinals(r);
        const twn = t.col(r, 'ToewijzingNummer');
        const status = t.col(r, 'StatusAanlevering');
        const tag = isStart ? 'start' : 'stop';
        // info = StatusAanlevering|Bsn: the toewijzing must be the client's (`startStopOfClient`).
        if (twn) entries.add(`twn|${scope}|${twn}`, tag, t.name, row, `${status}|${bsn}`);
        // Logical key of the start (CC): a stop copies it unchanged (TR382).
        const startKey = `${bsn}|${twn}|${t.col(r, 'Product_Categorie')}|${t.col(r, 'Product_Code')}|${t.col(r, 'Begindatum')}`;
        if (isStart) {
          entries.add(`start|${scope}|${startKey}`, tag, t.name, row, status);
        } else {
          // Under the start key a stop carries the rest of its own key (info = status|Reden|Einddatum), so
          // a deletion (status 3) is matched to the stop it deletes and that stop no longer ends the start.
          const stopRest = `${t.col(r, 'RedenBeeindiging')}|${t.col(r, 'Einddatum')}`;
          entries.add(`start|${scope}|${startKey}`, tag, t.name, row, `${status}|${stopRest}`);
          entries.add(`stop|${scope}|${startKey}|${stopRest}`, 'stop', t.name, row, status);
        }
      }
      break;
    }
    case 315: {
      const t = tableOf(schema, message, 'AangevraagdProduct');
      for (const r of t.rows) {
        const ref = t.col(r, 'ReferentieAanbieder');
        if (ref) entries.add(`ref|${scope}|${ref}`, 'verzoek', t.name, t.ordinals(r));
      }
      break;
    }
    case 317: {
      const ref = main.first('Client_Verzoek_ReferentieAanbieder');
      if (ref) entries.add(`ref|${scope}|${ref}`, 'verzoek', main.name, '');
      // Every current toewijzing, unchanged or to be changed, by its number (TR349–TR351).
      for (const suffix of ['OngewijzigdProduct', 'TeWijzigenProduct']) {
        const t = tableOf(schema, message, suffix);
        for (const r of t.rows) {
          const twn = t.col(r, 'ToewijzingNummer');
          if (twn) entries.add(`twn|${scope}|${twn}`, 'wijziging', t.name, t.ordinals(r));
        }
      }
      break;
    }
    case 319: {
      const ref = main.first('Antwoord_ReferentieAanbieder');
      // info = VerzoekAntwoord: only "in onderzoek" (2) can be followed by a 301 (TR359, TR360).
      if (ref)
        entries.add(`ref|${scope}|${ref}`, 'antwoord', main.name, '', main.first('Antwoord_VerzoekAntwoord'));
      break;
    }
    case 323: {
      // Trimmed as the 325 reads its DeclaratieIdentificatie (`first`), so the two sides agree.
      const id = message.identificatie.trim();
      const dag = message.dagtekening.trim();
      const decl = `${scope}|${id}|${dag}`;
      const declaratieNummer = main.first('Declaratie_DeclaratieNummer');
      entries.add(`decl|${decl}`, 'declaratie', main.name, '', declaratieNummer);
      const clients = tableOf(schema, message, 'Client');
      const bsnOf = new Map(clients.rows.map((r) => [clients.col(r, 'ClientVolgnr'), clients.col(r, 'Bsn')]));
      const p = tableOf(schema, message, 'Prestatie');
      for (const r of p.rows) {
        const row = p.ordinals(r);
        const ref = p.col(r, 'ProductReferentie_ReferentieNummer');
        const twn = p.col(r, 'ToewijzingNummer');
        const dc = p.col(r, 'IngediendBedrag_DebetCredit') === 'C' ? 'C' : 'D';
        const vorig = dc === 'C' ? p.col(r, 'ProductReferentie_VorigReferentieNummer') : '';
        if (twn) {
          // One entry per prestatie (the bulk of the traffic): its answer in a 325 and the debet a credit
          // reverses (TR323) carry the same ToewijzingNummer, so they are matched in the same group. The
          // client's Bsn: the toewijzing must be the client's (TR338).
          const bsn = bsnOf.get(p.col(r, 'ClientVolgnr')) ?? '';
          // The DeclaratieNummer last: a 325 with a DeclaratieAntwoord answers only its own (TR376).
          const info = [dc, ref, vorig, id, dag, bsn, declaratieNummer].join(INFO_SEP);
          entries.add(`twn|${scope}|${twn}`, 'prestatie', p.name, row, info);
          continue;
        }
        entries.add(`prest|${decl}|${ref}`, 'declaratie', p.name, row, declaratieNummer);
        if (dc === 'C') {
          if (vorig) entries.add(`vref|${scope}|${vorig}`, 'credit', p.name, row);
        } else if (ref) {
          entries.add(`vref|${scope}|${ref}`, 'debet', p.name, row);
        }
      }
      break;
    }
    case 325: {
      const decl = `${scope}|${main.first('Header_DeclaratieIdentificatie_Identificatie')}|${main.first('Header_DeclaratieIdentificatie_Dagtekening')}`;
      // '' without a DeclaratieAntwoord (an error at header level): then the identification alone answers.
      const declaratieNummer = main.first('DeclaratieAntwoord_DeclaratieNummer');
      entries.add(`decl|${decl}`, 'antwoord', main.name, '', declaratieNummer);
      const p = tableOf(schema, message, 'Prestatie');
      const [declId, declDag] = [
        main.first('Header_DeclaratieIdentificatie_Identificatie'),
        main.first('Header_DeclaratieIdentificatie_Dagtekening'),
      ];
      for (const r of p.rows) {
        const ref = p.col(r, 'ProductReferentie_ReferentieNummer');
        const twn = p.col(r, 'ToewijzingNummer');
        if (twn)
          entries.add(
            `twn|${scope}|${twn}`,
            'antwoord',
            p.name,
            p.ordinals(r),
            [ref, declId, declDag, declaratieNummer].join(INFO_SEP),
          );
        else entries.add(`prest|${decl}|${ref}`, 'antwoord', p.name, p.ordinals(r), declaratieNummer);
      }
      break;
    }
  }
  return entries.out;
}
