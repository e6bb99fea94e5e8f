/**
 * The organisations of a simulated run: real CBS municipality codes and names (gemeentecodes.csv), head
 * organisations formed by youth care regions (jeugdzorgregio) acting for their members, and invented
 * providers (aanbieders) with well-formed 8-digit AGB codes.
 */

import { type GemeenteRow, readGemeenten } from '../schema/codelists.js';
import type { Standard } from '../schema/model.js';
import type { Random } from './random.js';

export interface Gemeente {
  readonly code: string;
  readonly name: string;
  readonly provincie: string;
  readonly regio: string;
  /** Relative size: how many of the clients live here. */
  readonly weight: number;
  /** How this municipality's system spells messages (software vendor). */
  readonly style: number;
  /** Share of iWmo care that starts with a request (315) rather than a municipality decision. */
  readonly votShareWmo: number;
}

export interface HeadOrganisation {
  readonly code: string;
  readonly name: string;
  readonly members: readonly string[];
}

export interface Aanbieder {
  readonly agb: string;
  readonly name: string;
  readonly standards: readonly Standard[];
  readonly style: number;
  readonly weight: number;
  /** Product codes it delivers. */
  readonly products: readonly string[];
}

/**
 * `spec` is a comma-separated list of CBS codes, or a number N: N municipalities, taken region by region
 * (so that a head organisation has several members), starting at a region picked by the seed.
 */
export function chooseGemeenten(spec: string, random: Random): GemeenteRow[] {
  const all = readGemeenten();
  if (/^\s*\d+\s*$/.test(spec) && spec.trim().length < 4) {
    const n = Number(spec);
    if (n < 1 || n > all.length)
      throw new Error(`simulate.bad_option: --gemeenten ${n} must be 1–${all.length}`);
    const regions = [...new Set(all.map((g) => g.regio))].sort();
    const startAt = random.int(0, regions.length - 1);
    const chosen: GemeenteRow[] = [];
    for (let i = 0; i < regions.length && chosen.length < n; i++) {
      const regio = regions[(startAt + i) % regions.length];
      for (const g of all.filter((x) => x.regio === regio)) if (chosen.length < n) chosen.push(g);
    }
    return chosen;
  }
  const byCode = new Map(all.map((g) => [g.code, g]));
  return spec.split(',').map((raw) => {
    const code = raw.trim().padStart(4, '0');
    const g = byCode.get(code);
    if (!g) throw new Error(`simulate.bad_option: --gemeenten: ${raw.trim()} is not a CBS municipality code`);
    return g;
  });
}

export function makeGemeenten(rows: readonly GemeenteRow[], random: Random, styles: number): Gemeente[] {
  return rows.map((r) => ({
    ...r,
    weight: random.logNormal(1, 0.8),
    style: random.int(0, styles - 1),
    votShareWmo: random.pick([0, 0.1, 0.3, 0.5]),
  }));
}

/** One head organisation per region with two or more chosen members. */
export function headOrganisations(gemeenten: readonly GemeenteRow[]): HeadOrganisation[] {
  const byRegion = new Map<string, string[]>();
  for (const g of gemeenten) {
    const list = byRegion.get(g.regio) ?? [];
    list.push(g.code);
    byRegion.set(g.regio, list);
  }
  return [...byRegion.entries()]
    .filter(([, members]) => members.length >= 2)
    .sort(([a], [b]) => a.localeCompare(b, 'en'))
    .map(([regio, members], i) => ({
      code: `R${String(i + 1).padStart(3, '0')}`,
      name: `Jeugdzorgregio ${regio}`,
      members: [...members].sort(),
    }));
}

const NAME_A = [
  'Zorggroep',
  'Stichting',
  'Jeugdhulp',
  'Thuiszorg',
  'Begeleidingsdienst',
  'Zorgcentrum',
  'Praktijk',
  'Coöperatie',
];
const NAME_B = [
  'De Linde',
  'Het Anker',
  'De Brug',
  'Horizon',
  'De Wending',
  'Kompas',
  'De Hoeve',
  'Het Baken',
  'Zonnehuis',
  'De Eik',
  'Op Koers',
  'Samen Verder',
  'Lichtpunt',
  'De Toekomst',
  'Thuis & Co',
  'Kleurrijk',
  'De Boog',
  'Veldzicht',
  'Rivierenland',
  'Noorderlicht',
  'De Regenboog',
  'Stap Vooruit',
  'Ons Genoegen',
  'Zorg op Maat',
];

/**
 * Providers: a few large regional ones active in both domains and many small ones in one domain.
 * AGB: two digits for the kind of care provider and six for the provider (AGB-register layout).
 */
export function makeAanbieders(
  count: number,
  random: Random,
  styles: number,
  productsFor: (standard: Standard) => readonly string[],
): Aanbieder[] {
  const used = new Set<string>();
  const out: Aanbieder[] = [];
  for (let i = 0; i < count; i++) {
    const r = random.next();
    const standards: Standard[] = r < 0.2 ? ['ijw', 'iwmo'] : r < 0.6 ? ['ijw'] : ['iwmo'];
    const kind = standards.length === 2 ? '73' : standards[0] === 'ijw' ? '75' : '98';
    let agb = '';
    do agb = `${kind}${String(random.int(0, 999_999)).padStart(6, '0')}`;
    while (used.has(agb));
    used.add(agb);
    let name = '';
    do name = `${random.pick(NAME_A)} ${random.pick(NAME_B)}`;
    while (out.some((a) => a.name === name) && out.length < NAME_A.length * NAME_B.length);
    const products: string[] = [];
    for (const s of standards) {
      const all = productsFor(s);
      for (const p of all) if (random.chance(standards.length === 2 ? 0.7 : 0.45)) products.push(p);
      if (!all.some((p) => products.includes(p))) products.push(random.pick(all));
    }
    out.push({
      agb,
      name,
      standards,
      style: random.int(0, styles - 1),
      weight: standards.length === 2 ? random.logNormal(4, 0.4) : random.logNormal(1, 0.7),
      products,
    });
  }
  return out;
}
