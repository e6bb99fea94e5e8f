/**
 * One builder per message family, writing the elements in the XSD's order. A retour is its heen message's
 * builder with `RetourInfo`: header only when accepted or rejected on the header, the content copied back
 * with codes per class when rejected on a class (IV028).
 */

import { type Day, isoDay } from '../domain/calendar.js';
import type { Standard } from '../schema/model.js';
import { schemaSet } from '../schema/releases.js';
import type {
  AangevraagdProductRow,
  Antwoord,
  Declaratie,
  DeclaratieAntwoordContent,
  Header,
  Omvang,
  Person,
  Prestatie,
  Product,
  RetourInfo,
  StartRow,
  StopRow,
  ToegewezenProductRow,
  Verzoek,
} from './model.js';
import { type Spelling, type StyleName, spelling, XmlWriter } from './xml-writer.js';

const XSD_VERSIE = '1.0.0';
const XSLT_VERSIE = '1.0.0';

interface CodeInfo {
  readonly namespace: string;
  readonly basisNamespace: string;
  readonly berichtCode: string;
}

const infoCache = new Map<string, CodeInfo>();

function info(code: string): CodeInfo {
  let i = infoCache.get(code);
  if (!i) {
    const schema = schemaSet().byCode(code);
    if (!schema) throw new Error(`simulate.unknown_code: no schema for message ${code}`);
    i = {
      namespace: schema.namespace,
      basisNamespace: schema.basisNamespace,
      berichtCode: schema.berichtCode,
    };
    infoCache.set(code, i);
  }
  return i;
}

/** Codes are Map keys all over the run: hand out one interned string per code instead of a new one per call. */
const retourCodes = new Map<string, string>();
const codeTable = { ijw: new Map<number, string>(), iwmo: new Map<number, string>() };

/** `JW301` + 1 → `JW302`. */
export function retourCode(code: string): string {
  let r = retourCodes.get(code);
  if (r === undefined) {
    const n = Number(code.replace(/^[A-Z]+/, ''));
    r = `${code.replace(/[0-9]+$/, '')}${n + 1}`;
    retourCodes.set(code, r);
  }
  return r;
}

export function codeFor(standard: Standard, n: number): string {
  const byN = codeTable[standard];
  let c = byN.get(n);
  if (c === undefined) {
    c = `${standard === 'ijw' ? 'JW' : 'WMO'}${n}`;
    byN.set(n, c);
  }
  return c;
}

const spellingCache = new Map<string, Record<StyleName, Spelling>>();

function writer(code: string, style: StyleName, standard: Standard): XmlWriter {
  let byStyle = spellingCache.get(code);
  if (!byStyle) {
    const i = info(code);
    const make = (s: StyleName) => spelling(s, i.namespace, i.basisNamespace, code.toLowerCase(), standard);
    byStyle = { tabs: make('tabs'), compact: make('compact'), jaxb: make('jaxb') };
    spellingCache.set(code, byStyle);
  }
  return new XmlWriter(byStyle[style]);
}

function xsdVersie(w: XmlWriter, name: string): void {
  w.open(name).leafB('BasisschemaXsdVersie', XSD_VERSIE).leafB('BerichtXsdVersie', XSD_VERSIE).close();
}

function codes(w: XmlWriter, list: readonly string[]): void {
  w.open('RetourCodes');
  for (const c of list) w.leaf('RetourCode', c);
  w.close();
}

/** Writes the header; returns the writer positioned after it (Header closed). */
function header(h: Header, style: StyleName, retour: RetourInfo | undefined): XmlWriter {
  const code = retour ? retourCode(h.code) : h.code;
  const w = writer(code, style, h.standard);
  w.open('Header')
    .leaf('BerichtCode', info(code).berichtCode)
    .leaf('BerichtVersie', 3)
    .leaf('BerichtSubversie', 2)
    .leaf('Afzender', h.afzender)
    .leaf('Ontvanger', h.ontvanger)
    .open('BerichtIdentificatie')
    .leafB('Identificatie', h.identificatie)
    .leafB('Dagtekening', isoDay(h.dagtekening))
    .close();
  xsdVersie(w, 'XsdVersie');
  if (retour) {
    w.leaf('IdentificatieRetour', retour.identificatie).leaf('DagtekeningRetour', isoDay(retour.dagtekening));
    if (retour.headerCodes?.includes('0001')) w.leaf('XsltVersie', XSLT_VERSIE);
    xsdVersie(w, 'XsdVersieRetour');
    if (retour.headerCodes) codes(w, retour.headerCodes);
  }
  w.close();
  return w;
}

