import { readBerichtcodes } from '../schema/codelists.js';
import type { ColumnDef, ElementDecl, Facets, MessageSchema, SchemaSet, TableDef } from '../schema/model.js';
import { type LeftOut, leftOutAs, personalDataOf } from '../schema/personal-data.js';
import { type CsvOptions, csvFormatter, DEFAULT_DELIMITER } from './csv.js';

/** One column of one delivered file, as the data dictionary describes it. */
export interface DictionaryRow {
  /** File name with extension: `JW301.csv`. */
  readonly file: string;
  readonly column: string;
  /** Element path from `Bericht` (`Bericht/Client/Bsn`), empty for columns that are not in the message. */
  readonly path: string;
  /** XSD type name (`LDT_BurgerServicenummer`) or a description of a generated value. */
  readonly typeName: string;
  /** The XSD built-in it derives from (`string`, `integer`, `date`, `time`). */
  readonly baseType: string;
  /** The restrictions in words: pattern, lengths, range, code list. */
  readonly facets: string;
  readonly cardinality: string;
  /** Dutch, from the XSD annotation where there is one. */
  readonly description: string;
  readonly hashed: boolean;
  /** The message type has no official XSD; derived from its iJw counterpart. */
  readonly derived: boolean;
  /** The kind of personal data the column holds in clear (`personalDataOf`); absent for other columns. */
  readonly personal?: string;
  /** What of it an organisation that leaves personal data out gets (`leftOutAs`). */
  readonly leftOut?: LeftOut;
}

/** Extra delivered tables (e.g. Koppeltabel.csv) described by their owners. */
export interface ExtraTable {
  readonly file: string;
  readonly description: string;
  readonly rows: readonly DictionaryRow[];
}

export const DICTIONARY_FILES = {
  markdown: 'Gegevenswoordenboek.md',
  csv: 'Gegevenswoordenboek.csv',
  codes: 'Codelijsten.csv',
} as const;

/** Written by the delivery writer (src/export/delivery-writer.ts) beside the tables. */
export const MANIFEST_FILE = 'manifest.json';

/** One code of a code list (an XSD enumeration), with its meaning from the XSD. */
export interface CodeRow {
  /** `iJw` or `iWmo`: a type of the same name can hold another list in the other standard (LDT_ProductCategorie). */
  readonly standard: string;
  /** The XSD type that holds the list (`LDT_Geslacht`), as the dictionary's Type column names it. */
  readonly typeName: string;
  readonly code: string;
  readonly description: string;
}

export const CODE_LIST_HEADER = ['Standaard', 'Type', 'Code', 'Omschrijving'] as const;

const STANDARD_NAMES = { ijw: 'iJw', iwmo: 'iWmo' } as const;

/**
 * Every code list a delivered column uses, once per standard and type, in the XSD's order of the codes: what
 * `1` and `2` in a column mean (`Codelijsten.csv`). Hashed columns hold no codes.
 */
export function codeListRows(set: SchemaSet): CodeRow[] {
  const lists = new Map<string, CodeRow[]>();
  for (const m of set.messages)
    for (const t of m.tables)
      for (const c of t.columns) {
        const e = c.type?.facets.enumeration;
        if (!e || !c.type || c.hashed) continue;
        const standard = STANDARD_NAMES[m.standard];
        const typeName = c.type.name;
        const key = `${standard}/${typeName}`;
        if (!lists.has(key))
          lists.set(
            key,
            e.map((v) => ({ standard, typeName, code: v.value, description: v.documentation ?? '' })),
          );
      }
  // The BerichtCode of every header is a pattern in the XSD, not a list: its meanings come from the code list.
  for (const b of readBerichtcodes()) {
    const used = set.messages.some((m) => m.code === b.bericht);
    if (!used) continue;
    const key = `${b.standard}/LDT_BerichtCode`;
    const list = lists.get(key) ?? [];
    if (!list.some((r) => r.code === b.code))
      list.push({
        standard: b.standard,
        typeName: 'LDT_BerichtCode',
        code: b.code,
        description: `${b.bericht} ${b.name}`,
      });
    lists.set(key, list);
  }
  return [...lists.keys()].sort().flatMap((key) => lists.get(key) ?? []);
}

/** The code lists as one CSV (same dialect as the tables). */
export function codeListsCsv(rows: readonly CodeRow[], options: CsvOptions = {}): string {
  const line = csvFormatter(options.delimiter ?? DEFAULT_DELIMITER);
  let out = ((options.bom ?? true) ? '\uFEFF' : '') + line(CODE_LIST_HEADER);
  for (const r of rows) out += line([r.standard, r.typeName, r.code, r.description]);
  return out;
}

