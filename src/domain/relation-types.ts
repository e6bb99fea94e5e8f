/**
 * The relation types of the koppeltabel: one vocabulary for the link table and the simulator's ground
 * truth, so the two can be checked against each other.
 */
export const RELATION_TYPES = [
  'retour',
  'declaratie-antwoord',
  'prestatie-antwoord',
  'start-toewijzing',
  'stop-toewijzing',
  'stop-start',
  'prestatie-toewijzing',
  'verzoek-antwoord',
  'verzoek-toewijzing',
  'wijziging-toewijzing',
  'antwoord-toewijzing',
  'toewijzing-versie',
  'correctie',
  'credit-debet',
] as const;
export type RelationType = (typeof RELATION_TYPES)[number];
