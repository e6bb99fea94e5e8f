import { RELATIONS, relationDictionaryText } from './relations.js';

/**
 * `Koppeltabel.csv`: in a history or an organisation's first weekly, one row per link that holds; in a later
 * weekly, one row per link event since the last one. A recomputed link that lapses (a toewijzing-versie
 * split by a late middle version, a stop-start or correctie changed by a later message) comes back as a row
 * with Mutatie `vervallen`.
 */
export const KOPPELTABEL_FILE = 'Koppeltabel';

export interface KoppeltabelColumn {
  readonly name: string;
  /** Dutch description for the data dictionary. */
  readonly description: string;
  /** Empty for some rows (cardinality 0..1 in the dictionary). */
  readonly optional?: boolean;
  /** The type the dictionary names, as for the same values in the message files; default `tekst`. */
  readonly typeName?: string;
}

export const KOPPELTABEL_COLUMNS: readonly KoppeltabelColumn[] = [
  {
    name: 'Type',
    description: `Soort relatie. ${RELATIONS.map(relationDictionaryText).join(' ')} Alle sleutels gelden binnen wet (iJw/iWmo), gemeente en aanbieder. Een bericht dat door zijn retourbericht is afgekeurd telt niet mee voor stop-start en correctie.`,
  },
  {
    name: 'Van_Bestand',
    description: 'Bestand (zonder .csv) van de bronkant, bijvoorbeeld JW305_StartProduct.',
  },
  {
    name: 'Van_BerichtId',
    typeName: 'hash (32 hex)',
    description: 'BerichtId van het bronbericht; sleutel in Van_Bestand.',
  },
  {
    name: 'Van_Rij',
    optional: true,
    description:
      "Volgnummers van de bronrij in Van_Bestand, in de volgorde van de *Volgnr-kolommen van dat bestand, gescheiden door '_' (bijvoorbeeld 2_1 = ClientVolgnr 2, PrestatieVolgnr 1; tekst, geen getal). Leeg als de koppeling het hele bericht betreft.",
  },
  {
    name: 'Naar_Bestand',
    description: 'Bestand (zonder .csv) van de doelkant, bijvoorbeeld JW301_ToegewezenProduct.',
  },
  {
    name: 'Naar_BerichtId',
    typeName: 'hash (32 hex)',
    description: 'BerichtId van het doelbericht; sleutel in Naar_Bestand.',
  },
  {
    name: 'Naar_Rij',
    optional: true,
    description:
      'Volgnummers van de doelrij in Naar_Bestand, zoals Van_Rij. Leeg als de koppeling het hele bericht betreft.',
  },
  {
    name: 'Mutatie',
    description:
      "'toegevoegd': de koppeling is nieuw. 'vervallen': een eerder geleverde koppeling met dezelfde kanten geldt niet meer (alleen bij toewijzing-versie, stop-start en correctie, die opnieuw bepaald worden als later een bericht binnenkomt dat ertussen valt of een bericht afkeurt). Een historie of de eerste wekelijkse levering bevat alleen koppelingen die gelden; zo ook een wekelijkse levering voor een gemeente die zij vanaf het begin stuurt (in manifest.json onder catchUp: een gemeente die later bij de hoofdorganisatie kwam): die rijen van die Gemeente vervangen alle eerdere rijen van die Gemeente.",
  },
  {
    name: 'Gemeente',
    typeName: 'LDT_Gemeente',
    description: 'CBS-code van de gemeente waartoe beide berichten behoren.',
  },
];

export interface KoppeltabelLink {
  readonly type: string;
  readonly mutatie: 'toegevoegd' | 'vervallen';
  readonly gemeente: string;
  readonly fromTable: string;
  readonly fromBerichtId: string;
  readonly fromRow: string;
  readonly toTable: string;
  readonly toBerichtId: string;
  readonly toRow: string;
}

/**
 * A row's ordinals as delivered: joined by '_', not by the '.' they are stored with, which spreadsheets and CSV
 * readers (Excel, DuckDB, pandas) take for a decimal number, so that 1.10 and 1.1 became one row.
 */
const deliveredRow = (row: string): string => row.replaceAll('.', '_');

/** A link as a CSV record aligned with KOPPELTABEL_COLUMNS (the agreed seven columns first). */
export function koppeltabelRecord(l: KoppeltabelLink): string[] {
  return [
    l.type,
    l.fromTable,
    l.fromBerichtId,
    deliveredRow(l.fromRow),
    l.toTable,
    l.toBerichtId,
    deliveredRow(l.toRow),
    l.mutatie,
    l.gemeente,
  ];
}