export const DICTIONARY_HEADER = [
  'Bestand',
  'Kolom',
  'Pad',
  'Type',
  'Basistype',
  'Beperkingen',
  'Kardinaliteit',
  'Omschrijving',
  'Gehasht',
  'Afgeleid bericht',
  // Last, so readers that take the columns by position keep working.
  'Persoonsgegeven',
] as const;

/** What the files of a delivery that are not tables hold, as the dictionary's section on them says. */
const DELIVERY_FILE_TEXT: Readonly<Record<string, string>> = {
  [DICTIONARY_FILES.markdown]: 'Dit gegevenswoordenboek, als Markdown.',
  [DICTIONARY_FILES.csv]: 'Hetzelfde gegevenswoordenboek als CSV: één rij per kolom van elk bestand.',
  [DICTIONARY_FILES.codes]: 'De betekenis van elke code die een kolom kan bevatten, per standaard en type.',
  [MANIFEST_FILE]:
    'Gegevens over de levering zelf (JSON): voor wie, welke periode en welk deel van de berichten en ' +
    'koppelingen, en per bestand het aantal rijen, de grootte en de SHA-256, om te controleren dat de ' +
    'levering volledig en ongeschonden is. Tijdstippen in UTC (ISO-8601 met Z).',
};

const DICTIONARY_COLUMN_TEXT: Readonly<Record<(typeof DICTIONARY_HEADER)[number], string>> = {
  Bestand: 'Naam van het bestand in de levering.',
  Kolom:
    'Naam van de kolom zoals in de kopregel van het bestand; bij manifest.json het veld. Leeg voor een bestand zonder kolommen.',
  Pad: "Pad van het element in het bericht vanaf Bericht; bij een lijst de paden gescheiden door ' | '. Leeg voor een kolom die niet uit het bericht komt.",
  Type: 'Type uit de XSD (LDT_…), of wat een gegenereerde waarde is.',
  Basistype: 'Het XSD-basistype waarvan het type is afgeleid (string, integer, date, time, dateTime).',
  Beperkingen: 'De beperkingen van het type in woorden: patroon, lengte, waardebereik, codelijst.',
  Kardinaliteit: '1..1: altijd gevuld; 0..1: kan leeg zijn.',
  Omschrijving: 'Wat de kolom bevat, uit de officiële XSD waar die een omschrijving geeft.',
  Gehasht: 'ja: de kolom bevat een gesleutelde hash (32 hex) in plaats van de waarde.',
  'Afgeleid bericht':
    'ja: er is geen officiële XSD van dit bericht; de structuur is afgeleid van het iJw-bericht.',
  Persoonsgegeven:
    'Het soort persoonsgegeven dat de kolom bevat; leeg voor andere kolommen. Wanneer uw organisatie ' +
    'persoonsgegevens niet ontvangt, staat erachter wat ervan geleverd is.',
};

const CODE_LIST_COLUMN_TEXT: Readonly<Record<(typeof CODE_LIST_HEADER)[number], string>> = {
  Standaard: 'iJw of iWmo: een type kan in de twee standaarden een andere lijst hebben.',
  Type: 'Het XSD-type van de codelijst, zoals de kolom Type van het gegevenswoordenboek het noemt.',
  Code: 'De code zoals een kolom die bevat (voorloopnullen horen erbij).',
  Omschrijving: 'De betekenis van de code volgens de officiële XSD.',
};

