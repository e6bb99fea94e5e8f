// Test support for the indicators (imported by tests only): hand-made journeys written with the
// simulator's message builders and stored through the real ingest (parse, XSD, pseudonymise, link).
import { dayFromIso } from '../domain/calendar.js';
import * as build from '../simulate/messages.js';
import type {
  AangevraagdProductRow,
  Antwoord,
  Declaratie,
  Header,
  Person,
  RetourInfo,
  StartRow,
  StopRow,
  ToegewezenProductRow,
  Verzoek,
} from '../simulate/model.js';
import type { Store } from '../store/open.js';
import { testBsn, testKeys } from './deliveries.fixtures.js';
import { ingestOne } from './ingest-exchanges.js';

export const AGB = '12345678';
const d = dayFromIso;

let counter = 0;
const nextId = () => `IND${String(++counter).padStart(6, '0')}`;

export function person(n: number): Person {
  return {
    bsn: testBsn(n),
    birth: d('2012-05-01'),
    gender: '1',
    achternaam: 'Jansen',
    voornamen: 'Piet',
    voorletters: 'P',
    address: { huisnummer: 1, postcode: '1234AB', straat: 'Dorpsstraat', plaats: 'Dorp' },
    phone: '0612345678',
  };
}

/** Sends hand-made messages of one gemeente through the real ingest. */
export class Journeys {
  constructor(
    private readonly store: Store,
    readonly gemeente: string,
  ) {}

