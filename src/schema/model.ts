/**
 * The schema model: what the official XSDs say about each message, compiled once at start-up.
 * Everything downstream (validator, flattener, dictionary, store, deliveries) reads this model;
 * nothing about a message's structure is typed by hand.
 */

export type Standard = 'ijw' | 'iwmo';

/** The XSD built-in a simple type finally derives from (the only four the iStandaarden use). */
export type BaseType = 'string' | 'integer' | 'date' | 'time';

/** The four identifier fields that never leave the service in clear. */
export const HASHED_ELEMENTS = [
  'Bsn',
  'ToewijzingNummer',
  'ReferentieAanbieder',
  'BeschikkingNummer',
] as const;
export type HashedElement = (typeof HASHED_ELEMENTS)[number];

export interface EnumValue {
  readonly value: string;
  readonly documentation?: string;
}

export interface Facets {
  /**
   * XSD pattern facets, one array per derivation step: a value must match at least one pattern of
   * every step (patterns of one step are OR-ed, steps are AND-ed). Sources are XSD regex syntax.
   */
  readonly patterns: readonly (readonly string[])[];
  /** The enumeration of the most derived step that has one. */
  readonly enumeration?: readonly EnumValue[];
  readonly length?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minInclusive?: bigint;
  readonly maxInclusive?: bigint;
}

export interface SimpleType {
  readonly kind: 'simple';
  /** Named type (`LDT_Datum`) or, for an anonymous type, the base it restricts (`LDT_BerichtCode`). */
  readonly name: string;
  readonly base: BaseType;
  readonly facets: Facets;
  readonly documentation?: string;
}

export interface ComplexType {
  readonly kind: 'complex';
  readonly name: string;
  readonly documentation?: string;
  /** The iStandaarden use `xs:sequence` only: children in this order. */
  readonly children: readonly ElementDecl[];
}

export interface ElementDecl {
  readonly name: string;
  /** Namespace URI of the element (the target namespace of the XSD that declares it; all are qualified). */
  readonly namespace: string;
  readonly minOccurs: number;
  /** `Infinity` for unbounded. */
  readonly maxOccurs: number;
  readonly type: SimpleType | ComplexType;
  /** The element's own annotation, else its type's. */
  readonly documentation?: string;
}

/** Who sends and who receives, read from the header types (LDT_Gemeente vs LDT_AgbCode). */
export type HeaderParty = 'Afzender' | 'Ontvanger';

export interface MessageSchema {
  readonly standard: Standard;
  /** `JW301`, `WMO325`. */
  readonly code: string;
  /** The BerichtCode value (`436`). */
  readonly berichtCode: string;
  readonly release: string;
  readonly namespace: string;
  readonly basisNamespace: string;
  /** Root documentation from the XSD. */
  readonly documentation?: string;
  /** Set when no official XSD exists and the schema was derived from the iJw counterpart. */
  readonly derivedFrom?: string;
  /** The `Bericht` root element. */
  readonly root: ElementDecl;
  /** The header field of type LDT_Gemeente: whose municipality this message is. */
  readonly gemeenteField: HeaderParty;
  /** Delivery tables of this message type, the main table first. */
  readonly tables: readonly TableDef[];
  /** The XSD text the validator's verdicts must agree with (the derived text for derived schemas). */
  readonly xsdFile: string;
}

export type ColumnRole =
  /** Surrogate key of the message, present in every table. */
  | 'messageKey'
  /** 1-based position of a repeating element (own or ancestor's). */
  | 'ordinal'
  /** Hub metadata (main table only). */
  | 'exchange'
  /** The municipality the message belongs to (main table only). */
  | 'gemeente'
  /** For `<CODE>_RetourCode`: which element holds the code list. */
  | 'level'
  /** A leaf value from the message. */
  | 'value';

export interface ColumnDef {
  readonly name: string;
  readonly role: ColumnRole;
  /** Element path from `Bericht` (value columns), e.g. ['Client', 'Bsn']. */
  readonly path?: readonly string[];
  readonly type?: SimpleType;
  /** Cardinality of the leaf relative to its table row, e.g. '0..1', '1..1'. */
  readonly cardinality?: string;
  readonly documentation?: string;
  readonly hashed?: HashedElement;
}

export interface TableDef {
  /** File name without `.csv`: `JW301`, `JW301_ToegewezenProduct`, `JW302_RetourCode`. */
  readonly name: string;
  readonly kind: 'message' | 'element' | 'list';
  /** Element path from `Bericht` of the element one row stands for (for 'list': the repeating leaf's name only). */
  readonly path: readonly string[];
  /** The table one level up (undefined for the main table). */
  readonly parent?: string;
  readonly documentation?: string;
  readonly columns: readonly ColumnDef[];
  /** Names of the columns that identify a row: BerichtId plus ordinals. */
  readonly keyColumns: readonly string[];
  /** For 'list' tables: every element that holds such a list, with its `Niveau` value. */
  readonly levels?: readonly ListLevel[];
}

export interface ListLevel {
  /** Value of the `Niveau` column: the owner's table suffix and path below it (`Header`, `Relatie_Contact`). */
  readonly level: string;
  /** Path from `Bericht` to the repeating leaf (`['Header', 'RetourCodes', 'RetourCode']`). */
  readonly path: readonly string[];
  /** The table that holds the owner's row. */
  readonly ownerTable: string;
}

export interface SchemaSet {
  readonly release: string;
  readonly messages: readonly MessageSchema[];
  byCode(code: string): MessageSchema | undefined;
  /** Look a message up by namespace URI of its root element. */
  byNamespace(namespace: string): MessageSchema | undefined;
}