/** The fields of manifest.json as src/usecases/deliver.ts writes them: name, type, base type, cardinality, text. */
const MANIFEST_FIELDS: readonly (readonly [string, string, string, string, string])[] = [
  [
    'organisation',
    'organisatiecode',
    'string',
    '1..1',
    'Code van de organisatie die de levering ontvangt: een gemeente (CBS-code) of een organisatie die voor gemeenten optreedt.',
  ],
  ['name', 'tekst', 'string', '1..1', 'Naam van de organisatie.'],
  [
    'members',
    'lijst van LDT_Gemeente',
    'string',
    '1..1',
    'De gemeenten (CBS-codes) waarvan de levering de gegevens bevat.',
  ],
  [
    'catchUp',
    'lijst van LDT_Gemeente',
    'string',
    '1..1',
    'Gemeenten die deze wekelijkse levering vanaf het begin (seq 0) bevat, zoals een eerste levering: leden die sinds de vorige levering zijn toegevoegd. Meestal leeg.',
  ],
  [
    'kind',
    'soort levering',
    'string',
    '1..1',
    'weekly (wekelijkse levering) of history (historie vanaf 1-1-2021, op aanvraag).',
  ],
  ['release', 'tekst', 'string', '1..1', 'Release van de iStandaarden waarin de bestanden zijn opgesteld.'],
  [
    'period.start',
    'tijdstip',
    'dateTime',
    '1..1',
    'Begin van de periode: het tijdstip van de vorige wekelijkse levering, of bij een historie en een eerste levering 1-1-2021 00:00 Nederlandse tijd (2020-12-31T23:00:00.000Z; eerder wanneer een eerste levering oudere uitwisselingen bevat).',
  ],
  [
    'period.end',
    'tijdstip',
    'dateTime',
    '1..1',
    'Einde van de periode: het tijdstip van deze levering (zondag 06:00 Nederlandse tijd).',
  ],
  [
    'seq.from',
    'volgnummer',
    'integer',
    '1..1',
    'De levering bevat de berichten met een volgnummer (seq) groter dan seq.from en ten hoogste seq.to; 0 bij een historie en een eerste levering.',
  ],
  [
    'seq.to',
    'volgnummer',
    'integer',
    '1..1',
    'Bovengrens (tot en met) van de volgnummers van de berichten (zie seq.from). De volgende wekelijkse levering begint hier: er valt niets tussen en niets dubbel.',
  ],
  [
    'linkSeq.from',
    'volgnummer',
    'integer',
    '1..1',
    'Hetzelfde voor de koppelingen in Koppeltabel.csv: volgnummer groter dan linkSeq.from en ten hoogste linkSeq.to. Bij 0 bevat de Koppeltabel alle relaties die gelden, anders de wijzigingen sinds de vorige levering.',
  ],
  [
    'linkSeq.to',
    'volgnummer',
    'integer',
    '1..1',
    'Bovengrens (tot en met) van de volgnummers van de koppelingen (zie linkSeq.from).',
  ],
  ['madeAt', 'tijdstip', 'dateTime', '1..1', 'Tijdstip waarop de levering is gemaakt.'],
  ['availableAt', 'tijdstip', 'dateTime', '1..1', 'Tijdstip vanaf wanneer de levering te downloaden is.'],
  ['messages', 'aantal', 'integer', '1..1', 'Aantal berichten in de levering.'],
  [
    'personalDataLeftOut',
    'true of false',
    'boolean',
    '1..1',
    'true: de kolommen met persoonsgegevens zijn leeg gelaten (de keuze van uw organisatie; zie de kolom Persoonsgegeven), behalve het jaar van een geboortedatum en de 4 cijfers van een postcode.',
  ],
  [
    'files[].name',
    'bestandsnaam',
    'string',
    '1..1',
    'Per bestand in de ZIP (behalve manifest.json zelf): de naam.',
  ],
  [
    'files[].rows',
    'aantal',
    'integer',
    '0..1',
    'Aantal gegevensrijen van een CSV, zonder de kopregel; ontbreekt bij een ander bestand.',
  ],
  ['files[].bytes', 'aantal', 'integer', '1..1', 'Grootte van het bestand in bytes.'],
  [
    'files[].sha256',
    'sha256',
    'string',
    '1..1',
    'SHA-256 van het bestand (64 hex): om te controleren dat het ongeschonden is.',
  ],
];

/** The files of a delivery that are not tables: the dictionary itself, the code lists and the manifest. */
function deliveryFileRows(): DictionaryRow[] {
  const row = (
    file: string,
    column: string,
    typeName: string,
    baseType: string,
    cardinality: string,
    description: string,
  ): DictionaryRow => ({
    file,
    column,
    path: '',
    typeName,
    baseType,
    facets: '',
    cardinality,
    description,
    hashed: false,
    derived: false,
  });
  const filled = new Set(['Bestand', 'Omschrijving', 'Gehasht', 'Afgeleid bericht']);
  return [
    row(DICTIONARY_FILES.markdown, '', '', '', '', DELIVERY_FILE_TEXT[DICTIONARY_FILES.markdown] ?? ''),
    ...DICTIONARY_HEADER.map((c) =>
      row(
        DICTIONARY_FILES.csv,
        c,
        'tekst',
        'string',
        filled.has(c) ? '1..1' : '0..1',
        DICTIONARY_COLUMN_TEXT[c],
      ),
    ),
    ...CODE_LIST_HEADER.map((c) =>
      row(DICTIONARY_FILES.codes, c, 'tekst', 'string', '1..1', CODE_LIST_COLUMN_TEXT[c]),
    ),
    ...MANIFEST_FIELDS.map(([name, type, base, card, text]) =>
      row(MANIFEST_FILE, name, type, base, card, text),
    ),
  ];
}

const MAX_LISTED_CODES = 15;

