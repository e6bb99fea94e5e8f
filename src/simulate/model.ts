/** The simulator's in-memory view of message content: just what the builders need, in domain terms. */

import type { Day } from '../domain/calendar.js';
import type { Standard } from '../schema/model.js';

export interface Person {
  readonly bsn: string;
  readonly birth: Day;
  /** LDT_Geslacht: 1 man, 2 vrouw. */
  readonly gender: '1' | '2';
  readonly achternaam: string;
  readonly voorvoegsel?: string;
  readonly voornamen: string;
  readonly voorletters: string;
  readonly address: Address;
  readonly phone: string;
  readonly email?: string;
  /** A parent or guardian (iJw) or partner (iWmo) as Relatie in the 301. */
  readonly relatie?: Relatie;
}

export interface Address {
  readonly huisnummer: number;
  readonly huisletter?: string;
  readonly postcode: string;
  readonly straat: string;
  readonly plaats: string;
}

export interface Relatie {
  readonly nummer: string;
  /** LDT_SoortRelatie. */
  readonly soort: string;
  readonly gender: '1' | '2';
  readonly achternaam: string;
  readonly voorvoegsel?: string;
  readonly voornamen: string;
  readonly voorletters: string;
  readonly phone: string;
}

export interface Product {
  readonly categorie: string;
  readonly code?: string;
}

export interface Omvang {
  readonly volume: number;
  readonly eenheid: string;
  readonly frequentie: string;
}

/** The common header of a heen message (and the copied part of its retour). */
export interface Header {
  readonly standard: Standard;
  /** `JW301`, `WMO305`. */
  readonly code: string;
  readonly afzender: string;
  readonly ontvanger: string;
  readonly identificatie: string;
  readonly dagtekening: Day;
}

/** What a retour adds to the copied header, and which codes it gives back. */
export interface RetourInfo {
  readonly identificatie: string;
  readonly dagtekening: Day;
  /** Header-level codes (0001, 9056 …); undefined = none (accepted, or class-level rejection). */
  readonly headerCodes?: readonly string[];
  /** Class-level rejection: the content is copied back with these codes per class. */
  readonly classCodes?: ClassCodes;
}

export interface ClassCodes {
  readonly client: readonly string[];
  /** Per row of the message's main repeating class, aligned with its rows. */
  readonly rows: readonly (readonly string[])[];
}

/** One ToegewezenProduct as it appears in one 301. */
export interface ToegewezenProductRow {
  readonly nummer: number;
  readonly referentie?: string;
  readonly product?: Product;
  readonly toewijzingsdatum: Day;
  readonly toewijzingstijd: string;
  readonly ingangsdatum: Day;
  readonly einddatum?: Day;
  readonly redenWijziging?: string;
  readonly omvang?: Omvang;
  readonly budget?: number;
  readonly commentaar?: string;
}

export interface StartRow {
  readonly nummer?: number;
  readonly product?: Product;
  readonly toewijzingIngangsdatum?: Day;
  readonly begindatum: Day;
  readonly status: '1' | '3';
}

export interface StopRow extends StartRow {
  readonly redenBeeindiging: string;
  readonly einddatum: Day;
}

export interface AangevraagdProductRow {
  readonly referentie: string;
  readonly beschikkingNummer?: number;
  readonly product?: Product;
  readonly toewijzingIngangsdatum: Day;
  readonly toewijzingEinddatum?: Day;
  readonly omvang?: Omvang;
  readonly verwijzerType: string;
  readonly verwijzerNaam?: string;
  readonly verwijzerAgb?: string;
  readonly commentaar?: string;
}

export interface Verzoek {
  readonly referentie: string;
  /** LDT_RedenVerzoek. */
  readonly reden: '1' | '2';
  readonly ongewijzigd: readonly number[];
  readonly teWijzigen: readonly {
    readonly nummer: number;
    readonly gewensteIngangsdatum: Day;
    readonly einddatum?: Day;
    readonly omvang?: Omvang;
  }[];
  readonly nieuw: readonly {
    readonly product?: Product;
    readonly gewensteIngangsdatum: Day;
    readonly einddatum?: Day;
    readonly omvang?: Omvang;
  }[];
}

export interface Antwoord {
  readonly referentie: string;
  readonly verzoekAntwoord: '1' | '2';
  readonly redenAfwijzing?: string;
  readonly woonplaatsGemeente?: string;
}

export interface Prestatie {
  readonly referentieNummer: string;
  readonly vorigReferentieNummer?: string;
  readonly nummer: number;
  readonly categorie: string;
  readonly productCode: string;
  readonly begindatum: Day;
  readonly einddatum: Day;
  readonly volume: number;
  readonly eenheid: string;
  readonly tarief: number;
  readonly bedrag: number;
  readonly debetCredit: 'D' | 'C';
}

export interface DeclaratieClient {
  readonly bsn: string;
  readonly prestaties: readonly Prestatie[];
}

export interface Declaratie {
  readonly nummer: string;
  readonly periodeBegin: Day;
  readonly periodeEind: Day;
  readonly dagtekening: Day;
  readonly clienten: readonly DeclaratieClient[];
}

export type RejectedPrestaties = ReadonlyMap<number, ReadonlyMap<number, readonly string[]>>;

/** A 325: which prestaties (by position in the 323) are rejected, and with what codes. */
export interface DeclaratieAntwoordContent {
  readonly declaratie: Declaratie;
  /** Header-level rejection of the whole 323 (then no DeclaratieAntwoord). */
  readonly headerCodes?: readonly string[];
  /** Client index → prestatie index → codes (only clients with a rejected prestatie). */
  readonly rejected: RejectedPrestaties;
}