  async #ingest(bytes: Uint8Array, fromGemeente: boolean, dag: string): Promise<void> {
    const r = await ingestOne(
      { store: this.store, keys: testKeys(), now: () => new Date(`${dag}T12:00:00Z`) },
      {
        source: `indicators-${counter}.xml`,
        bytes: Buffer.from(bytes),
        moment: `${dag}T10:00:00.000Z`,
        verzender: fromGemeente ? this.gemeente : AGB,
        ontvanger: fromGemeente ? AGB : this.gemeente,
        hubId: null,
      },
    );
    if (r.seq === undefined) throw new Error(`not stored: ${JSON.stringify(r)}`);
  }

  #header(code: string, dag: string, fromGemeente: boolean): Header {
    return {
      standard: code.startsWith('JW') ? 'ijw' : 'iwmo',
      code,
      afzender: fromGemeente ? this.gemeente : AGB,
      ontvanger: fromGemeente ? AGB : this.gemeente,
      identificatie: nextId(),
      dagtekening: d(dag),
    };
  }

  /** Sends a heen message and, when `retour` is given, its retour (`codes`: per row, a class-level answer). */
  async #heen(
    h: Header,
    write: (retour?: RetourInfo) => Uint8Array,
    retour?: { dag: string; rowCodes?: string[][] },
    spell?: (xml: string) => string,
  ): Promise<void> {
    const fromGemeente = h.afzender === this.gemeente;
    const heen = spell ? Buffer.from(spell(Buffer.from(write()).toString('utf8')), 'utf8') : write();
    await this.#ingest(heen, fromGemeente, isoOf(h.dagtekening));
    if (!retour) return;
    const info: RetourInfo = {
      identificatie: nextId(),
      dagtekening: d(retour.dag),
      ...(retour.rowCodes ? { classCodes: { client: ['0200'], rows: retour.rowCodes } } : {}),
    };
    await this.#ingest(write(info), !fromGemeente, retour.dag);
  }

  toewijzing(
    code: 'JW301' | 'WMO301',
    dag: string,
    client: Person,
    rows: ToegewezenProductRow[],
    retour?: { dag: string; rowCodes?: string[][] },
  ) {
    const h = this.#header(code, dag, true);
    return this.#heen(h, (r) => build.toewijzing(h, client, rows, 'tabs', r), retour);
  }

  start(
    code: 'JW305' | 'WMO305',
    dag: string,
    client: Person,
    rows: StartRow[],
    retour?: { dag: string; rowCodes?: string[][] },
    /** Rewrites the heen message's XML before it is sent (another spelling of a value, e.g. `007` for 7). */
    spell?: (xml: string) => string,
  ) {
    const h = this.#header(code, dag, false);
    return this.#heen(h, (r) => build.start(h, client, rows, 'tabs', r), retour, spell);
  }

  stop(code: 'JW307' | 'WMO307', dag: string, client: Person, rows: StopRow[]) {
    const h = this.#header(code, dag, false);
    return this.#heen(h, (r) => build.stop(h, client, rows, 'tabs', r));
  }

  verzoek(
    code: 'JW315' | 'WMO315',
    dag: string,
    client: Person,
    rows: AangevraagdProductRow[],
    retour?: { dag: string; rowCodes?: string[][] },
  ) {
    const h = this.#header(code, dag, false);
    return this.#heen(h, (r) => build.verzoekOmToewijzing(h, client, rows, 'tabs', r), retour);
  }

  wijziging(code: 'JW317' | 'WMO317', dag: string, client: Person, v: Verzoek) {
    const h = this.#header(code, dag, false);
    return this.#heen(h, (r) => build.verzoekOmWijziging(h, client, v, 'tabs', r));
  }

  antwoord(code: 'JW319' | 'WMO319', dag: string, a: Antwoord) {
    const h = this.#header(code, dag, true);
    return this.#heen(h, (r) => build.antwoord(h, a, 'tabs', r));
  }

  /**
   * A 323 and its 325 rejecting the given prestaties (client index → prestatie indexes), or, with
   * `headerCodes`, rejecting the whole declaratie with those codes in its header.
   */
  async declaratie(
    code: 'JW323' | 'WMO323',
    dag: string,
    decl: Declaratie,
    rejected: [number, number][],
    headerCodes?: string[],
  ) {
    const h = this.#header(code, dag, false);
    await this.#ingest(build.declaratie(h, decl, 'tabs'), false, dag);
    const answer = this.#header(code.replace('323', '325'), dag, true);
    const map = new Map<number, Map<number, string[]>>();
    for (const [c, p] of rejected) {
      if (!map.has(c)) map.set(c, new Map());
      map.get(c)!.set(p, ['9307']);
    }
    await this.#ingest(
      build.declaratieAntwoord(
        answer,
        h,
        { declaratie: decl, rejected: map, ...(headerCodes ? { headerCodes } : {}) },
        'tabs',
      ),
      true,
      dag,
    );
  }

  /**
   * Two versions of one 323: the same identification, other content (a conflict), a day apart. Then a 325 for
   * each of `answers`, all with that header: rejecting nothing, or with those codes in its header.
   */
  async conflictingDeclaratie(
    code: 'JW323' | 'WMO323',
    dag: string,
    first: Declaratie,
    second: Declaratie,
    answers: (string[] | undefined)[] = [],
  ) {
    const h = this.#header(code, dag, false);
    await this.#ingest(build.declaratie(h, first, 'tabs'), false, dag);
    await this.#ingest(build.declaratie(h, second, 'tabs'), false, dag);
    for (const headerCodes of answers) {
      const answer = this.#header(code.replace('323', '325'), dag, true);
      const reply = { declaratie: first, rejected: new Map(), ...(headerCodes ? { headerCodes } : {}) };
      await this.#ingest(build.declaratieAntwoord(answer, h, reply, 'tabs'), true, dag);
    }
  }
}

function isoOf(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

export const product = { categorie: '45', code: '45A03' } as const;
export const wmoProduct = { categorie: '02', code: '02A01' } as const;

export function assigned(
  nummer: number,
  toewijzingsdatum: string,
  ingangsdatum: string,
  referentie?: string,
  p: { categorie: string; code: string } = product,
): ToegewezenProductRow {
  return {
    nummer,
    ...(referentie ? { referentie } : {}),
    product: p,
    toewijzingsdatum: d(toewijzingsdatum),
    toewijzingstijd: '10:00:00',
    ingangsdatum: d(ingangsdatum),
    einddatum: d('2024-12-31'),
    omvang: { volume: 4, eenheid: '04', frequentie: '2' },
  };
}

export function requested(referentie: string, ingangsdatum: string): AangevraagdProductRow {
  return {
    referentie,
    product,
    toewijzingIngangsdatum: d(ingangsdatum),
    omvang: { volume: 4, eenheid: '04', frequentie: '2' },
    verwijzerType: '02',
    verwijzerNaam: 'Huisarts',
  };
}