export function facetSummary(f: Facets): string {
  const parts: string[] = [];
  for (const step of f.patterns) parts.push(`patroon ${step.join(' of ')}`);
  if (f.length !== undefined) parts.push(`lengte ${f.length}`);
  if (f.minLength !== undefined || f.maxLength !== undefined) {
    parts.push(`lengte ${f.minLength ?? 0}..${f.maxLength ?? '∞'}`);
  }
  if (f.minInclusive !== undefined || f.maxInclusive !== undefined) {
    parts.push(`waarde ${f.minInclusive ?? '-∞'}..${f.maxInclusive ?? '∞'}`);
  }
  if (f.enumeration) {
    const codes = f.enumeration.map((e) => e.value);
    parts.push(
      codes.length <= MAX_LISTED_CODES
        ? `codelijst: ${codes.join(', ')}`
        : `codelijst (${codes.length} waarden): ${codes.slice(0, MAX_LISTED_CODES).join(', ')}, …`,
    );
  }
  return parts.join('; ');
}

/** The hub metadata that is not text: the moment (UTC, with Z) and the count of passages. */
const EXCHANGE_BASE_TYPES: Readonly<Record<string, string>> = {
  Uitwisseling_Moment: 'dateTime',
  Uitwisseling_Aantal: 'integer',
};

function generated(
  table: TableDef,
  column: ColumnDef,
  message: MessageSchema,
): Pick<DictionaryRow, 'typeName' | 'baseType' | 'cardinality' | 'description'> {
  switch (column.role) {
    case 'messageKey':
      return {
        typeName: 'hash (32 hex)',
        baseType: 'string',
        cardinality: '1..1',
        description:
          'Sleutel van het bericht: gesleutelde hash van berichtsleutel en inhoud. Koppelt alle tabellen van één bericht. ' +
          'Voor elke organisatie gelijk (anders dan de gehashte nummers), dus ook over leveringen van verschillende organisaties heen.',
      };
    case 'gemeente':
      return {
        typeName: 'LDT_Gemeente',
        baseType: 'string',
        cardinality: '1..1',
        description: `CBS-code van de gemeente waartoe het bericht hoort (Header/${message.gemeenteField}).`,
      };
    case 'exchange':
      return {
        typeName: 'uitwisseling',
        baseType: EXCHANGE_BASE_TYPES[column.name] ?? 'string',
        cardinality: column.name === 'Uitwisseling_HubId' ? '0..1' : '1..1',
        description: column.documentation ?? '',
      };
    case 'level':
      return {
        typeName: 'niveau',
        baseType: 'string',
        cardinality: '1..1',
        description: `Element dat de lijst bevat: ${(table.levels ?? []).map((l) => l.level).join(', ')}.`,
      };
    case 'ordinal': {
      const element = column.name.replace(/Volgnr$/, '');
      const always = ordinalAlwaysFilled(table, column.name, message);
      return {
        typeName: 'volgnummer',
        baseType: 'integer',
        cardinality: always ? '1..1' : '0..1',
        description: `Volgnummer (1, 2, …) van ${element} binnen het bovenliggende element.${
          always ? '' : ` Leeg wanneer de lijst niet bij ${element} (of daaronder) hoort: zie Niveau.`
        }`,
      };
    }
    default:
      return { typeName: '', baseType: '', cardinality: '', description: column.documentation ?? '' };
  }
}

/**
 * Whether an ordinal column always holds a number. In a list table (`RetourCode`) that gathers the lists of
 * several elements, the ordinal of an element is filled only on the rows of that element's lists and those
 * below it: it is always filled when every level's owner row has it, and the list's own counter always is.
 */
function ordinalAlwaysFilled(table: TableDef, column: string, message: MessageSchema): boolean {
  if (table.kind !== 'list') return true;
  if (column === `${table.name.slice(message.code.length + 1)}Volgnr`) return true;
  return (table.levels ?? []).every((l) =>
    message.tables.find((t) => t.name === l.ownerTable)?.keyColumns.includes(column),
  );
}

