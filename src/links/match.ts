import { keyspaceOf, type LinkEntry } from './entries.js';
import type { RelationType } from './relations.js';

/** A link between two sides; row '' means the message itself. */
export interface PlannedLink {
  readonly type: RelationType;
  readonly gemeente: string;
  readonly fromTable: string;
  readonly fromBerichtId: string;
  readonly fromRow: string;
  readonly toTable: string;
  readonly toBerichtId: string;
  readonly toRow: string;
}

interface PairRule {
  readonly type: RelationType;
  readonly keyspace: string;
  readonly from: string;
  readonly to: string;
  readonly when?: (from: LinkEntry, to: LinkEntry) => boolean;
}

// A 301 is a full snapshot (OP087): link to every 301 that carried the number up to the source's Dagtekening,
// so the set of links does not depend on arrival order.
const notLater = (from: LinkEntry, to: LinkEntry): boolean => to.dagtekening <= from.dagtekening;
// IV008: StatusAanlevering 3 voids the earlier entry (status 1) with the same logical key.
const cancels = (from: LinkEntry, to: LinkEntry): boolean =>
  from.info === '3' && to.info === '1' && from.berichtId !== to.berichtId && notLater(from, to);

const RULES: readonly PairRule[] = [
  { type: 'retour', keyspace: 'msg', from: 'retour', to: 'heen' },
  {
    type: 'declaratie-antwoord',
    keyspace: 'decl',
    from: 'antwoord',
    to: 'declaratie',
    // TR376: when the 325 has a DeclaratieAntwoord its DeclaratieNummer must be the 323's.
    when: (f, t) => f.info === '' || f.info === t.info,
  },
  { type: 'prestatie-antwoord', keyspace: 'prest', from: 'antwoord', to: 'declaratie' },
  { type: 'start-toewijzing', keyspace: 'twn', from: 'start', to: 'toewijzing', when: notLater },
  { type: 'stop-toewijzing', keyspace: 'twn', from: 'stop', to: 'toewijzing', when: notLater },
  { type: 'prestatie-toewijzing', keyspace: 'twn', from: 'prestatie', to: 'toewijzing', when: notLater },
  {
    type: 'stop-start',
    keyspace: 'start',
    from: 'stop',
    to: 'start',
    when: (f, t) => f.info === '1' && t.info === '1' && notLater(f, t),
  },
  { type: 'correctie', keyspace: 'start', from: 'start', to: 'start', when: cancels },
  { type: 'correctie', keyspace: 'stop', from: 'stop', to: 'stop', when: cancels },
  { type: 'credit-debet', keyspace: 'vref', from: 'credit', to: 'debet' },
  { type: 'verzoek-antwoord', keyspace: 'ref', from: 'verzoek', to: 'antwoord' },
  { type: 'verzoek-toewijzing', keyspace: 'ref', from: 'verzoek', to: 'toewijzing' },
];

const RULES_BY_KEYSPACE = new Map<string, PairRule[]>();
for (const r of RULES) RULES_BY_KEYSPACE.set(r.keyspace, [...(RULES_BY_KEYSPACE.get(r.keyspace) ?? []), r]);

export const linkId = (l: PlannedLink): string =>
  `${l.type}|${l.fromBerichtId}|${l.fromRow}|${l.toBerichtId}|${l.toRow}`;

function link(type: RelationType, from: LinkEntry, to: LinkEntry): PlannedLink {
  return {
    type,
    gemeente: from.gemeente,
    fromTable: from.table,
    fromBerichtId: from.berichtId,
    fromRow: from.row,
    toTable: to.table,
    toBerichtId: to.berichtId,
    toRow: to.row,
  };
}

/** Message order for versions: Dagtekening, then Identificatie, then BerichtId. */
export function compareOrder(a: LinkEntry, b: LinkEntry): number {
  const [ad = '', ai = ''] = a.order.split('|');
  const [bd = '', bi = ''] = b.order.split('|');
  if (ad !== bd) return ad < bd ? -1 : 1;
  // Senders count their Identificatie up (TR056 keeps it unique); shorter first, then by character, reads
  // both plain numbers and zero-padded or base-36 counters in sending order.
  if (ai.length !== bi.length) return ai.length - bi.length;
  if (ai !== bi) return ai < bi ? -1 : 1;
  return a.berichtId < b.berichtId ? -1 : a.berichtId > b.berichtId ? 1 : 0;
}

/**
 * The version chain of one ToewijzingNummer: each 301 row points at the row of the previous 301 that carried
 * the number. A late middle version splits a link, so the plan also says which active links lapse.
 */
export function planVersionChain(
  rows: readonly LinkEntry[],
  active: readonly PlannedLink[],
): { add: PlannedLink[]; revoke: PlannedLink[] } {
  const sorted = [...rows].sort(compareOrder);
  const desired = new Map<string, PlannedLink>();
  for (let i = 1; i < sorted.length; i++) {
    const l = link('toewijzing-versie', sorted[i]!, sorted[i - 1]!);
    desired.set(linkId(l), l);
  }
  const activeIds = new Set(active.map(linkId));
  return {
    add: [...desired.values()].filter((l) => !activeIds.has(linkId(l))),
    revoke: active.filter((l) => !desired.has(linkId(l))),
  };
}

export interface LinkPlan {
  readonly add: PlannedLink[];
  readonly revoke: PlannedLink[];
}

/**
 * Links made when new entries meet the entries already known under the same key (`group` holds both).
 * Only pairs with at least one new side are considered: pairs of old entries were linked when the later
 * of them arrived. `activeVersions` are the active toewijzing-versie links whose source is in the group.
 */
export function planGroup(
  group: readonly LinkEntry[],
  isNew: (e: LinkEntry) => boolean,
  activeVersions: readonly PlannedLink[] = [],
): LinkPlan {
  const first = group[0];
  if (!first) return { add: [], revoke: [] };
  const keyspace = keyspaceOf(first.key);
  const rules = RULES_BY_KEYSPACE.get(keyspace) ?? [];
  const add = new Map<string, PlannedLink>();
  const fresh = group.filter(isNew);
  for (const n of fresh) {
    for (const other of group) {
      if (other === n) continue;
      for (const rule of rules) {
        for (const [from, to] of [
          [n, other],
          [other, n],
        ] as const) {
          if (from.tag !== rule.from || to.tag !== rule.to) continue;
          if (from.berichtId === to.berichtId && from.row === to.row) continue;
          if (rule.when && !rule.when(from, to)) continue;
          const l = link(rule.type, from, to);
          add.set(linkId(l), l);
        }
      }
    }
  }
  let revoke: PlannedLink[] = [];
  if (keyspace === 'twn' && fresh.some((e) => e.tag === 'toewijzing')) {
    const chain = planVersionChain(
      group.filter((e) => e.tag === 'toewijzing'),
      activeVersions,
    );
    for (const l of chain.add) add.set(linkId(l), l);
    revoke = chain.revoke;
  }
  return { add: [...add.values()], revoke };
}
