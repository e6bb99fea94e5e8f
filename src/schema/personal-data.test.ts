import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { dictionaryCsv, dictionaryRows } from '../export/dictionary.js';
import { leaveOut, leftOutAs, personalDataOf } from './personal-data.js';
import { schemaSet } from './releases.js';

// The leaf names the standard gives these values, checked against the type mapping: a release that renames a
// type (or adds a name or address field) fails here instead of leaving a column unmarked.
const BY_LEAF: Readonly<Record<string, string>> = {
  Achternaam: 'naam',
  Voornamen: 'naam',
  Voorletters: 'naam',
  Voorvoegsel: 'naam',
  Straatnaam: 'adres',
  Huisnummer: 'adres',
  Huisletter: 'adres',
  HuisnummerToevoeging: 'adres',
  Postcode: 'adres',
  Plaatsnaam: 'adres',
  Telefoonnummer: 'telefoon of e-mail',
  Emailadres: 'telefoon of e-mail',
  Commentaar: 'vrije tekst',
  Organisatie: 'adres',
};

function expectedOf(path: readonly string[]): string | undefined {
  const leaf = path.at(-1) ?? '';
  if (path.at(-2) === 'Geboortedatum' && leaf === 'Datum') return 'geboortedatum';
  if (path.at(-2) === 'Verwijzer' && leaf === 'Naam') return 'naam';
  if (path.at(-2) === 'Relatie' && leaf === 'Nummer') return 'persoonsnummer';
  return BY_LEAF[leaf];
}

describe('personal data in clear', () => {
  const columns = schemaSet().messages.flatMap((m) =>
    m.tables.flatMap((t) => t.columns.map((c) => ({ where: `${t.name}/${c.name}`, c }))),
  );

  it('marks exactly the names, birth dates, addresses, contact details and free texts of every message', () => {
    const marked = new Map<string, number>();
    for (const { where, c } of columns) {
      const expected = c.role === 'value' && !c.hashed ? expectedOf(c.path ?? []) : undefined;
      expect(personalDataOf(c), where).toBe(expected);
      if (expected) marked.set(expected, (marked.get(expected) ?? 0) + 1);
    }
    // Every kind occurs: the check above is not vacuous.
    expect([...marked.keys()].sort()).toEqual(
      ['adres', 'geboortedatum', 'naam', 'persoonsnummer', 'telefoon of e-mail', 'vrije tekst'].sort(),
    );
    expect(marked.get('naam')).toBeGreaterThan(50);
  });

  it('never marks a hashed identifier or a code', () => {
    for (const { where, c } of columns) {
      if (c.hashed || c.type?.facets.enumeration) expect(personalDataOf(c), where).toBeUndefined();
    }
  });

  it('shows the kind in the dictionary, in its last column', () => {
    const csv = dictionaryCsv(dictionaryRows(schemaSet()), { bom: false });
    const rows = parse(csv, { delimiter: ';' }) as string[][];
    expect(rows[0]?.at(-1)).toBe('Persoonsgegeven');
    const cell = (file: string, column: string) => rows.find((r) => r[0] === file && r[1] === column)?.at(-1);
    expect(cell('JW301.csv', 'Client_Naam_Geslachtsnaam_Achternaam')).toBe('naam');
    expect(cell('JW301.csv', 'Client_Geboortedatum_Datum')).toBe('geboortedatum');
    expect(cell('JW301_ClientContact.csv', 'Adres_Postcode')).toBe('adres');
    expect(cell('JW301_Relatie.csv', 'Contact_Telefoon_Telefoon01_Telefoonnummer')).toBe(
      'telefoon of e-mail',
    );
    expect(cell('JW315_AangevraagdProduct.csv', 'Verwijzer_Naam')).toBe('naam');
    expect(cell('JW301.csv', 'Client_Bsn')).toBe('');
    expect(cell('JW301_ToegewezenProduct.csv', 'Product_Categorie')).toBe('');
  });

  it('keeps a birth year and a four-digit postcode when personal data is left out, and nothing of the rest', () => {
    const column = (table: string, name: string) =>
      schemaSet()
        .byCode('JW301')!
        .tables.find((t) => t.name === table)!
        .columns.find((c) => c.name === name)!;
    expect(leftOutAs(column('JW301', 'Client_Geboortedatum_Datum'))).toBe('year');
    expect(leftOutAs(column('JW301_ClientContact', 'Adres_Postcode'))).toBe('pc4');
    expect(leftOutAs(column('JW301_ClientContact', 'Adres_Straatnaam'))).toBe('empty');
    expect(leftOutAs(column('JW301', 'Client_Bsn'))).toBeUndefined();
    expect(leaveOut('year', '2012-09-25')).toBe('2012');
    expect(leaveOut('pc4', '7895MP')).toBe('7895');
    expect(leaveOut('empty', 'Groen')).toBeNull();
    expect(leaveOut('year', null)).toBeNull();
    expect(leaveOut('pc4', '')).toBeNull();
  });
});