/** Every file and column of the delivered message tables, plus extra tables given by other parts. */
export function dictionaryRows(set: SchemaSet, extra: readonly ExtraTable[] = []): DictionaryRow[] {
  const rows: DictionaryRow[] = [];
  for (const message of set.messages) {
    const derived = message.derivedFrom !== undefined;
    for (const table of message.tables) {
      const file = `${table.name}.csv`;
      for (const column of table.columns) {
        if (column.role === 'value') {
          const leafPath = table.kind === 'list' ? (table.levels?.[0]?.path ?? column.path) : column.path;
          rows.push({
            file,
            column: column.name,
            path:
              table.kind === 'list'
                ? (table.levels ?? []).map((l) => l.path.join('/')).join(' | ')
                : (leafPath ?? []).join('/'),
            typeName: column.type?.name ?? '',
            // A hashed column holds the hash, whatever the value's type in the message.
            baseType: column.hashed ? 'string' : (column.type?.base ?? ''),
            facets: column.hashed
              ? `gesleutelde hash (32 hex); in het bericht: ${column.type?.base ?? ''}${
                  column.type && facetSummary(column.type.facets)
                    ? `, ${facetSummary(column.type.facets)}`
                    : ''
                }`
              : column.type
                ? facetSummary(column.type.facets)
                : '',
            cardinality: column.cardinality ?? '',
            description: column.documentation
              ? withTypeText(column.documentation, column)
              : describeFromAncestors(message, column),
            hashed: column.hashed !== undefined,
            derived,
            ...optional('personal', personalDataOf(column)),
            ...optional('leftOut', leftOutAs(column)),
          });
        } else {
          rows.push({
            file,
            column: column.name,
            path: '',
            facets: '',
            hashed: false,
            derived,
            ...generated(table, column, message),
          });
        }
      }
    }
  }
  for (const t of extra) rows.push(...t.rows);
  rows.push(...deliveryFileRows());
  return rows;
}

/**
 * The element's text, followed by its type's where that says more: the unit of an amount ("in 1/100 van
 * gehanteerde valuta", eurocent) is only in the type's text. A one- or two-word type text (`Datum`) adds
 * nothing; a hashed column's type describes the clear value, not the hash.
 */
function withTypeText(text: string, column: ColumnDef): string {
  const own = column.type?.documentation?.trim();
  if (!own || column.hashed || own.split(/\s+/).length < 3 || text.includes(own)) return text;
  return `${text}${/[.!?:]$/.test(text) ? '' : '.'} Type ${column.type!.name}: ${own}`;
}

/**
 * For a leaf without an annotation of its own: its name and the nearest documented ancestor's text, then what
 * its type says. The ancestor tells the leaves of one type apart (the XSD version of the heenbericht or of the
 * retourbericht); a code without any text (DebetCredit) is told by its codes, not taken for its ancestor.
 */
function describeFromAncestors(message: MessageSchema, column: ColumnDef): string {
  const path = column.path ?? [];
  const chain: ElementDecl[] = [message.root];
  for (const name of path.slice(1)) {
    const last = chain[chain.length - 1];
    const next = last?.type.kind === 'complex' ? last.type.children.find((c) => c.name === name) : undefined;
    if (!next) break;
    chain.push(next);
  }
  const leaf = path[path.length - 1] ?? '';
  const parent = path[path.length - 2];
  const codes = column.type?.documentation ? undefined : column.type?.facets.enumeration;
  const what =
    codes && codes.length <= 3
      ? `${leaf}-indicatie van ${parent}: ${codes
          .map((c) => (c.documentation ? `${c.value} (${c.documentation})` : c.value))
          .join(' of ')}.`
      : undefined;
  let text = what ?? leaf;
  for (let i = chain.length - 2; i >= 0; i--) {
    const el = chain[i] as ElementDecl;
    if (!el.documentation) continue;
    const of = el.name === parent ? parent : `${parent} in ${el.name}`;
    text = what ? `${what} ${of}: ${el.documentation}` : `${leaf} van ${of}: ${el.documentation}`;
    break;
  }
  // The type's text is all the leaf has of its own: kept even for a hashed column, and however short.
  const typeText = column.type?.documentation?.trim();
  return typeText ? `${text}${/[.!?:]$/.test(text) ? '' : '.'} Type ${column.type!.name}: ${typeText}` : text;
}

const yesNo = (b: boolean) => (b ? 'ja' : 'nee');

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

/**
 * The description as a delivery that leaves personal data out gives it: what is left of the value, which then
 * does not follow the type (a year is no LDT_Datum) or a 1..1 of the XSD (an empty name).
 */
function describedAsDelivered(r: DictionaryRow, personalDataLeftOut: boolean | undefined): string {
  if (!personalDataLeftOut || !r.leftOut) return r.description;
  const note = {
    year: 'alleen het jaar (JJJJ), niet volgens het XSD-type',
    pc4: 'alleen de 4 cijfers, niet volgens het XSD-type',
    empty: r.cardinality === '1..1' ? 'leeg gelaten, niet volgens de kardinaliteit 1..1' : 'leeg gelaten',
  }[r.leftOut];
  return `${r.description}${/[.!?]$/.test(r.description) ? '' : '.'} In deze levering: ${note}.`;
}

