/**
 * The relation types of the koppeltabel (agreed vocabulary, also used by the simulator's ground truth).
 * `level` says whether the sides are messages or rows; `description` is the Dutch text of the data dictionary.
 */
import type { RelationType } from '../domain/relation-types.js';

export { RELATION_TYPES, type RelationType } from '../domain/relation-types.js';

export interface RelationInfo {
  readonly type: RelationType;
  /** Van → Naar in words (Dutch), for the data dictionary. */
  readonly description: string;
  /** Files (by message number) on each side; `*` = JW or WMO. */
  readonly from: readonly string[];
  readonly to: readonly string[];
  /** The keys the relation is made on (Dutch). */
  readonly keys: string;
}

export const RELATIONS: readonly RelationInfo[] = [
  {
    type: 'retour',
    description: 'Retourbericht → het heenbericht dat het beantwoordt',
    from: ['*302', '*306', '*308', '*316', '*318', '*320'],
    to: ['*301', '*305', '*307', '*315', '*317', '*319'],
    keys: 'gekopieerde header: Afzender, Ontvanger, BerichtIdentificatie (Identificatie + Dagtekening)',
  },
  {
    type: 'declaratie-antwoord',
    description: 'Declaratie-antwoord → de declaratie die het beantwoordt',
    from: ['*325'],
    to: ['*323'],
    keys: 'DeclaratieIdentificatie = BerichtIdentificatie van de 323, en DeclaratieNummer (als aanwezig)',
  },
  {
    type: 'prestatie-antwoord',
    description: 'Afgewezen prestatie in het declaratie-antwoord → de gedeclareerde prestatie',
    from: ['*325_Prestatie'],
    to: ['*323_Prestatie'],
    keys: 'de gekoppelde declaratie en ProductReferentie_ReferentieNummer',
  },
  {
    type: 'start-toewijzing',
    description:
      'Gestart product → elk toegewezen product met dat ToewijzingNummer (tot de Dagtekening van de start)',
    from: ['*305_StartProduct'],
    to: ['*301_ToegewezenProduct'],
    keys: 'ToewijzingNummer binnen gemeente, wet en aanbieder, en dezelfde Bsn (als beide kanten die hebben)',
  },
  {
    type: 'stop-toewijzing',
    description:
      'Gestopt product → elk toegewezen product met dat ToewijzingNummer (tot de Dagtekening van de stop)',
    from: ['*307_StopProduct'],
    to: ['*301_ToegewezenProduct'],
    keys: 'ToewijzingNummer binnen gemeente, wet en aanbieder, en dezelfde Bsn (als beide kanten die hebben)',
  },
  {
    type: 'stop-start',
    description: 'Gestopt product → de (laatste) start die het beëindigt',
    from: ['*307_StopProduct'],
    to: ['*305_StartProduct'],
    keys: 'Bsn, ToewijzingNummer, Product, Begindatum; StatusAanlevering 1 aan beide kanten; de laatste start tot de Dagtekening van de stop',
  },
  {
    type: 'prestatie-toewijzing',
    description:
      'Gedeclareerde prestatie → elk toegewezen product met dat ToewijzingNummer (tot de Dagtekening van de declaratie)',
    from: ['*323_Prestatie'],
    to: ['*301_ToegewezenProduct'],
    keys: 'ToewijzingNummer binnen gemeente, wet en aanbieder, en dezelfde Bsn (als beide kanten die hebben)',
  },
  {
    type: 'verzoek-antwoord',
    description: 'Aangevraagd product (315) of verzoek om wijziging (317) → het antwoordbericht (319)',
    from: ['*315_AangevraagdProduct', '*317'],
    to: ['*319'],
    keys: 'ReferentieAanbieder binnen aanbieder, gemeente en wet',
  },
  {
    type: 'verzoek-toewijzing',
    description:
      'Aangevraagd product (315) of verzoek om wijziging (317) → elk toegewezen product met die ReferentieAanbieder',
    from: ['*315_AangevraagdProduct', '*317'],
    to: ['*301_ToegewezenProduct'],
    keys: 'ReferentieAanbieder binnen aanbieder, gemeente en wet',
  },
  {
    type: 'wijziging-toewijzing',
    description:
      'Ongewijzigd of te wijzigen product in een verzoek om wijziging (317) → elk toegewezen product met dat ToewijzingNummer (tot de Dagtekening van het verzoek)',
    from: ['*317_OngewijzigdProduct', '*317_TeWijzigenProduct'],
    to: ['*301_ToegewezenProduct'],
    keys: 'ToewijzingNummer binnen gemeente, wet en aanbieder',
  },
  {
    type: 'antwoord-toewijzing',
    description:
      'Antwoordbericht "in onderzoek" (319, VerzoekAntwoord 2) → elk toegewezen product met die ReferentieAanbieder dat erop volgt',
    from: ['*319'],
    to: ['*301_ToegewezenProduct'],
    keys: 'ReferentieAanbieder binnen aanbieder, gemeente en wet; de 301 heeft een Dagtekening op of na die van de 319',
  },
  {
    type: 'toewijzing-versie',
    description:
      'Toegewezen product → hetzelfde ToewijzingNummer in de vorige toewijzing (301) waarin het voorkwam',
    from: ['*301_ToegewezenProduct'],
    to: ['*301_ToegewezenProduct'],
    keys: 'ToewijzingNummer binnen gemeente, wet en aanbieder; volgorde op Toewijzingsdatum en Toewijzingstijd, dan Dagtekening, dan Identificatie',
  },
  {
    type: 'correctie',
    description: 'Regel met StatusAanlevering 3 → de eerdere regel (StatusAanlevering 1) die ermee vervalt',
    from: ['*305_StartProduct', '*307_StopProduct'],
    to: ['*305_StartProduct', '*307_StopProduct'],
    keys: 'logische sleutel: Bsn, ToewijzingNummer, Product, Begindatum (stop: ook RedenBeeindiging, Einddatum)',
  },
  {
    type: 'credit-debet',
    description: 'Creditprestatie → de debetprestatie die ze terugdraait',
    from: ['*323_Prestatie'],
    to: ['*323_Prestatie'],
    keys: 'VorigReferentieNummer = ReferentieNummer, binnen aanbieder, gemeente en wet',
  },
];

/** One relation type for the data dictionary: what links to what, in which files, on which keys (Dutch). */
export function relationDictionaryText(r: RelationInfo): string {
  const files = (list: readonly string[]) => list.map((f) => f.replace('*', 'JW/WMO')).join(', ');
  return `${r.type}: ${r.description}. Van ${files(r.from)} naar ${files(r.to)}; gekoppeld op ${r.keys}.`;
}
