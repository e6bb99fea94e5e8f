import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { deliveryDictionary } from '../usecases/deliver-dictionary.js';
import type { CliContext } from './command.js';
import { register as registerDictionary } from './dictionary.js';
import { register } from './flatten.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ketendata-flatten-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(args: string[], secret: string | null = 'een-geheim-van-minstens-32-tekens!!') {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const ctx: CliContext = {
    config: { databaseUrl: undefined, dataDir: work, secret: secret ?? undefined, trustedProxies: [] },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    setExitCode: (c) => {
      code = c;
    },
  };
  const program = new Command().exitOverride();
  register(program, ctx);
  registerDictionary(program, ctx);
  await program.parseAsync(args, { from: 'user' });
  return { out, err, code };
}

const readCsv = (file: string, delimiter = ';') => {
  const bytes = readFileSync(file);
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  return parse(bytes.subarray(3).toString('utf8'), { delimiter }) as string[][];
};

describe('ketendata flatten', () => {
  it('flattens the good files, names every bad file on one line of stderr and exits non-zero', async () => {
    const out = join(work, 'a');
    const r = await run([
      'flatten',
      `${FIXTURES}istandaarden/ijw-voorbeelden`,
      `${FIXTURES}invalid`,
      `${FIXTURES}variants/JW301-prefix.xml`,
      `${FIXTURES}bestaat-niet`,
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    const invalidFiles = readdirSync(`${FIXTURES}invalid`);
    // 2 published examples are invalid, every file under invalid/, and the missing path.
    expect(r.err).toHaveLength(2 + invalidFiles.length + 1);
    for (const f of [...invalidFiles, 'JW315.xml', 'JW318.xml', 'bestaat-niet']) {
      expect(
        r.err.filter((l) => l.includes(f)),
        f,
      ).toHaveLength(1);
    }
    // The prefix variant is the same message (same BerichtId): one row, as in a delivery.
    expect(r.out.join('\n')).toContain('12 messages flattened, 1 duplicate written once');
    const main = readCsv(join(out, 'JW301.csv'));
    expect(main).toHaveLength(2);
    expect(main[1]?.[0]).toMatch(/^[0-9a-f]{32}$/);
    const all = readdirSync(out)
      .map((f) => readFileSync(join(out, f), 'utf8'))
      .join('\n');
    expect(all).not.toContain('999900006');
  });

  it('refuses a key shorter than the 32 characters KETENDATA_SECRET needs', async () => {
    const r = await run([
      'flatten',
      `${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`,
      '--out',
      join(work, 'k'),
      '--key',
      'abc',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['flatten: the key is too short: use at least 32 characters (flatten.short_key)']);
    expect(existsSync(join(work, 'k'))).toBe(false);
  });

  it('refuses a key that is blank or starts or ends with whitespace', async () => {
    const input = `${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`;
    const blank = await run(['flatten', input, '--out', join(work, 'w1'), '--key', ' '.repeat(35)]);
    expect(blank.code).toBe(2);
    expect(blank.err).toEqual([
      'flatten: the key is only whitespace: use a random string of at least 32 characters (flatten.blank_key)',
    ]);
    for (const key of ['sleutel-een-sleutel-een-sleutel-een ', '\tsleutel-een-sleutel-een-sleutel-een']) {
      const r = await run(['flatten', input, '--out', join(work, 'w2'), '--key', key]);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([
        'flatten: the key starts or ends with whitespace (a space, tab or line break): remove it (flatten.key_whitespace)',
      ]);
    }
    expect(existsSync(join(work, 'w1'))).toBe(false);
    expect(existsSync(join(work, 'w2'))).toBe(false);
  });

  it('uses the given key, delimiter and no BOM on request', async () => {
    const a = join(work, 'b1');
    const b = join(work, 'b2');
    await run([
      'flatten',
      `${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`,
      '--out',
      a,
      '--key',
      'sleutel-een-sleutel-een-sleutel-een',
    ]);
    await run([
      'flatten',
      `${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`,
      '--out',
      b,
      '--key',
      'sleutel-twee-sleutel-twee-sleutel-twee',
      '--delimiter',
      ',',
      '--no-bom',
    ]);
    const rowsA = readCsv(join(a, 'JW301.csv'));
    const textB = readFileSync(join(b, 'JW301.csv'), 'utf8');
    expect(textB.startsWith('BerichtId,Gemeente,')).toBe(true);
    const rowsB = parse(textB, { delimiter: ',' }) as string[][];
    const bsn = (rowsA[0] as string[]).indexOf('Client_Bsn');
    expect(rowsA[1]?.[bsn]).toMatch(/^[0-9a-f]{32}$/);
    expect(rowsB[1]?.[bsn]).toMatch(/^[0-9a-f]{32}$/);
    expect(rowsA[1]?.[bsn]).not.toBe(rowsB[1]?.[bsn]);
  });

  it('writes an integer as a number reads, whichever copy of a message sent as +2 and as 2 comes first', async () => {
    const jw301 = readFileSync(`${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`, 'utf8');
    const signed = jw301.replace('<ijw:Volume>2</ijw:Volume>', '<ijw:Volume>+002</ijw:Volume>');
    expect(signed).not.toBe(jw301);
    const volumes = async (first: string, second: string, name: string) => {
      const input = join(work, `${name}-in`);
      const out = join(work, `${name}-out`);
      mkdirSync(input);
      writeFileSync(join(input, 'a.xml'), first);
      writeFileSync(join(input, 'b.xml'), second);
      const r = await run(['flatten', input, '--out', out]);
      expect(r.out.join('\n')).toContain('1 message flattened, 1 duplicate written once');
      const rows = readCsv(join(out, 'JW301_ToegewezenProduct.csv'));
      const col = (rows[0] as string[]).indexOf('Omvang_Volume');
      return rows.slice(1).map((row) => row[col]);
    };
    expect(await volumes(signed, jw301, 'sign-first')).toEqual(['2', '2']);
    expect(await volumes(jw301, signed, 'sign-second')).toEqual(['2', '2']);
  });

  it('follows links in a folder, names a .xml link to nothing and a folder without .xml files, reads a folder once', async () => {
    const jw301 = `${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`;
    const input = join(work, 'links-in');
    mkdirSync(join(input, 'week.xml'), { recursive: true });
    symlinkSync(jw301, join(input, 'a-link.xml'));
    symlinkSync(join(work, 'nowhere.xml'), join(input, 'b-dangling.xml'));
    writeFileSync(join(input, 'week.xml', 'c.xml'), readFileSync(jw301));
    symlinkSync(input, join(input, 'week.xml', 'loop'));
    symlinkSync('self', join(input, 'self'));
    symlinkSync('self.xml', join(input, 'self.xml'));
    const r = await run(['flatten', input, '--out', join(work, 'links-out')]);
    expect(r.err).toEqual([
      `${join(input, 'b-dangling.xml')}: a link to a file that does not exist (flatten.not_found)`,
      `${join(input, 'self.xml')}: a link that cannot be followed (ELOOP) (flatten.not_found)`,
    ]);
    expect(r.code).toBe(1);
    // The linked file and the one in the folder named week.xml; the loop back is not read again.
    expect(r.out.join('\n')).toContain('1 message flattened, 1 duplicate written once, 2 rejected');

    // A folder whose only .xml files come through a link to a folder given before holds them: not empty.
    const given = join(work, 'links-given');
    const other = join(work, 'links-other');
    mkdirSync(given);
    mkdirSync(other);
    writeFileSync(join(given, 'a.xml'), readFileSync(jw301));
    symlinkSync(given, join(other, 'same'));
    const both = await run(['flatten', given, other, '--out', join(work, 'links-out2')]);
    expect(both).toMatchObject({ err: [], code: 0 });
    // A link back to the folder itself is no .xml file: such a folder is still called empty.
    const selfOnly = join(work, 'links-self-only');
    mkdirSync(selfOnly);
    symlinkSync('.', join(selfOnly, 'self'));
    const lonely = await run(['flatten', selfOnly, '--out', join(work, 'links-out3')]);
    expect(lonely.err).toEqual([`${selfOnly}: no .xml files in this folder (flatten.no_files)`]);

    const empty = join(work, 'empty-in');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    writeFileSync(join(empty, 'sub', 'notes.txt'), 'geen bericht');
    const none = await run(['flatten', empty, '--out', join(work, 'empty-out')]);
    expect(none.err).toEqual([`${empty}: no .xml files in this folder (flatten.no_files)`]);
    expect(none.code).toBe(1);
  });

  it('refuses to run without a key', async () => {
    const r = await run(['flatten', `${FIXTURES}variants`, '--out', join(work, 'c')], null);
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain('KETENDATA_SECRET');
  });
});

describe('ketendata flatten --leave-out-personal-data', () => {
  it('leaves names and contact details empty and keeps a birth year and a 4-digit postcode', async () => {
    const example = `${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`;
    const full = join(work, 'full');
    const out = join(work, 'left-out');
    expect((await run(['flatten', example, '--out', full])).code).toBe(0);
    expect((await run(['flatten', example, '--out', out, '--leave-out-personal-data'])).code).toBe(0);
    const byName = (file: string) => {
      const [header, ...rows] = readCsv(file);
      return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
    };
    const [before] = byName(join(full, 'JW301.csv'));
    const [after] = byName(join(out, 'JW301.csv'));
    expect(before!.Client_Naam_Geslachtsnaam_Achternaam).not.toBe('');
    expect(after!.Client_Naam_Geslachtsnaam_Achternaam).toBe('');
    expect(after!.Client_Geboortedatum_Datum).toBe(before!.Client_Geboortedatum_Datum!.slice(0, 4));
    // Not personal data: unchanged, and the hashes the same.
    expect(after!.Client_Bsn).toBe(before!.Client_Bsn);
    expect(after!.Header_BerichtIdentificatie_Identificatie).toBe(
      before!.Header_BerichtIdentificatie_Identificatie,
    );
    const contacts = byName(join(out, 'JW301_ClientContact.csv'));
    const postcodes = byName(join(full, 'JW301_ClientContact.csv')).map((r) => r.Adres_Postcode);
    expect(contacts.map((r) => r.Adres_Postcode)).toEqual(postcodes.map((p) => p?.slice(0, 4)));
    expect(contacts.every((r) => r.Adres_Straatnaam === '')).toBe(true);
  });
});

describe('ketendata flatten and a BSN in free text', () => {
  it('masks nine digits that pass the 11-test in a comment, and keeps other numbers', async () => {
    const example = readFileSync(`${FIXTURES}istandaarden/ijw-voorbeelden/JW301.xml`, 'utf8');
    const dir = mkdtempSync(join(work, 'free-text-'));
    const file = join(dir, 'JW301.xml');
    writeFileSync(
      file,
      example.replace('>Commentaar client<', '>BSN moeder 999 900 006, dossier 999900007<'),
    );
    const out = join(dir, 'out');
    expect((await run(['flatten', file, '--out', out])).code).toBe(0);
    const [header, row] = readCsv(join(out, 'JW301.csv'));
    expect(row![header!.indexOf('Client_Commentaar')]).toBe('BSN moeder *** *** ***, dossier 999900007');
  });
});

describe('ketendata dictionary', () => {
  it('writes the dictionary as Markdown and CSV', async () => {
    const out = join(work, 'd');
    const r = await run(['dictionary', '--out', out]);
    expect(r.code).toBe(0);
    const rows = readCsv(join(out, 'Gegevenswoordenboek.csv'));
    expect(rows[0]?.[0]).toBe('Bestand');
    expect(rows.some((row) => row[0] === 'JW301.csv' && row[1] === 'Client_Bsn' && row[8] === 'ja')).toBe(
      true,
    );
    expect(readFileSync(join(out, 'Gegevenswoordenboek.md'), 'utf8')).toContain('## WMO325_RetourCode.csv');
    // The same dictionary a delivery carries: the Koppeltabel too.
    expect(rows.filter((row) => row[0] === 'Koppeltabel.csv').length).toBeGreaterThan(5);
    // A link between whole messages has no row numbers.
    const cardinality = (column: string) =>
      rows.find((row) => row[0] === 'Koppeltabel.csv' && row[1] === column)?.[6];
    expect([cardinality('Van_Rij'), cardinality('Naar_Rij'), cardinality('Van_BerichtId')]).toEqual([
      '0..1',
      '0..1',
      '1..1',
    ]);
    const delivered = deliveryDictionary().find((f) => f.name === 'Gegevenswoordenboek.csv')!;
    expect(readFileSync(join(out, 'Gegevenswoordenboek.csv'), 'utf8')).toBe(String(delivered.content));
  });

  it('takes tab (or \\t) as delimiter, as flatten does', async () => {
    for (const tab of ['tab', '\\t']) {
      const out = join(work, `d-${tab.length}`);
      expect((await run(['dictionary', '--out', out, '--delimiter', tab])).code).toBe(0);
      const header = readFileSync(join(out, 'Gegevenswoordenboek.csv'), 'utf8').split('\r\n')[0]!;
      expect(header.replace(/^\uFEFF/, '').split('\t')[0]).toBe('Bestand');
    }
  });
});
