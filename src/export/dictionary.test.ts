import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { examples } from '../../test/support/examples.js';
import { parseMessage } from '../ingest/index.js';
import { schemaSet } from '../schema/releases.js';
import { dataDictionary } from '../usecases/deliver-dictionary.js';
import {
  CODE_LIST_HEADER,
  codeListRows,
  codeListsCsv,
  DICTIONARY_FILES,
  DICTIONARY_HEADER,
  type DictionaryRow,
  dictionaryCsv,
  dictionaryMarkdown,
  dictionaryRows,
  type ExtraTable,
  MANIFEST_FILE,
  md,
  mdCode,
} from './dictionary.js';

const set = schemaSet();

describe('data dictionary', () => {
  const rows = dictionaryRows(set);

  it('describes every column of every delivered file exactly once', () => {
    const expected = set.messages.flatMap((m) =>
      m.tables.flatMap((t) => t.columns.map((c) => `${t.name}.csv/${c.name}`)),
    );
    const delivery = new Set<string>([...Object.values(DICTIONARY_FILES), MANIFEST_FILE]);
    const tables = rows.filter((r) => !delivery.has(r.file));
    expect(tables.map((r) => `${r.file}/${r.column}`)).toEqual(expected);
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

  it('says what one row of each file stands for and how many there are per row of the file above, from the XSD', () => {
    const text = dictionaryMarkdown(set, rows);
    expect(text).toContain('Eén rij per bericht (JW301).');
    // Relaties 0..1 × Relatie 1..unbounded: none or any number per message.
    expect(text).toContain('Eén rij per Relatie (Client/Relaties/Relatie); per rij van JW301.csv 0..n.');
    expect(text).toContain(
      'Eén rij per Prestatie (Declaratie/Clienten/Client/Prestaties/Prestatie); per rij van JW323_Client.csv 1..n.',
    );
    expect(text).toMatch(
      /Eén rij per RetourCode uit een lijst, met in Niveau waar de lijst staat: Header\/RetourCodes\/RetourCode \(Niveau Header\)/,
    );
  });

  it('tells an analyst the counting rules the dashboard uses: latest version, rejected messages, deleted toewijzingen', () => {
    const text = dictionaryMarkdown(set, rows);
    expect(text).toContain('Tel alleen de laatste versie');
    expect(text).toContain('het is afgekeurd als de retour');
    expect(text).toMatch(
      /Verwijderde toewijzingen: .*RedenWijziging 13 \(Verwijderd\).*01 \(Administratieve correctie\) met een Einddatum gelijk aan de Ingangsdatum, geldt als nooit verstuurd/,
    );
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
    expect(back.find((r) => r[0] === 'Koppeltabel.csv')?.[7]).toBe(
      'Soort relatie; met "aanhalingstekens"; en puntkomma',
    );
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

  describe('Markdown that renders as it stands', () => {
    const markdown = dictionaryMarkdown(set, rows);
    /** The cells of a table row as GFM splits them: at every `|` not escaped. */
    const cellsOf = (line: string) =>
      line
        .slice(2, -2)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim());
    const lineOf = (file: string, column: string) =>
      markdown
        .slice(markdown.indexOf(`## ${file}\n`))
        .split('\n')
        .find((l) => l.startsWith(`| ${column} |`)) ?? '';
    /** A code span's text as CommonMark reads it: fence and padding off, GFM's `\|` a pipe. */
    const codeText = (cell: string) => {
      const fence = /^`+/.exec(cell)?.[0] ?? '';
      expect(cell.endsWith(fence) && fence.length > 0, cell).toBe(true);
      let text = cell.slice(fence.length, cell.length - fence.length);
      if (text.length > 1 && text.startsWith(' ') && text.endsWith(' ')) text = text.slice(1, -1);
      return text.replace(/\\\|/g, '|');
    };

    it('gives every restriction as a code span with its text verbatim: no emphasis from .*[^\\s].*', () => {
      expect(lineOf('JW301.csv', 'Client_Naam_Geslachtsnaam_Achternaam')).toContain(
        '| `patroon .*[^\\s].*; lengte 1..200` |',
      );
      expect(lineOf('JW302.csv', 'Header_XsdVersieRetour_BerichtXsdVersie')).toContain(
        '| `patroon (0\\|[1-9][0-9]*)\\.(0\\|[1-9][0-9]*)\\.(0\\|[1-9][0-9]*); lengte 1..∞` |',
      );
      let checked = 0;
      for (const r of rows.filter((x) => x.facets !== '' && !x.file.endsWith('.json'))) {
        const cells = cellsOf(lineOf(r.file, r.column));
        expect(cells, `${r.file}/${r.column}`).toHaveLength(8);
        expect(codeText(cells[3] ?? ''), `${r.file}/${r.column}`).toBe(r.facets);
        checked++;
      }
      expect(checked).toBeGreaterThan(1000);
    });

    it('escapes in the other cells what would start emphasis, code, a link, HTML or an entity', () => {
      // Unescaped, each of these changes what is shown; `_` inside a word does not (Client_Bsn).
      const active = /(?<!\\)(?:\\\\)*[*`<[&~]|(?<![\p{L}\p{N}\\])_|(?<!\\)_(?![\p{L}\p{N}])/u;
      const tables = markdown.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Kolom |'));
      expect(tables.length).toBeGreaterThan(1400);
      for (const line of tables)
        for (const cell of cellsOf(line)) {
          // The restrictions and the manifest's fields: code spans, literal as they stand.
          if (!/^(`+).*\1$/.test(cell)) expect(cell, line).not.toMatch(active);
        }
      expect(md('.*[^\\s].* en _x_ <b>&amp; `a` | c ~~d~~ Client_Bsn')).toBe(
        '.\\*\\[^\\\\s\\].\\* en \\_x\\_ \\<b\\>\\&amp; \\`a\\` \\| c \\~\\~d\\~\\~ Client_Bsn',
      );
      // Backticks inside a code span: a longer fence, padded where the text starts or ends with one.
      expect(mdCode('a`b')).toBe('``a`b``');
      expect(mdCode('`a``')).toBe('``` `a`` ```');
      expect(codeText(mdCode('`a`` | b'))).toBe('`a`` | b');
      expect(mdCode('')).toBe('');
    });
  });

  describe('describes a leaf without a text of its own by its nearest documented ancestor, then its type', () => {
    const description = (file: string, column: string) =>
      rows.find((r) => r.file === file && r.column === column)?.description ?? '';

    it('tells the XSD version of the heenbericht from that of the retourbericht', () => {
      const versions = rows.filter((r) => /^Header_Xs(d|lt)Versie/.test(r.column));
      expect(versions.length).toBeGreaterThan(80);
      const heen = description('JW302.csv', 'Header_XsdVersie_BerichtXsdVersie');
      const retour = description('JW302.csv', 'Header_XsdVersieRetour_BerichtXsdVersie');
      expect(heen).toBe(
        "BerichtXsdVersie van XsdVersie: Volgnummer van de formele uitgifte van een versie van de XSD's die zijn " +
          'ingezet voor het opstellen van het heenbericht. Type LDT_Versie: Volgnummer van de formele uitgifte van een versie.',
      );
      expect(retour).toMatch(
        /^BerichtXsdVersie van XsdVersieRetour: .* het retourbericht\. Type LDT_Versie: /,
      );
      expect(description('WMO302.csv', 'Header_XsdVersieRetour_BasisschemaXsdVersie')).toMatch(
        /^BasisschemaXsdVersie van XsdVersieRetour: .* retourbericht\./,
      );
      // Without a documented parent: its place, and the nearest text above it.
      expect(description('JW325.csv', 'Header_XsdVersieDeclaratie_BerichtXsdVersie')).toMatch(
        /^BerichtXsdVersie van XsdVersieDeclaratie in Bericht: Bericht met retourinformatie voor declaratie/,
      );
      expect(description('JW325.csv', 'Header_XsltVersie')).toMatch(/^XsltVersie van Header in Bericht: /);
      for (const r of versions) {
        expect(r.description, `${r.file}/${r.column}`).not.toBe(
          'Volgnummer van de formele uitgifte van een versie.',
        );
        expect(r.description, `${r.file}/${r.column}`).toMatch(/Type LDT_Versie: /);
      }
    });

    it("says a DebetCredit column is the amount's debit/credit indicator, with its codes", () => {
      for (const file of ['JW323_Prestatie.csv', 'JW325_Prestatie.csv', 'WMO323_Prestatie.csv']) {
        expect(description(file, 'IngediendBedrag_DebetCredit'), file).toBe(
          'DebetCredit-indicatie van IngediendBedrag: C (Creditbedrag en aantal) of D (Debetbedrag en aantal). ' +
            'IngediendBedrag: Het bedrag dat gedeclareerd wordt.',
        );
        expect(description(file, 'IngediendBedrag_Bedrag'), file).toMatch(
          /^Bedrag van IngediendBedrag: Het bedrag dat gedeclareerd wordt\. Type LDT_Bedrag: .*eurocent/,
        );
      }
    });

    it("keeps the type's text of a hashed leaf without a text of its own: it is all the leaf has", () => {
      expect(description('JW319.csv', 'Antwoord_ReferentieAanbieder')).toBe(
        'ReferentieAanbieder van Antwoord: Gegevens over het antwoord dat de gemeente geeft op een verzoek van de ' +
          'aanbieder. Type LDT_Referentie: Naam of nummer dat als referentie kan worden meegegeven.',
      );
    });
  });

  describe('the files of a delivery that are not tables', () => {
    const of = (file: string) => rows.filter((r) => r.file === file);

    it('lists the fields of manifest.json as the delivery writes them', () => {
      expect(of(MANIFEST_FILE).map((r) => r.column)).toEqual([
        'organisation',
        'name',
        'members',
        'catchUp',
        'kind',
        'release',
        'period.start',
        'period.end',
        'seq.from',
        'seq.to',
        'linkSeq.from',
        'linkSeq.to',
        'madeAt',
        'availableAt',
        'messages',
        'personalDataLeftOut',
        'files[].name',
        'files[].rows',
        'files[].bytes',
        'files[].sha256',
      ]);
      for (const r of of(MANIFEST_FILE)) expect(r.description, r.column).toMatch(/^[A-Za-z].{10,}\.$/);
      const markdown = dictionaryMarkdown(set, rows);
      expect(markdown).toContain('## Overige bestanden in de levering');
      expect(markdown).toContain('### manifest.json');
      expect(markdown).toContain(
        '| `files[].sha256` | sha256 (string) | 1..1 | SHA-256 van het bestand (64 hex)',
      );
      expect(markdown).toMatch(/\n- manifest\.json: Gegevens over de levering zelf/);
      // Not as a table of its own among the message files.
      expect(markdown).not.toMatch(/\n## manifest\.json/);
    });

    it('gives the dictionary files and Codelijsten.csv a line each, the CSVs their columns', () => {
      expect(of(DICTIONARY_FILES.markdown).map((r) => r.column)).toEqual(['']);
      expect(of(DICTIONARY_FILES.csv).map((r) => r.column)).toEqual([...DICTIONARY_HEADER]);
      expect(of(DICTIONARY_FILES.codes).map((r) => r.column)).toEqual([...CODE_LIST_HEADER]);
      const markdown = dictionaryMarkdown(set, rows);
      for (const file of Object.values(DICTIONARY_FILES))
        expect(markdown, file).toMatch(new RegExp(`\\n- ${file.replace('.', '\\.')}: [A-Z]`));
      expect(markdown).toContain('Kolommen: Standaard, Type, Code, Omschrijving.');
      // In the CSV too, with its columns as they are.
      const back = parse(dictionaryCsv(rows, { bom: false }), { delimiter: ';' }) as string[][];
      expect(back.filter((r) => r[0] === MANIFEST_FILE)).toHaveLength(20);
      expect(back.find((r) => r[0] === 'Codelijsten.csv' && r[1] === 'Code')).toHaveLength(
        DICTIONARY_HEADER.length,
      );
    });
  });

  describe('for an organisation that leaves personal data out', () => {
    const delivered = dataDictionary({ personalDataLeftOut: true }).files;
    const csv = parse(String(delivered.find((f) => f.name === DICTIONARY_FILES.csv)?.content).slice(1), {
      delimiter: ';',
    }) as string[][];
    const markdown = String(delivered.find((f) => f.name === DICTIONARY_FILES.markdown)?.content);
    const row = (file: string, column: string) => csv.find((r) => r[0] === file && r[1] === column) ?? [];

    it('says in the description of each such column what is left, and that the XSD type or 1..1 does not hold', () => {
      expect(row('JW301.csv', 'Client_Geboortedatum_Datum').slice(3, 8)).toEqual([
        'LDT_Datum',
        'date',
        'patroon [^:Z]*',
        '1..1',
        'Datum waarop een persoon geboren is. In deze levering: alleen het jaar (JJJJ), niet volgens het XSD-type.',
      ]);
      expect(row('JW301.csv', 'Client_Geboortedatum_Datum').at(-1)).toBe('geboortedatum (alleen het jaar)');
      expect(row('JW301_ClientContact.csv', 'Adres_Postcode')[7]).toMatch(
        / In deze levering: alleen de 4 cijfers, niet volgens het XSD-type\.$/,
      );
      expect(row('JW301.csv', 'Client_Naam_Geslachtsnaam_Achternaam')[7]).toMatch(
        / In deze levering: leeg gelaten, niet volgens de kardinaliteit 1\.\.1\.$/,
      );
      expect(row('JW301.csv', 'Client_Naam_Voornamen')[7]).toMatch(
        /[^.]\. In deze levering: leeg gelaten\.$/,
      );
      const marked = csv.filter((r) =>
        / \((leeg gelaten|alleen het jaar|alleen de 4 cijfers)\)$/.test(r.at(-1) ?? ''),
      );
      expect(marked.length).toBeGreaterThan(50);
      for (const r of marked) expect(r[7], `${r[0]}/${r[1]}`).toMatch(/ In deze levering: /);
      expect(csv.filter((r) => / In deze levering: /.test(r[7] ?? ''))).toHaveLength(marked.length);
      expect(markdown).toContain(
        '| Datum waarop een persoon geboren is. In deze levering: alleen het jaar (JJJJ), niet volgens het XSD-type. |',
      );
    });

    it('says nothing of it where the organisation gets personal data', () => {
      const all: readonly DictionaryRow[] = rows;
      expect(dictionaryCsv(all)).not.toContain('In deze levering');
      expect(dictionaryMarkdown(set, all)).not.toContain('In deze levering');
    });
  });
});