/** Content is copied back only for a class-level rejection. */
function withContent(retour: RetourInfo | undefined): boolean {
  return retour === undefined || retour.classCodes !== undefined;
}

function product(w: XmlWriter, p: Product | undefined): void {
  if (!p) return;
  w.open('Product').leafB('Categorie', p.categorie).optB('Code', p.code).close();
}

function omvang(w: XmlWriter, o: Omvang | undefined): void {
  if (!o) return;
  w.open('Omvang')
    .leafB('Volume', o.volume)
    .leafB('Eenheid', o.eenheid)
    .leafB('Frequentie', o.frequentie)
    .close();
}

function geboortedatum(w: XmlWriter, day: Day): void {
  w.open('Geboortedatum').leafB('Datum', isoDay(day)).close();
}

function verkorteNaam(w: XmlWriter, p: Person): void {
  w.open('Naam')
    .openB('Geslachtsnaam')
    .leafB('Achternaam', p.achternaam)
    .optB('Voorvoegsel', p.voorvoegsel)
    .close();
  w.leafB('Voornamen', p.voornamen).leafB('Voorletters', p.voorletters).close();
}

function volledigeNaam(
  w: XmlWriter,
  p: { achternaam: string; voorvoegsel?: string; voornamen: string; voorletters: string },
): void {
  w.open('Naam')
    .openB('Geslachtsnaam')
    .leafB('Achternaam', p.achternaam)
    .optB('Voorvoegsel', p.voorvoegsel)
    .close();
  w.leafB('Voornamen', p.voornamen).leafB('Voorletters', p.voorletters).leafB('NaamGebruik', '1').close();
}

function telefoon(w: XmlWriter, phone: string): void {
  w.open('Telefoon')
    .openB('Telefoon01')
    .leafB('Telefoonnummer', phone)
    .leafB('Landnummer', '0031')
    .close()
    .close();
}

function clientCodes(w: XmlWriter, retour: RetourInfo | undefined): void {
  if (retour?.classCodes) codes(w, retour.classCodes.client);
}

function rowCodes(w: XmlWriter, retour: RetourInfo | undefined, i: number): void {
  if (retour?.classCodes) codes(w, retour.classCodes.rows[i] ?? ['0200']);
}

// ---- 301 / 302 -------------------------------------------------------------------------------------

export function toewijzing(
  h: Header,
  client: Person,
  rows: readonly ToegewezenProductRow[],
  style: StyleName,
  retour?: RetourInfo,
): Uint8Array {
  const w = header(h, style, retour);
  if (withContent(retour)) {
    w.open('Client').leaf('Bsn', client.bsn);
    geboortedatum(w, client.birth);
    w.leaf('Geslacht', client.gender);
    volledigeNaam(w, client);
    const r = client.relatie;
    if (r) {
      w.open('Relaties')
        .open('Relatie')
        .leaf('Nummer', r.nummer)
        .leaf('Soort', r.soort)
        .leaf('Geslacht', r.gender);
      volledigeNaam(w, r);
      w.open('Contact').leaf('Soort', '01');
      telefoon(w, r.phone);
      if (retour?.classCodes) codes(w, ['0200']);
      w.close();
      if (retour?.classCodes) codes(w, ['0200']);
      w.close().close();
    }
    const a = client.address;
    w.open('Contactgegevens').open('Contact').leaf('Soort', '01');
    w.open('Adres').openB('Huis').leafB('Huisnummer', a.huisnummer).optB('Huisletter', a.huisletter).close();
    w.leafB('Postcode', a.postcode).leafB('Straatnaam', a.straat).leafB('Plaatsnaam', a.plaats);
    w.leafB('LandCode', 'NL').close();
    telefoon(w, client.phone);
    w.opt('Emailadres', client.email);
    if (retour?.classCodes) codes(w, ['0200']);
    w.close().close();
    w.open('ToegewezenProducten');
    rows.forEach((tp, i) => {
      w.open('ToegewezenProduct')
        .leaf('ToewijzingNummer', tp.nummer)
        .opt('ReferentieAanbieder', tp.referentie);
      product(w, tp.product);
      w.leaf('Toewijzingsdatum', isoDay(tp.toewijzingsdatum)).leaf('Toewijzingstijd', tp.toewijzingstijd);
      w.leaf('Ingangsdatum', isoDay(tp.ingangsdatum));
      if (tp.einddatum !== undefined) w.leaf('Einddatum', isoDay(tp.einddatum));
      w.opt('RedenWijziging', tp.redenWijziging);
      omvang(w, tp.omvang);
      w.opt('Budget', tp.budget).opt('Commentaar', tp.commentaar);
      rowCodes(w, retour, i);
      w.close();
    });
    w.close();
    clientCodes(w, retour);
    w.close();
  }
  return w.finish();
}