function cells(r: DictionaryRow, personalDataLeftOut?: boolean): string[] {
  return [
    r.file,
    r.column,
    r.path,
    r.typeName,
    r.baseType,
    r.facets,
    r.cardinality,
    describedAsDelivered(r, personalDataLeftOut),
    yesNo(r.hashed),
    yesNo(r.derived),
    r.personal ?? '',
  ];
}

/** The dictionary as one CSV (same dialect as the tables). */
export function dictionaryCsv(
  rows: readonly DictionaryRow[],
  options: CsvOptions & { readonly personalDataLeftOut?: boolean } = {},
): string {
  const line = csvFormatter(options.delimiter ?? DEFAULT_DELIMITER);
  let out = ((options.bom ?? true) ? '\uFEFF' : '') + line(DICTIONARY_HEADER);
  for (const r of rows) out += line(cells(r, options.personalDataLeftOut));
  return out;
}

/**
 * Text for a Markdown table cell that renders as it stands (CommonMark/GFM): every character that could start
 * emphasis, a code span, a link, HTML or an entity is escaped. `_` between letters or digits cannot emphasise
 * (`Client_Bsn`) and is left as it is, so names stay readable in the source.
 */
export const md = (s: string): string =>
  s
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*<>[\]&~|]/g, '\\$&')
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_');

/**
 * A pattern or other restriction as a code span, so that `.*[^\s].*` is not read as emphasis. In a GFM table
 * `|` is escaped inside a code span too; the fence is longer than any run of backticks inside, padded with a
 * space where the text starts or ends with a backtick or a space (CommonMark strips one of each).
 */
