import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { examples } from '../../test/support/examples.js';
import { parseMessage } from '../ingest/index.js';
import { schemaSet } from '../schema/releases.js';
import {
  codeListRows,
  codeListsCsv,
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

  it('calls a column 1..1 only when every example row fills it (a RetourCode row leaves the ordinals of lower levels empty)', () => {
    const required = new Set(
      rows
        .filter((r) => r.cardinality === '1..1' && !r.column.startsWith('Uitwisseling_'))
        .map((r) => `${r.file}/${r.column}`),
    );
    const checked = new Set<string>();
    for (const e of examples().filter((x) => x.valid)) {
      const outcome = parseMessage(e.text, { file: e.name });
      if (!outcome.ok) throw new Error(outcome.error.message);
      const { schema, tables } = outcome.message;
      for (const t of schema.tables) {
        for (const row of tables.get(t.name) ?? []) {
          t.columns.forEach((c, i) => {
            const id = `${t.name}.csv/${c.name}`;
            // BerichtId is filled in after parsing (pseudonymising); every other required cell is there.
            if (!required.has(id) || c.role === 'messageKey') return;
            checked.add(id);
            expect(row[i] ?? '', `${e.name} ${id}`).not.toBe('');
          });
        }
      }
    }
    expect(checked.size).toBeGreaterThan(300);
    const col = (file: string, column: string) => rows.find((r) => r.file === file && r.column === column);
    expect(col('WMO325_RetourCode.csv', 'ClientVolgnr')?.cardinality).toBe('0..1');
    expect(col('JW302_RetourCode.csv', 'ToegewezenProductVolgnr')?.cardinality).toBe('0..1');
    expect(col('JW302_RetourCode.csv', 'RetourCodeVolgnr')?.cardinality).toBe('1..1');
    expect(col('JW301_ToegewezenProduct.csv', 'ToegewezenProductVolgnr')?.cardinality).toBe('1..1');
  });

  it('types a hashed column as the hash it holds, and keeps the type it has in the message beside it', () => {
    const twn = rows.find((r) => r.file === 'JW301_ToegewezenProduct.csv' && r.column === 'ToewijzingNummer');
    expect(twn).toMatchObject({ typeName: 'LDT_Nummer', baseType: 'string', hashed: true });
    expect(twn?.facets).toBe('gesleutelde hash (32 hex); in het bericht: integer, waarde 0..999999999');
    for (const r of rows.filter((x) => x.hashed)) {
      expect(r.baseType, `${r.file}/${r.column}`).toBe('string');
      expect(r.facets, `${r.file}/${r.column}`).toMatch(/^gesleutelde hash \(32 hex\)/);
    }
  });

  it('describes a repeating element without a text of its own by its place, not by the whole message', () => {
    const markdown = dictionaryMarkdown(set, rows);
    const intro = (file: string) => markdown.slice(markdown.indexOf(`## ${file}`)).split('\n')[2];
    expect(intro('JW323_Client.csv')).toBe(
      'Client in JW323: herhalend element Bericht/Declaratie/Clienten/Client (geen eigen omschrijving in de XSD).',
    );
    expect(intro('JW323.csv')).toBe('Bericht voor declaratie Jeugdhulp.');
    expect(intro('JW301_ToegewezenProduct.csv')).toBe(
      'Gegevens over een product dat de gemeente toewijst aan een aanbieder.',
    );
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

  it('speaks of the Wmo in a derived iWmo message: the texts of the official iWmo message of its family', () => {
    const derived = rows.filter((r) => r.derived);
    expect(derived.length).toBeGreaterThan(100);
    for (const r of derived) expect(r.description, `${r.file}/${r.column}`).not.toMatch(/Jeugd/);
    const text = (file: string, column: string) =>
      rows.find((r) => r.file === file && r.column === column)?.description;
    // The stop's Einddatum as the official WMO307 words it (which differs from the iJw text in more than the law).
    expect(text('WMO308_StopProduct.csv', 'Einddatum')).toBe(text('WMO307_StopProduct.csv', 'Einddatum'));
    expect(text('WMO308_StopProduct.csv', 'Einddatum')).toBe(
      'De datum waarop de Wmo-ondersteuning bij client wordt beeindigd.',
    );
    const markdown = dictionaryMarkdown(set, rows);
    const intro = (file: string) => markdown.slice(markdown.indexOf(`## ${file}`)).split('\n')[2];
    expect(intro('WMO302.csv')).toBe('Bericht voor de toewijzing van Wmo-ondersteuning aan een aanbieder.');
    expect(intro('WMO325.csv')).toBe('Bericht met retourinformatie voor declaratie Wmo-hulp.');
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

  it('lists what every code of every code list means, once per type, in Codelijsten.csv and the Markdown', () => {
    const codes = codeListRows(set);
    // Every enumerated type a column uses, with all its codes, each with the XSD's meaning.
    for (const m of set.messages)
      for (const t of m.tables)
        for (const c of t.columns) {
          const e = c.type?.facets.enumeration;
          if (!e || c.hashed) continue;
          const standard = m.standard === 'ijw' ? 'iJw' : 'iWmo';
          const listed = codes
            .filter((r) => r.standard === standard && r.typeName === c.type!.name)
            .map((r) => r.code);
          expect(listed, `${t.name}/${c.name}`).toEqual(e.map((v) => v.value));
        }
    expect(codes.every((r) => r.description !== '')).toBe(true);
    const keys = codes.map((r) => `${r.standard}/${r.typeName}/${r.code}`);
    expect(new Set(keys).size).toBe(keys.length);
    const back = parse(codeListsCsv(codes, { bom: false }), { delimiter: ';' }) as string[][];
    expect(back[0]).toEqual(['Standaard', 'Type', 'Code', 'Omschrijving']);
    expect(back).toContainEqual(['iJw', 'LDT_Geslacht', '2', 'Vrouwelijk']);
    // One type name, two lists: the product categories of the Jeugdwet and of the Wmo.
    const categories = (standard: string) =>
      back.filter((r) => r[0] === standard && r[1] === 'LDT_ProductCategorie').map((r) => r[2]);
    expect(categories('iJw')).toContain('31');
    expect(categories('iWmo')).toContain('01');
    expect(categories('iJw')).not.toEqual(categories('iWmo'));
    // Leading zeros are part of a code.
    expect(back.some((r) => r[1] === 'LDT_RedenBeeindiging' && r[2] === '02')).toBe(true);
    // The BerichtCode of a header is a pattern in the XSD: its meanings come from the code list, one per message type.
    const berichtcodes = back.filter((r) => r[1] === 'LDT_BerichtCode');
    expect(berichtcodes).toContainEqual(['iJw', 'LDT_BerichtCode', '436', 'JW301 Toewijzing']);
    expect(berichtcodes.filter((r) => r[0] === 'iWmo').length).toBeGreaterThanOrEqual(14);
    expect(berichtcodes).toHaveLength(set.messages.length);
    const markdown = dictionaryMarkdown(set, rows, [], { codes });
    expect(markdown).toContain('## Codelijsten');
    expect(markdown).toContain('### iJw LDT_Geslacht');
    expect(markdown).toContain('| 2 | Vrouwelijk |');
  });

  it("adds the type's text where it says more than the element's: the unit of an amount", () => {
    const col = (file: string, name: string) => rows.find((r) => r.file === file && r.column === name);
    expect(col('JW301_ToegewezenProduct.csv', 'Budget')?.description).toBe(
      'Aanduiding van het toegewezen budget. Type LDT_Budget: Budget in 1/100 van gehanteerde valuta. Bijvoorbeeld 10000 is tienduizend eurocent, is 100 Euro.',
    );
    expect(col('JW323_Prestatie.csv', 'ProductTarief')?.description).toMatch(/eurocent/);
    // A type text of a word or two adds nothing; a hashed column's type describes the clear value.
    expect(col('JW301.csv', 'Client_Geboortedatum_Datum')?.description).toBe(
      'Datum waarop een persoon geboren is.',
    );
    expect(col('JW301.csv', 'Client_Bsn')?.description).not.toContain('Type LDT_');
  });
});