// ---- 305 / 306 and 307 / 308 -----------------------------------------------------------------------

function startStop(
  h: Header,
  client: Person,
  rows: readonly (StartRow | StopRow)[],
  stop: boolean,
  style: StyleName,
  retour: RetourInfo | undefined,
): Uint8Array {
  const w = header(h, style, retour);
  if (withContent(retour)) {
    w.open('Client').leaf('Bsn', client.bsn);
    geboortedatum(w, client.birth);
    w.leaf('Geslacht', client.gender);
    verkorteNaam(w, client);
    w.open(stop ? 'StopProducten' : 'StartProducten');
    rows.forEach((row, i) => {
      w.open(stop ? 'StopProduct' : 'StartProduct').opt('ToewijzingNummer', row.nummer);
      product(w, row.product);
      if (row.toewijzingIngangsdatum !== undefined) {
        w.leaf('ToewijzingIngangsdatum', isoDay(row.toewijzingIngangsdatum));
      }
      w.leaf('Begindatum', isoDay(row.begindatum));
      if (stop) {
        const s = row as StopRow;
        w.leaf('RedenBeeindiging', s.redenBeeindiging).leaf('Einddatum', isoDay(s.einddatum));
      }
      w.leaf('StatusAanlevering', row.status);
      rowCodes(w, retour, i);
      w.close();
    });
    w.close();
    clientCodes(w, retour);
    w.close();
  }
  return w.finish();
}

export function start(
  h: Header,
  client: Person,
  rows: readonly StartRow[],
  style: StyleName,
  retour?: RetourInfo,
): Uint8Array {
  return startStop(h, client, rows, false, style, retour);
}

export function stop(
  h: Header,
  client: Person,
  rows: readonly StopRow[],
  style: StyleName,
  retour?: RetourInfo,
): Uint8Array {
  return startStop(h, client, rows, true, style, retour);
}

// ---- 315 / 316 ---------------------------------------------------------------------------------------

export function verzoekOmToewijzing(
  h: Header,
  client: Person,
  rows: readonly AangevraagdProductRow[],
  style: StyleName,
  retour?: RetourInfo,
): Uint8Array {
  const w = header(h, style, retour);
  if (withContent(retour)) {
    w.open('Client').leaf('Bsn', client.bsn);
    geboortedatum(w, client.birth);
    w.leaf('Geslacht', client.gender);
    verkorteNaam(w, client);
    if (h.standard === 'ijw') w.leaf('GezagsdragerBekend', client.relatie ? '1' : '2');
    w.open('AangevraagdeProducten');
    rows.forEach((p, i) => {
      w.open('AangevraagdProduct')
        .leaf('ReferentieAanbieder', p.referentie)
        .opt('BeschikkingNummer', p.beschikkingNummer);
      product(w, p.product);
      w.leaf('ToewijzingIngangsdatum', isoDay(p.toewijzingIngangsdatum));
      if (p.toewijzingEinddatum !== undefined) w.leaf('ToewijzingEinddatum', isoDay(p.toewijzingEinddatum));
      omvang(w, p.omvang);
      w.open('Verwijzer')
        .leafB('Type', p.verwijzerType)
        .optB('Naam', p.verwijzerNaam)
        .optB('ZorgverlenerCode', p.verwijzerAgb);
      w.close();
      w.opt('Commentaar', p.commentaar);
      rowCodes(w, retour, i);
      w.close();
    });
    w.close();
    clientCodes(w, retour);
    w.close();
  }
  return w.finish();
}