export function mdCode(s: string): string {
  if (s === '') return '';
  const text = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  const pad = /^[` ]|[` ]$/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** The files that are not tables, one line each, and the fields of the manifest. */
function deliveryFilesMarkdown(files: ReadonlyMap<string, readonly DictionaryRow[]>): string[] {
  if (files.size === 0) return [];
  const out = ['## Overige bestanden in de levering', ''];
  for (const [file, list] of files) {
    const columns = file.endsWith('.csv') ? ` Kolommen: ${list.map((r) => r.column).join(', ')}.` : '';
    out.push(`- ${md(file)}: ${md(`${DELIVERY_FILE_TEXT[file] ?? ''}${columns}`)}`);
  }
  out.push('');
  const manifest = files.get(MANIFEST_FILE) ?? [];
  if (manifest.length > 0) {
    out.push(`### ${MANIFEST_FILE}`, '', '| Veld | Type | Kard. | Omschrijving |', '|---|---|---|---|');
    for (const r of manifest)
      out.push(
        `| ${mdCode(r.column)} | ${md(`${r.typeName} (${r.baseType})`)} | ${r.cardinality} | ${md(r.description)} |`,
      );
    out.push('');
  }
  return out;
}

/** The element declarations along `path` (from `Bericht`), the root first; undefined where the path leaves the schema. */
function declsAlong(m: MessageSchema, path: readonly string[]): ElementDecl[] | undefined {
  const out: ElementDecl[] = [m.root];
  for (const name of path.slice(1)) {
    const last = out.at(-1) as ElementDecl;
    const next = last.type.kind === 'complex' ? last.type.children.find((c) => c.name === name) : undefined;
    if (!next) return undefined;
    out.push(next);
  }
  return out;
}

const occurs = (min: number, max: number) => `${min}..${max === Number.POSITIVE_INFINITY ? 'n' : max}`;

/**
 * What one row of a table stands for and how many there are per row of the table above, from the XSD: the
 * occurrences along the path multiply (JW301_Relatie: Relaties 0..1 × Relatie 1..n = 0..n per message).
 */
function rowText(m: MessageSchema, t: TableDef): string | undefined {
  if (t.kind === 'message') return `Eén rij per bericht (${m.code}).`;
  if (t.kind === 'list') {
    const places = (t.levels ?? []).map((l) => `${l.path.slice(1).join('/')} (Niveau ${l.level})`);
    return `Eén rij per ${t.path.at(-1)} uit een lijst, met in Niveau waar de lijst staat: ${places.join(', ')}.`;
  }
  const parent = m.tables.find((p) => p.name === t.parent);
  const decls = declsAlong(m, t.path);
  if (!parent || !decls) return undefined;
  let min = 1;
  let max = 1;
  for (const d of decls.slice(parent.path.length)) {
    min *= d.minOccurs;
    max *= d.maxOccurs;
  }
  return `Eén rij per ${t.path.at(-1)} (${t.path.slice(1).join('/')}); per rij van ${parent.name}.csv ${occurs(min, max)}.`;
}

/** The dictionary as Markdown: one section per file, with the table's own description. */
export function dictionaryMarkdown(
  set: SchemaSet,
  rows: readonly DictionaryRow[],
  extra: readonly ExtraTable[] = [],
  options: { readonly personalDataLeftOut?: boolean; readonly codes?: readonly CodeRow[] } = {},
): string {
  const tableInfo = new Map<
    string,
    { description: string; derivedFrom?: string; keys: readonly string[]; row?: string }
  >();
  for (const m of set.messages) {
    for (const t of m.tables) {
      tableInfo.set(`${t.name}.csv`, {
        // A repeating element the XSD gives no text of its own is named by its place, not by the message's text.
        description:
          t.documentation ??
          (t.kind === 'message'
            ? (m.documentation ?? '')
            : `${t.path.at(-1) ?? t.name} in ${m.code}: ${t.kind === 'list' ? 'lijst' : 'herhalend element'} ${
                t.kind === 'list'
                  ? (t.levels ?? []).map((l) => l.path.join('/')).join(', ')
                  : t.path.join('/')
              } (geen eigen omschrijving in de XSD).`),
        ...(m.derivedFrom ? { derivedFrom: m.derivedFrom } : {}),
        keys: t.keyColumns,
        row: rowText(m, t),
      });
    }
  }
  for (const t of extra) tableInfo.set(t.file, { description: t.description, keys: [] });
  const byFile = new Map<string, DictionaryRow[]>();
  const deliveryFiles = new Map<string, DictionaryRow[]>();
  for (const r of rows) {
    const of = DELIVERY_FILE_TEXT[r.file] === undefined ? byFile : deliveryFiles;
    of.set(r.file, [...(of.get(r.file) ?? []), r]);
  }
  const out: string[] = [
    '# Gegevenswoordenboek Ketendata iWmo en iJw',
    '',
    `Release ${set.release} van de iStandaarden. Per bestand alle kolommen: het pad in het bericht, het type uit de XSD, ` +
      'de beperkingen, de kardinaliteit binnen een rij en de omschrijving uit de officiële XSD. Kolommen met ' +
      '"gehasht: ja" bevatten een gesleutelde hash in plaats van de waarde (Bsn, ToewijzingNummer, ' +
      'ReferentieAanbieder, BeschikkingNummer): dezelfde waarde geeft binnen één organisatie steeds dezelfde hash, ' +
      'een andere organisatie krijgt een andere hash (ook een hoofdorganisatie en haar gemeenten). BerichtId is wel ' +
      'voor elke organisatie gelijk: wie de leveringen van een gemeente en van haar hoofdorganisatie combineert, ' +
      'koppelt daarop.',
    '',
    'De overige gegevens staan erin zoals het bericht ze bevat. Kolommen met een persoonsgegeven (naam, ' +
      'geboortedatum, adres, telefoon of e-mail, vrije tekst, persoonsnummer) zijn gemarkeerd in de kolom "Persoonsgegeven": ' +
      'voor de afweging welke kolommen uw organisatie gebruikt en bewaart (DPIA, dataminimalisatie). ' +
      'Negen cijfers die de elfproef van een BSN doorstaan (ook in groepjes, 999 435 978) staan in kolommen met ' +
      'vrije tekst of een persoonsnummer als *********: een BSN die een afzender daar intypte, verlaat de dienst ' +
      'niet leesbaar.' +
      (options.personalDataLeftOut
        ? ' Uw organisatie heeft gekozen deze gegevens niet te ontvangen: in deze levering zijn die kolommen leeg, ' +
          'behalve een geboortedatum (alleen het jaar) en een postcode (alleen de 4 cijfers). De omschrijving van ' +
          'zo’n kolom zegt het; het type en de kardinaliteit uit de XSD gelden dan niet voor wat er staat.'
        : ''),
    '',
    'CSV-bestanden: UTF-8 met BOM, scheidingsteken `;`, regeleinde CRLF, aanhalingstekens volgens RFC 4180.',
    '',
    'Excel: dubbelklikken opent de kolommen en tekens goed, maar Excel raadt dan zelf het type van elke kolom: ' +
      'codes verliezen hun voorloopnullen (gemeente 0363 wordt 363, RetourCode 0200 wordt 200, productcategorie 02 ' +
      'wordt 2, AGB-code 01613023 wordt 1613023) en lange nummers worden 3,23E+11. Open een bestand daarom via ' +
      'Gegevens > Van tekst/CSV > Gegevens transformeren en zet de kolommen met codes en nummers op Tekst, of lees ' +
      'de bestanden in Power Query of Power BI met de typen uit dit woordenboek (Type en Beperkingen).',
    '',
    'Versies en afkeuringen tellen: een toewijzing (301) is telkens een volledige stand, dus een toegewezen product ' +
      'staat in elke versie opnieuw. Tel alleen de laatste versie: een rij van *301_ToegewezenProduct waar in de ' +
      'Koppeltabel een geldende koppeling toewijzing-versie naartoe wijst (Naar_Rij), heeft een latere versie. ' +
      'Een bericht dat door zijn retourbericht is afgekeurd, staat er ook in: het is afgekeurd als de retour ' +
      '(Koppeltabel, type retour) in <CODE>_RetourCode.csv een andere code heeft dan 0200 (goedgekeurd) of 0233 ' +
      '(niet gecontroleerd); een retour zonder RetourCode-regels keurt het bericht goed.',
    '',
    'Verwijderde toewijzingen: een toewijzing (ToewijzingNummer) waarvan de laatste versie (de laatste ' +
      'Toewijzingsdatum en Toewijzingstijd, afgekeurde versies niet meegerekend) RedenWijziging 13 (Verwijderd) ' +
      'heeft, of 01 (Administratieve correctie) met een Einddatum gelijk aan de Ingangsdatum, geldt als nooit ' +
      'verstuurd (OP087): tel geen enkele versie ervan als toewijzing, en een start (305) erop niet als start. ' +
      'Het dashboard telt zo; bij elk cijfer daar staat hoe het geteld is.',
    '',
    'De aanbieder van een bericht: van Header_Afzender en Header_Ontvanger is dat de kolom van type LDT_AgbCode, ' +
      'de andere is de gemeente (een retourbericht heeft de kop van zijn heenbericht). Nummers als ' +
      'ReferentieAanbieder, DeclaratieNummer en de BerichtIdentificatie zijn alleen binnen één aanbieder uniek: ' +
      'koppel berichten via de Koppeltabel, of neem de aanbieder in de sleutel mee.',
    '',
    'Een historie bevat alles sinds 1-1-2021, ook wat in wekelijkse leveringen zat: voeg ze niet samen, maar begin ' +
      'met de historie en neem daarna alleen de wekelijkse leveringen met een hoger seq.to in manifest.json ' +
      '(kind zegt welke soort levering het is). Wekelijkse leveringen overlappen elkaar niet.',
    '',
    'Wat de codes in een kolom betekenen (bijvoorbeeld 1 en 2 bij LDT_JaNee) staat per standaard (iJw, iWmo) en ' +
      'type in Codelijsten.csv en onderaan dit document (Codelijsten), met de omschrijving uit de officiële XSD.',
    '',
    'Tijdstippen die de levering zelf toevoegt (Uitwisseling_Moment, en de tijden in manifest.json) staan in UTC: ' +
      'ISO-8601 met Z, bijvoorbeeld 2026-03-02T07:05:00.000Z. Nederlandse tijd is UTC+01:00 (wintertijd) of ' +
      'UTC+02:00 (zomertijd).',
    '',
  ];
  for (const [file, list] of byFile) {
    const info = tableInfo.get(file);
    out.push(`## ${file}`, '');
    if (info?.description) out.push(md(info.description), '');
    if (info?.derivedFrom) {
      out.push(
        `**Afgeleid bericht**: er is geen officiële XSD; de structuur is afgeleid van ${info.derivedFrom} (niet officieel).`,
        '',
      );
    }
    if (info?.row) out.push(md(info.row), '');
    if (info && info.keys.length > 0) out.push(`Sleutel: ${info.keys.join(', ')}.`, '');
    out.push(
      '| Kolom | Pad | Type | Beperkingen | Kard. | Omschrijving | Gehasht | Persoonsgegeven |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const r of list) {
      const type = r.baseType && r.typeName !== r.baseType ? `${r.typeName} (${r.baseType})` : r.typeName;
      out.push(
        `| ${md(r.column)} | ${md(r.path)} | ${md(type)} | ${mdCode(r.facets)} | ${r.cardinality} | ${md(describedAsDelivered(r, options.personalDataLeftOut))} | ${yesNo(r.hashed)} | ${md(r.personal ?? '')} |`,
      );
    }
    out.push('');
  }
  out.push(...deliveryFilesMarkdown(deliveryFiles));
  const codes = options.codes ?? [];
  if (codes.length > 0) {
    out.push('## Codelijsten', '');
    let list = '';
    for (const c of codes) {
      if (`${c.standard} ${c.typeName}` !== list) {
        if (list) out.push('');
        list = `${c.standard} ${c.typeName}`;
        out.push(`### ${md(list)}`, '', '| Code | Omschrijving |', '|---|---|');
      }
      out.push(`| ${md(c.code)} | ${md(c.description)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
