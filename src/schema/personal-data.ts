import type { ColumnDef } from './model.js';

/**
 * Which kind of directly identifying personal data a column holds in clear, by the XSD type of its leaf: the
 * names, addresses, contact details, birth dates and free text of clients, relatives and referrers. The
 * four hashed identifiers are not listed (they never leave the service in clear). For a privacy officer's
 * assessment (DPIA) of a delivery, and for organisations that leave these columns out.
 *
 * A referrer's AGB code (Verwijzer/ZorgverlenerCode) is kept: it names a care professional acting as such, in
 * a public register, not the client, and which practices refer is what municipalities steer on. The
 * referrer's name is left out with the rest.
 *
 * A small mapping of the standard's type names, the one place that knows them: a release that renames a type
 * shows up in personal-data.test.ts, which checks the mapping against the leaf names of every message.
 */
const BY_TYPE: Readonly<Record<string, PersonalData>> = {
  LDT_Naam: 'naam',
  LDT_Voorvoegsel: 'naam',
  LDT_Voorletters: 'naam',
  LDT_NaamVerwijzer: 'naam',
  LDT_Straatnaam: 'adres',
  LDT_Huisnummer: 'adres',
  LDT_Huisletter: 'adres',
  LDT_HuisnummerToevoeging: 'adres',
  LDT_Postcode: 'adres',
  LDT_Plaatsnaam: 'adres',
  LDT_Telefoonnummer: 'telefoon of e-mail',
  LDT_Emailadres: 'telefoon of e-mail',
  LDT_Commentaar: 'vrije tekst',
  // "Naam van een organisatie waar de client of relatie client verblijft": where someone lives (a clinic, a
  // prison), free text a sender may fill with a person's name.
  LDT_Organisatienaam: 'adres',
  // A relative's "identificerend nummer van een natuurlijk persoon": free text, which a sender may fill with a BSN.
  LDT_Persoonsid: 'persoonsnummer',
};

export type PersonalData =
  | 'naam'
  | 'geboortedatum'
  | 'adres'
  | 'telefoon of e-mail'
  | 'vrije tekst'
  | 'persoonsnummer';

export function personalDataOf(column: ColumnDef): PersonalData | undefined {
  if (column.role !== 'value' || column.hashed || !column.type) return undefined;
  const path = column.path ?? [];
  // A birth date is typed as any date (LDT_Datum): its place says what it is.
  if (path.at(-2) === 'Geboortedatum' && path.at(-1) === 'Datum') return 'geboortedatum';
  return BY_TYPE[column.type.name];
}

/**
 * What leaving personal data out keeps of a column: a birth date its year and a postcode its four digits (age
 * groups and neighbourhoods are what steering needs; the full values point at one person), every other such
 * column nothing. Year, four digits and gender together can still single out someone in a small place: this
 * is data minimisation, not anonymisation.
 */
export type LeftOut = 'empty' | 'year' | 'pc4';

export function leftOutAs(column: ColumnDef): LeftOut | undefined {
  const kind = personalDataOf(column);
  if (kind === undefined) return undefined;
  if (kind === 'geboortedatum') return 'year';
  if (column.type?.name === 'LDT_Postcode') return 'pc4';
  return 'empty';
}

/** A table's columns with personal data in clear, by index, with what leaving them out keeps of each. */
export function leftOutColumns(columns: readonly ColumnDef[]): (readonly [column: number, as: LeftOut])[] {
  return columns.flatMap((c, i) => {
    const as = leftOutAs(c);
    return as ? [[i, as] as const] : [];
  });
}

/**
 * Columns of free text a sender may fill with a BSN (a comment, a relative's person number): every delivery,
 * whatever the organisation's choice, masks the numbers in them that pass the 11-test (`maskBsns`).
 */
export function bsnProneColumns(columns: readonly ColumnDef[]): number[] {
  return columns.flatMap((c, i) => {
    const kind = personalDataOf(c);
    return kind === 'vrije tekst' || kind === 'persoonsnummer' ? [i] : [];
  });
}

/** A value as an organisation that leaves personal data out gets it. */
export function leaveOut(how: LeftOut, value: unknown): string | null {
  if (how === 'empty' || value === null || value === undefined) return null;
  // A birth year (YYYY-MM-DD) and a postcode's digits (1234AB) are both the first four characters.
  const text = String(value);
  return /^\d{4}/.test(text) ? text.slice(0, 4) : null;
}