// ---- 317 / 318 ---------------------------------------------------------------------------------------

export function verzoekOmWijziging(
  h: Header,
  client: Person,
  v: Verzoek,
  style: StyleName,
  retour?: RetourInfo,
): Uint8Array {
  const w = header(h, style, retour);
  if (withContent(retour)) {
    let i = 0;
    w.open('Client').leaf('Bsn', client.bsn);
    w.open('Verzoek').leaf('ReferentieAanbieder', v.referentie).leaf('RedenVerzoek', v.reden);
    if (v.ongewijzigd.length > 0) {
      w.open('OngewijzigdeProducten');
      for (const n of v.ongewijzigd) {
        w.open('OngewijzigdProduct').leaf('ToewijzingNummer', n);
        rowCodes(w, retour, i++);
        w.close();
      }
      w.close();
    }
    if (v.teWijzigen.length > 0) {
      w.open('TeWijzigenProducten');
      for (const p of v.teWijzigen) {
        w.open('TeWijzigenProduct').leaf('ToewijzingNummer', p.nummer);
        w.leaf('GewensteIngangsdatum', isoDay(p.gewensteIngangsdatum));
        if (p.einddatum !== undefined) w.leaf('Einddatum', isoDay(p.einddatum));
        omvang(w, p.omvang);
        rowCodes(w, retour, i++);
        w.close();
      }
      w.close();
    }
    if (v.nieuw.length > 0) {
      w.open('NieuweProducten');
      for (const p of v.nieuw) {
        w.open('NieuwProduct');
        product(w, p.product);
        w.leaf('GewensteIngangsdatum', isoDay(p.gewensteIngangsdatum));
        if (p.einddatum !== undefined) w.leaf('Einddatum', isoDay(p.einddatum));
        omvang(w, p.omvang);
        rowCodes(w, retour, i++);
        w.close();
      }
      w.close();
    }
    if (retour?.classCodes) codes(w, ['0200']);
    w.close();
    clientCodes(w, retour);
    w.close();
  }
  return w.finish();
}

// ---- 319 / 320 ---------------------------------------------------------------------------------------

export function antwoord(h: Header, a: Antwoord, style: StyleName, retour?: RetourInfo): Uint8Array {
  const w = header(h, style, retour);
  if (withContent(retour)) {
    w.open('Antwoord').leaf('ReferentieAanbieder', a.referentie).leaf('VerzoekAntwoord', a.verzoekAntwoord);
    w.opt('RedenAfwijzingVerzoek', a.redenAfwijzing);
    if (a.woonplaatsGemeente !== undefined) {
      w.open('Woonplaatsbeginsel').leaf('Gemeente', a.woonplaatsGemeente);
      if (retour?.classCodes) codes(w, ['0200']);
      w.close();
    }
    clientCodes(w, retour);
    w.close();
  }
  return w.finish();
}

// ---- 323 / 325 ---------------------------------------------------------------------------------------

/** Σ debet − Σ credit, as the (amount, D/C) pair the totals use (TR358). */
export function signedTotal(prestaties: Iterable<Prestatie>): number {
  let total = 0;
  for (const p of prestaties) total += p.debetCredit === 'D' ? p.bedrag : -p.bedrag;
  return total;
}

function totaal(w: XmlWriter, name: string, signed: number): void {
  w.open(name)
    .leafB('TotaalBedrag', Math.abs(signed))
    .leafB('DebetCredit', signed < 0 ? 'C' : 'D')
    .close();
}

function prestatie(w: XmlWriter, p: Prestatie, rejectCodes: readonly string[] | undefined): void {
  w.open('Prestatie').open('ProductReferentie').leafB('ReferentieNummer', p.referentieNummer);
  w.optB('VorigReferentieNummer', p.vorigReferentieNummer).close();
  w.leaf('ToewijzingNummer', p.nummer)
    .leaf('ProductCategorie', p.categorie)
    .leaf('ProductCode', p.productCode);
  w.open('ProductPeriode')
    .leafB('Begindatum', isoDay(p.begindatum))
    .leafB('Einddatum', isoDay(p.einddatum))
    .close();
  w.leaf('GeleverdVolume', p.volume).leaf('Eenheid', p.eenheid).leaf('ProductTarief', p.tarief);
  w.open('IngediendBedrag').leafB('Bedrag', p.bedrag).leafB('DebetCredit', p.debetCredit).close();
  if (rejectCodes) codes(w, rejectCodes);
  w.close();
}

