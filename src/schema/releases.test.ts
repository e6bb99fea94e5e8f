import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRelease, RELEASE_3_2, XSD_DIR } from './releases.js';

describe('release 3.2 schema set', () => {
  const { set, derivedXsds } = loadRelease();

  it('has all 14 iJw and 14 iWmo message types, 7 iWmo retours derived', () => {
    expect(set.messages.filter((m) => m.standard === 'ijw')).toHaveLength(14);
    expect(set.messages.filter((m) => m.standard === 'iwmo')).toHaveLength(14);
    expect(set.messages.filter((m) => m.derivedFrom).map((m) => m.code)).toEqual([
      'WMO302',
      'WMO306',
      'WMO308',
      'WMO316',
      'WMO318',
      'WMO320',
      'WMO325',
    ]);
  });

  it('keeps the derived XSD files on disk identical to the derivation (run scripts/derive-xsds to refresh)', () => {
    for (const [file, text] of derivedXsds) {
      expect(readFileSync(`${XSD_DIR}${RELEASE_3_2.derivedDir}/${file}`, 'utf8'), file).toBe(text);
    }
  });

  it('derives WMO316 and WMO320 without the iJw-only elements of their heen messages', () => {
    const cols = (code: string) => set.byCode(code)!.tables.flatMap((t) => t.columns.map((c) => c.name));
    expect(cols('JW316')).toContain('Client_GezagsdragerBekend');
    expect(cols('WMO316')).not.toContain('Client_GezagsdragerBekend');
    expect(cols('JW320')).toContain('Antwoord_Woonplaatsbeginsel_Gemeente');
    expect(cols('WMO320')).not.toContain('Antwoord_Woonplaatsbeginsel_Gemeente');
  });

  it('names tables and columns as the product contract does', () => {
    const jw301 = set.byCode('JW301')!;
    expect(jw301.tables.map((t) => t.name)).toEqual([
      'JW301',
      'JW301_Relatie',
      'JW301_ClientContact',
      'JW301_ToegewezenProduct',
    ]);
    const main = jw301.tables[0]!.columns.map((c) => c.name);
    expect(main).toContain('Client_Bsn');
    expect(main).toContain('Header_BerichtIdentificatie_Dagtekening');
    const relatie = jw301.tables[1]!.columns.map((c) => c.name);
    expect(relatie).toContain('Contact_Adres_Postcode');
    const product = jw301.tables[3]!.columns;
    expect(product.find((c) => c.name === 'Product_Categorie')?.cardinality).toBe('0..1');
    expect(product.find((c) => c.name === 'ToewijzingNummer')?.hashed).toBe('ToewijzingNummer');
    expect(set.byCode('JW323')!.tables.map((t) => t.name)).toEqual([
      'JW323',
      'JW323_Client',
      'JW323_Prestatie',
    ]);
    expect(set.byCode('JW323')!.tables[2]!.keyColumns).toEqual([
      'BerichtId',
      'ClientVolgnr',
      'PrestatieVolgnr',
    ]);
  });

  it('reads the municipality header field from the LDT_Gemeente type', () => {
    expect(set.byCode('JW301')!.gemeenteField).toBe('Afzender');
    expect(set.byCode('JW302')!.gemeenteField).toBe('Afzender');
    expect(set.byCode('JW305')!.gemeenteField).toBe('Ontvanger');
    expect(set.byCode('WMO325')!.gemeenteField).toBe('Afzender');
  });

  it('puts every RetourCode list of a retour message in one table with the level that holds it', () => {
    const list = set.byCode('JW302')!.tables.find((t) => t.name === 'JW302_RetourCode')!;
    expect(list.levels!.map((l) => l.level).sort()).toEqual(
      ['Client', 'ClientContact', 'Header', 'Relatie', 'Relatie_Contact', 'ToegewezenProduct'].sort(),
    );
  });

  it('tags exactly the four identifier elements as hashed', () => {
    const hashed = new Set(
      set.messages.flatMap((m) =>
        m.tables.flatMap((t) => t.columns.filter((c) => c.hashed).map((c) => c.path!.at(-1))),
      ),
    );
    expect([...hashed].sort()).toEqual([
      'BeschikkingNummer',
      'Bsn',
      'ReferentieAanbieder',
      'ToewijzingNummer',
    ]);
  });
});
