import { INFO_SEP } from './entries.js';
import type { RelationType } from './relations.js';

/**
 * An expected partner: entries of this key space and tag (optionally with this StatusAanlevering) should be
 * on the `side` of a link of one of `types`. Those that are not are orphans, counted for data quality.
 */
export interface Expectation {
  readonly name: string;
  /** Dutch, for the data-quality view. */
  readonly description: string;
  readonly entries: readonly {
    readonly keyspace: string;
    readonly tag: string;
    readonly info?: string;
    readonly infoPrefix?: string;
  }[];
  readonly side: 'from' | 'to';
  /**
   * For side 'to': the tag of the partner under the same key. A target is an orphan when no such partner is
   * indexed (the same test as the link, without a scan of the link table).
   */
  readonly partnerTag?: string;
  readonly types: readonly RelationType[];
  /** Entries a link of these types points to are no orphans: a stop a status-3 row deleted (correctie). */
  readonly unlessTargetOf?: readonly RelationType[];
  /** Only count messages whose Dagtekening is at least this many working days before `now`. */
  readonly workingDays?: number;
}

export const EXPECTATIONS: readonly Expectation[] = [
  {
    name: 'heen-zonder-retour',
    description: 'Heenbericht zonder retourbericht na 3 werkdagen (OP090)',
    entries: [{ keyspace: 'msg', tag: 'heen' }],
    side: 'to',
    partnerTag: 'retour',
    types: ['retour'],
    workingDays: 3,
  },
  {
    name: 'retour-zonder-heen',
    description: 'Retourbericht waarvan het heenbericht niet is ontvangen',
    entries: [{ keyspace: 'msg', tag: 'retour' }],
    side: 'from',
    types: ['retour'],
  },
  {
    name: 'declaratie-zonder-antwoord',
    description: 'Declaratie (323) zonder declaratie-antwoord (325) na 10 werkdagen (OP090x4)',
    entries: [{ keyspace: 'decl', tag: 'declaratie' }],
    side: 'to',
    partnerTag: 'antwoord',
    types: ['declaratie-antwoord'],
    workingDays: 10,
  },
  {
    name: 'antwoord-zonder-declaratie',
    description: 'Declaratie-antwoord (325) waarvan de declaratie niet is ontvangen',
    entries: [{ keyspace: 'decl', tag: 'antwoord' }],
    side: 'from',
    types: ['declaratie-antwoord'],
  },
  {
    name: 'afgewezen-prestatie-zonder-prestatie',
    description: 'Prestatie in een 325 zonder bijbehorende prestatie in de 323',
    entries: [
      { keyspace: 'prest', tag: 'antwoord' },
      { keyspace: 'twn', tag: 'antwoord' },
    ],
    side: 'from',
    types: ['prestatie-antwoord'],
  },
  {
    name: 'prestatie-zonder-toewijzing',
    description: 'Gedeclareerde prestatie met een ToewijzingNummer waarvan geen toewijzing is ontvangen',
    entries: [{ keyspace: 'twn', tag: 'prestatie' }],
    side: 'from',
    types: ['prestatie-toewijzing'],
  },
  {
    name: 'start-zonder-toewijzing',
    description:
      'Gestart product met een ToewijzingNummer waarvan geen toewijzing van deze cliënt is ontvangen',
    // A start on another client's toewijzing (the Bsn differs) is not linked to it: an orphan too.
    entries: [{ keyspace: 'twn', tag: 'start' }],
    side: 'from',
    types: ['start-toewijzing'],
  },
  {
    name: 'stop-zonder-toewijzing',
    description:
      'Gestopt product met een ToewijzingNummer waarvan geen toewijzing van deze cliënt is ontvangen',
    entries: [{ keyspace: 'twn', tag: 'stop' }],
    side: 'from',
    types: ['stop-toewijzing'],
  },
  {
    name: 'wijziging-zonder-toewijzing',
    description:
      'Product in een verzoek om wijziging (317) met een ToewijzingNummer waarvan geen toewijzing is ontvangen (TR350, TR351)',
    entries: [{ keyspace: 'twn', tag: 'wijziging' }],
    side: 'from',
    types: ['wijziging-toewijzing'],
  },
  {
    name: 'stop-zonder-start',
    description: 'Stop (StatusAanlevering 1) zonder start met dezelfde sleutel',
    // info: '1' as stored before, `1|Reden|Einddatum` since.
    entries: [
      { keyspace: 'start', tag: 'stop', info: '1' },
      { keyspace: 'start', tag: 'stop', infoPrefix: '1|' },
    ],
    side: 'from',
    types: ['stop-start'],
    // A deleted stop ends no start (IV008): that it has none is no fault.
    unlessTargetOf: ['correctie'],
  },
  {
    name: 'verzoek-zonder-reactie',
    description:
      'Verzoek om toewijzing (per product) of om wijziging zonder 319 of 301 na 5 werkdagen (OP274, OP346)',
    entries: [{ keyspace: 'ref', tag: 'verzoek' }],
    side: 'from',
    types: ['verzoek-antwoord', 'verzoek-toewijzing'],
    workingDays: 5,
  },
  {
    name: 'antwoord-zonder-verzoek',
    description: 'Antwoordbericht (319) waarvan het verzoek (315/317) niet is ontvangen',
    entries: [{ keyspace: 'ref', tag: 'antwoord' }],
    side: 'to',
    partnerTag: 'verzoek',
    types: ['verzoek-antwoord'],
  },
  {
    name: 'credit-zonder-debet',
    description: 'Creditprestatie waarvan de debetprestatie (VorigReferentieNummer) niet is ontvangen',
    entries: [
      { keyspace: 'vref', tag: 'credit' },
      // info: `C|…` as stored before, `C␟…` (INFO_SEP) since.
      { keyspace: 'twn', tag: 'prestatie', infoPrefix: 'C|' },
      { keyspace: 'twn', tag: 'prestatie', infoPrefix: `C${INFO_SEP}` },
    ],
    side: 'from',
    types: ['credit-debet'],
  },
  {
    name: 'correctie-zonder-origineel',
    description: 'Regel met StatusAanlevering 3 zonder eerdere regel met dezelfde sleutel',
    entries: [
      { keyspace: 'start', tag: 'start', info: '3' },
      { keyspace: 'stop', tag: 'stop', info: '3' },
    ],
    side: 'from',
    types: ['correctie'],
  },
];