/** Σ debet − Σ credit of a whole declaratie, without flattening it (large declaraties, built twice). */
function declaratieTotal(d: Declaratie): number {
  let total = 0;
  for (const c of d.clienten)
    for (const p of c.prestaties) total += p.debetCredit === 'D' ? p.bedrag : -p.bedrag;
  return total;
}

export function declaratie(h: Header, d: Declaratie, style: StyleName): Uint8Array {
  const w = header(h, style, undefined);
  w.open('Declaratie').leaf('DeclaratieNummer', d.nummer);
  w.open('DeclaratiePeriode')
    .leafB('Begindatum', isoDay(d.periodeBegin))
    .leafB('Einddatum', isoDay(d.periodeEind));
  w.close().leaf('DeclaratieDagtekening', isoDay(d.dagtekening));
  totaal(w, 'TotaalIngediendBedrag', declaratieTotal(d));
  w.open('Clienten');
  for (const c of d.clienten) {
    w.open('Client').leaf('Bsn', c.bsn).open('Prestaties');
    for (const p of c.prestaties) prestatie(w, p, undefined);
    w.close().close();
  }
  return w.finish();
}

/**
 * 325: own header (Afzender = gemeente) with DeclaratieIdentificatie = the 323's BerichtIdentificatie;
 * lists only rejected prestaties, 8001 when none (IV087, OP304).
 */
export function declaratieAntwoord(
  h: Header,
  declaratieHeader: Header,
  a: DeclaratieAntwoordContent,
  style: StyleName,
): Uint8Array {
  const w = writer(h.code, style, h.standard);
  w.open('Header')
    .leaf('BerichtCode', info(h.code).berichtCode)
    .leaf('BerichtVersie', 3)
    .leaf('BerichtSubversie', 2)
    .leaf('Afzender', h.afzender)
    .leaf('Ontvanger', h.ontvanger)
    .open('BerichtIdentificatie')
    .leafB('Identificatie', h.identificatie)
    .leafB('Dagtekening', isoDay(h.dagtekening))
    .close();
  xsdVersie(w, 'XsdVersie');
  w.open('DeclaratieIdentificatie')
    .leafB('Identificatie', declaratieHeader.identificatie)
    .leafB('Dagtekening', isoDay(declaratieHeader.dagtekening))
    .close();
  xsdVersie(w, 'XsdVersieDeclaratie');
  codes(w, a.headerCodes ?? ['0200']);
  w.close();
  if (!a.headerCodes) {
    const d = a.declaratie;
    const ingediend = declaratieTotal(d);
    let rejectedTotal = 0;
    if (a.rejected.size > 0)
      d.clienten.forEach((c, ci) => {
        const own = a.rejected.get(ci);
        if (own)
          c.prestaties.forEach((p, pi) => {
            if (own.has(pi)) rejectedTotal += p.debetCredit === 'D' ? p.bedrag : -p.bedrag;
          });
      });
    w.open('DeclaratieAntwoord').leaf('DeclaratieNummer', d.nummer);
    totaal(w, 'TotaalIngediendBedrag', ingediend);
    totaal(w, 'TotaalToegekendBedrag', ingediend - rejectedTotal);
    if (a.rejected.size > 0) {
      w.open('Clienten');
      d.clienten.forEach((c, ci) => {
        const own = a.rejected.get(ci);
        if (!own) return;
        w.open('Client').leaf('Bsn', c.bsn).open('Prestaties');
        c.prestaties.forEach((p, pi) => {
          const rc = own.get(pi);
          if (rc) prestatie(w, p, rc);
        });
        w.close();
        codes(w, ['0200']);
        w.close();
      });
      w.close();
      codes(w, ['0200']);
    } else {
      codes(w, ['8001']);
    }
    w.close();
  }
  return w.finish();
}
