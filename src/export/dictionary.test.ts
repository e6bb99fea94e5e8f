import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { schemaSet } from '../schema/releases.js';
import {
  DICTIONARY_HEADER,
  dictionaryCsv,
  dictionaryMarkdown,
  dictionaryRows,
  type ExtraTable,
} from './dictionary.js';

const set = schemaSet();

describe('data dictionary', () => {
  const rows = dictionaryRows(set);

  it('describes every column of every delivered file exactly once', () => {
    const expected = set.messages.flatMap((m) =>
      m.tables.flatMap((t) => t.columns.map((c) => `${t.name}.csv/${c.name}`)),
    );
    expect(rows.map((r) => `${r.file}/${r.column}`)).toEqual(expected);
  });

  it('gives the path, type, Dutch description and cardinality of a value column', () => {
    const bsn = rows.find((r) => r.file === 'JW301.csv' && r.column === 'Client_Bsn');
    expect(bsn).toMatchObject({
      path: 'Bericht/Client/Bsn',
      typeName: 'LDT_BurgerServicenummer',
      baseType: 'string',
      cardinality: '1..1',
      hashed: true,
      derived: false,
    });
    expect(bsn?.facets).toContain('patroon [0-9]{9}');
    expect(bsn?.description).toMatch(/^Een door de overheid toegekend identificerend nummer/);
    const categorie = rows.find(
      (r) => r.file === 'JW301_ToegewezenProduct.csv' && r.column === 'Product_Categorie',
    );
    expect(categorie?.cardinality).toBe('0..1');
    expect(categorie?.facets).toMatch(/codelijst \(\d+ waarden\): 31, 32/);
  });

  it('types the hub metadata: the moment as a UTC dateTime, the count of passages as an integer', () => {
    const col = (name: string) => rows.find((r) => r.file === 'JW301.csv' && r.column === name);
    expect(col('Uitwisseling_Aantal')?.baseType).toBe('integer');
    expect(col('Uitwisseling_Moment')?.baseType).toBe('dateTime');
    expect(col('Uitwisseling_Moment')?.description).toMatch(/in UTC: ISO-8601 met Z.*\+01:00.*\+02:00/);
    // As known when the delivery was made: a later passage or version does not change an earlier weekly.
    for (const name of ['Uitwisseling_Aantal', 'Uitwisseling_Afwijkend'])
      expect(col(name)?.description, name).toMatch(/eerdere wekelijkse levering (verandert )?niet/);
    expect(dictionaryMarkdown(set, rows)).toContain('staan in UTC: ISO-8601 met Z');
  });

  it('marks exactly the four identifier columns as hashed', () => {
    const hashed = new Set(rows.filter((r) => r.hashed).map((r) => r.path.split('/').at(-1)));
    expect([...hashed].sort()).toEqual([
      'BeschikkingNummer',
      'Bsn',
      'ReferentieAanbieder',
      'ToewijzingNummer',
    ]);
  });

  it('marks the derived iWmo messages as derived, and only those', () => {
    const derivedFiles = new Set(
      rows.filter((r) => r.derived).map((r) => r.file.replace(/(_.*)?\.csv$/, '')),
    );
    expect([...derivedFiles].sort()).toEqual(
      set.messages
        .filter((m) => m.derivedFrom)
        .map((m) => m.code)
        .sort(),
    );
    const markdown = dictionaryMarkdown(set, rows);
    expect(markdown).toContain('## WMO302.csv');
    expect(markdown).toMatch(/## WMO302\.csv[\s\S]*?Afgeleid bericht[\s\S]*?JW302/);
  });

  it('describes the generated columns (keys, ordinals, level, municipality, exchange) in Dutch', () => {
    const niveau = rows.find((r) => r.file === 'JW302_RetourCode.csv' && r.column === 'Niveau');
    expect(niveau?.description).toContain('Header');
    const ordinal = rows.find(
      (r) => r.file === 'JW301_ToegewezenProduct.csv' && r.column === 'ToegewezenProductVolgnr',
    );
    expect(ordinal?.description).toMatch(/^Volgnummer/);
    for (const r of rows) expect(r.description, `${r.file}/${r.column}`).not.toBe('');
  });

  it('writes CSV that reads back with the same rows, and takes extra tables', () => {
    const extra: ExtraTable = {
      file: 'Koppeltabel.csv',
      description: 'Relaties tussen berichten.',
      rows: [
        {
          file: 'Koppeltabel.csv',
          column: 'Relatie',
          path: '',
          typeName: 'relatie',
          baseType: 'string',
          facets: '',
          cardinality: '1..1',
          description: 'Soort relatie; met "aanhalingstekens"; en puntkomma',
          hashed: false,
          derived: false,
        },
      ],
    };
    const all = dictionaryRows(set, [extra]);
    const back = parse(dictionaryCsv(all).slice(1), { delimiter: ';' }) as string[][];
    expect(back[0]).toEqual([...DICTIONARY_HEADER]);
    expect(back).toHaveLength(all.length + 1);
    expect(back.at(-1)?.[7]).toBe('Soort relatie; met "aanhalingstekens"; en puntkomma');
    expect(dictionaryMarkdown(set, all, [extra])).toContain(
      '## Koppeltabel.csv\n\nRelaties tussen berichten.',
    );
  });
});
