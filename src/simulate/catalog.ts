/**
 * Products the simulated providers deliver. The national Jeugd product code list is not public in our
 * sources (domain brief, open point 3); codes follow the usual pattern <categorie><letter><nn> as in the
 * official examples (45A03, 55A11, 01A12, 07A01). Categories, units and frequencies are from the code lists.
 */
import type { Standard } from '../schema/model.js';

export interface CatalogProduct {
  readonly categorie: string;
  readonly code: string;
  readonly name: string;
  /** LDT_Eenheid. */
  readonly eenheid: string;
  /** LDT_Frequentie: 1 dag, 2 week, 4 maand, 6 totaal. */
  readonly frequentie: string;
  /** Typical assigned volume per frequency period: [min, max]. */
  readonly volume: readonly [number, number];
  /** Eurocent per unit. */
  readonly tarief: number;
  /** Relative frequency among new toewijzingen. */
  readonly weight: number;
  /** Typical length of a toewijzing in months: [min, max]. */
  readonly months: readonly [number, number];
}

const IJW: readonly CatalogProduct[] = [
  {
    categorie: '45',
    code: '45A03',
    name: 'Ambulante begeleiding individueel',
    eenheid: '04',
    frequentie: '2',
    volume: [1, 4],
    tarief: 7850,
    weight: 30,
    months: [3, 12],
  },
  {
    categorie: '45',
    code: '45A04',
    name: 'Ambulante behandeling individueel',
    eenheid: '04',
    frequentie: '4',
    volume: [4, 12],
    tarief: 10450,
    weight: 20,
    months: [3, 9],
  },
  {
    categorie: '45',
    code: '45A11',
    name: 'Ambulante begeleiding groep',
    eenheid: '16',
    frequentie: '2',
    volume: [1, 3],
    tarief: 4320,
    weight: 6,
    months: [3, 12],
  },
  {
    categorie: '41',
    code: '41A01',
    name: 'Dagbehandeling',
    eenheid: '16',
    frequentie: '2',
    volume: [2, 5],
    tarief: 9480,
    weight: 8,
    months: [3, 12],
  },
  {
    categorie: '43',
    code: '43A02',
    name: 'Verblijf met behandeling',
    eenheid: '14',
    frequentie: '4',
    volume: [28, 31],
    tarief: 24900,
    weight: 4,
    months: [6, 12],
  },
  {
    categorie: '44',
    code: '44A01',
    name: 'Pleegzorg',
    eenheid: '14',
    frequentie: '4',
    volume: [28, 31],
    tarief: 6150,
    weight: 4,
    months: [6, 12],
  },
  {
    categorie: '54',
    code: '54A01',
    name: 'Jeugd-ggz behandeling',
    eenheid: '01',
    frequentie: '6',
    volume: [600, 2400],
    tarief: 182,
    weight: 14,
    months: [3, 12],
  },
  {
    categorie: '40',
    code: '40A01',
    name: 'Persoonlijke verzorging jeugd',
    eenheid: '04',
    frequentie: '2',
    volume: [2, 6],
    tarief: 5560,
    weight: 4,
    months: [6, 12],
  },
  {
    categorie: '42',
    code: '42A01',
    name: 'Vervoer naar dagbehandeling',
    eenheid: '84',
    frequentie: '2',
    volume: [4, 10],
    tarief: 2630,
    weight: 4,
    months: [3, 12],
  },
  {
    categorie: '55',
    code: '55A11',
    name: 'Landelijk ingekochte zorg traject',
    eenheid: '82',
    frequentie: '6',
    volume: [1, 1],
    tarief: 412000,
    weight: 2,
    months: [6, 12],
  },
];

const IWMO: readonly CatalogProduct[] = [
  {
    categorie: '01',
    code: '01A01',
    name: 'Hulp bij het huishouden',
    eenheid: '04',
    frequentie: '2',
    volume: [2, 4],
    tarief: 3290,
    weight: 35,
    months: [6, 12],
  },
  {
    categorie: '01',
    code: '01A02',
    name: 'Hulp bij het huishouden plus',
    eenheid: '04',
    frequentie: '2',
    volume: [2, 5],
    tarief: 3640,
    weight: 8,
    months: [6, 12],
  },
  {
    categorie: '02',
    code: '02A01',
    name: 'Begeleiding individueel',
    eenheid: '04',
    frequentie: '2',
    volume: [1, 5],
    tarief: 6480,
    weight: 22,
    months: [3, 12],
  },
  {
    categorie: '07',
    code: '07A01',
    name: 'Dagbesteding',
    eenheid: '16',
    frequentie: '2',
    volume: [1, 4],
    tarief: 5210,
    weight: 14,
    months: [6, 12],
  },
  {
    categorie: '03',
    code: '03A01',
    name: 'Persoonlijke verzorging',
    eenheid: '04',
    frequentie: '2',
    volume: [2, 7],
    tarief: 5420,
    weight: 6,
    months: [3, 12],
  },
  {
    categorie: '04',
    code: '04A01',
    name: 'Kortdurend verblijf',
    eenheid: '14',
    frequentie: '4',
    volume: [2, 6],
    tarief: 14200,
    weight: 4,
    months: [3, 12],
  },
  {
    categorie: '15',
    code: '15A01',
    name: 'Beschermd wonen',
    eenheid: '14',
    frequentie: '4',
    volume: [28, 31],
    tarief: 11850,
    weight: 5,
    months: [6, 12],
  },
  {
    categorie: '08',
    code: '08A01',
    name: 'Vervoer dagbesteding',
    eenheid: '84',
    frequentie: '2',
    volume: [2, 8],
    tarief: 1790,
    weight: 6,
    months: [6, 12],
  },
];

export function catalog(standard: Standard): readonly CatalogProduct[] {
  return standard === 'ijw' ? IJW : IWMO;
}
