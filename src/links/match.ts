import { debetCredit, INFO_SEP, infoField, keyspaceOf, type LinkEntry } from './entries.js';
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

/** The client's Bsn (pseudonym) on a 301 row under its ToewijzingNummer: `Toewijzingsdatum|Toewijzingstijd|Bsn`. */
const toewijzingBsn = (e: LinkEntry): string => infoField(e.info, 2) ?? '';

/** Whether a 301 row is client `bsn`'s: either Bsn '' (an entry indexed before it carried one) does not decide. */
const ofClient = (bsn: string, toewijzing: LinkEntry): boolean => {
  if (bsn === '') return true;
  const b = toewijzingBsn(toewijzing);
  return b === '' || bsn === b;
};

/**
 * A prestatie is declared on ToewijzingNummer + Bsn (TR338): one with the Bsn (info field 5) links only to a
 * 301 row of the same client, up to its Dagtekening. An entry indexed before it carried the Bsn (none on
 * either side) links on the number alone, as it did.
 */
const prestatieOfClient = (from: LinkEntry, to: LinkEntry): boolean =>
  // An old `|`-joined info has no Bsn, and a `|` in its fields would shift field 5 onto another value.
  notLater(from, to) && ofClient(from.info.includes(INFO_SEP) ? (infoField(from.info, 5) ?? '') : '', to);

/**
 * A start or stop starts or stops the client's own toewijzing (one client per 305/307 and per 301 row): one
 * with the Bsn (info `StatusAanlevering|Bsn`, a code and a hex pseudonym, so '|' splits it) links only to a
 * 301 row of the same client, up to its Dagtekening. An entry indexed before it carried the Bsn (info just
 * the status) links on the number alone, as it did.
 */
const startStopOfClient = (from: LinkEntry, to: LinkEntry): boolean =>
  notLater(from, to) && ofClient(infoField(from.info, 1) ?? '', to);

/**
 * TR376: a 325 with a DeclaratieAntwoord answers the 323 with its DeclaratieNummer. Either side '' (a 325
 * without DeclaratieAntwoord, or an entry indexed before it carried the number) does not decide.
 */
const sameDeclaratieNummer = (antwoord: string, declaratie: string): boolean =>
  antwoord === '' || declaratie === '' || antwoord === declaratie;

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
  {
    type: 'prestatie-antwoord',
    keyspace: 'prest',
    from: 'antwoord',
    to: 'declaratie',
    // As the declaration it belongs to (TR376): info = the DeclaratieNummers ('' without one, or indexed before).
    when: (f, t) => sameDeclaratieNummer(f.info, t.info),
  },
  { type: 'start-toewijzing', keyspace: 'twn', from: 'start', to: 'toewijzing', when: startStopOfClient },
  { type: 'stop-toewijzing', keyspace: 'twn', from: 'stop', to: 'toewijzing', when: startStopOfClient },
  {
    type: 'prestatie-toewijzing',
    keyspace: 'twn',
    from: 'prestatie',
    to: 'toewijzing',
    when: prestatieOfClient,
  },
  { type: 'credit-debet', keyspace: 'vref', from: 'credit', to: 'debet' },
  // Prestaties with a ToewijzingNummer are matched in its group: info =
  // D/C␟Ref␟VorigRef␟DeclId␟DeclDag␟Bsn␟DeclNr, the 325's Ref␟DeclId␟DeclDag␟DeclNr (␟ = INFO_SEP, '|' in entries
  // indexed before, which end before DeclNr; `infoField` reads both).
  {
    type: 'prestatie-antwoord',
    keyspace: 'twn',
    from: 'antwoord',
    to: 'prestatie',
    when: (f, t) =>
      // An old `|`-joined 325 info with a `|` in a field has more than three fields: it does not split right.
      (f.info.includes(INFO_SEP) || infoField(f.info, 3) === undefined) &&
      infoField(f.info, 0) === infoField(t.info, 1) &&
      infoField(f.info, 1) === infoField(t.info, 3) &&
      infoField(f.info, 2) === infoField(t.info, 4) &&
      sameDeclaratieNummer(
        infoField(f.info, 3) ?? '',
        t.info.includes(INFO_SEP) ? (infoField(t.info, 6) ?? '') : '',
      ),
  },
  {
    type: 'credit-debet',
    keyspace: 'twn',
    from: 'prestatie',
    to: 'prestatie',
    when: (f, t) => {
      // Most prestaties are debets: rule those out before reading fields (this runs for every pair in a group).
      if (debetCredit(f.info) !== 'C' || debetCredit(t.info) !== 'D') return false;
      const vorig = infoField(f.info, 2);
      return vorig !== undefined && vorig !== '' && vorig === infoField(t.info, 1);
    },
  },
  { type: 'verzoek-antwoord', keyspace: 'ref', from: 'verzoek', to: 'antwoord' },
  { type: 'verzoek-toewijzing', keyspace: 'ref', from: 'verzoek', to: 'toewijzing' },
  // A 317 lists each current toewijzing by number (TR349–TR351): every 301 that carried it up to the 317.
  { type: 'wijziging-toewijzing', keyspace: 'twn', from: 'wijziging', to: 'toewijzing', when: notLater },
  // A 319 "in onderzoek" (info = VerzoekAntwoord 2) can be followed by a 301 with its ReferentieAanbieder;
  // no 319 may follow that 301 (TR359, TR360, TR365): the ordered pair, by Dagtekening (a same-day pair counts).
  {
    type: 'antwoord-toewijzing',
    keyspace: 'ref',
    from: 'antwoord',
    to: 'toewijzing',
    when: (f, t) => f.info === '2' && f.dagtekening <= t.dagtekening,
  },
];

/** Per key space and tag the rules an entry with that tag takes part in, on either side, in rule order. */
const RULES_BY_TAG = new Map<string, Map<string, PairRule[]>>();
for (const r of RULES) {
  let byTag = RULES_BY_TAG.get(r.keyspace);
  if (!byTag) {
    byTag = new Map();
    RULES_BY_TAG.set(r.keyspace, byTag);
  }
  for (const tag of new Set([r.from, r.to])) byTag.set(tag, [...(byTag.get(tag) ?? []), r]);
}

// The tables count: a 317 numbers its unchanged and its to-be-changed products from 1 each.
export const linkId = (l: PlannedLink): string =>
  `${l.type}|${l.fromBerichtId}|${l.fromTable}|${l.fromRow}|${l.toBerichtId}|${l.toTable}|${l.toRow}`;

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
  // `<Dagtekening>|<Identificatie>`: a date holds no '|', an Identificatie may (the rest after the first).
  const as = a.order.indexOf('|');
  const bs = b.order.indexOf('|');
  const ad = as < 0 ? a.order : a.order.slice(0, as);
  const bd = bs < 0 ? b.order : b.order.slice(0, bs);
  const ai = as < 0 ? '' : a.order.slice(as + 1);
  const bi = bs < 0 ? '' : b.order.slice(bs + 1);
  if (ad !== bd) return ad < bd ? -1 : 1;
  // Senders count their Identificatie up (TR056 keeps it unique); shorter first, then by character, reads
  // both plain numbers and zero-padded or base-36 counters in sending order.
  if (ai.length !== bi.length) return ai.length - bi.length;
  if (ai !== bi) return ai < bi ? -1 : 1;
  return a.berichtId < b.berichtId ? -1 : a.berichtId > b.berichtId ? 1 : 0;
}

/**
 * Version order of 301 rows: Toewijzingsdatum, Toewijzingstijd (OP087; a resend keeps both, IV013), then
 * message order. A row stored before it carried them (info '') counts as assigned on its Dagtekening at
 * '' o'clock: a total order, and groups of such rows keep the old order. The Bsn after them (info
 * `datum|tijd|Bsn`, `datum|tijd` when indexed before) does not order.
 */
export function compareVersion(a: LinkEntry, b: LinkEntry): number {
  const ad = a.info.includes('|') ? (infoField(a.info, 0) ?? '') : a.dagtekening;
  const bd = b.info.includes('|') ? (infoField(b.info, 0) ?? '') : b.dagtekening;
  if (ad !== bd) return ad < bd ? -1 : 1;
  const at = infoField(a.info, 1) ?? '';
  const bt = infoField(b.info, 1) ?? '';
  if (at !== bt) return at < bt ? -1 : 1;
  return compareOrder(a, b);
}

/** Relations recomputed from the whole key group each time it changes (they can lapse), per key space. */
export const RECOMPUTED: Readonly<Record<string, readonly RelationType[]>> = {
  twn: ['toewijzing-versie'],
  start: ['stop-start', 'correctie'],
  stop: ['correctie'],
};

/**
 * Whether a group's recomputed relations must be planned again: a new 301 row for the version chain; any
 * new row, or a rejecting retour for one of its messages (`touched`), for starts and stops.
 */
export function needsRecompute(
  group: readonly LinkEntry[],
  isNew: (e: LinkEntry) => boolean,
  touched = false,
): boolean {
  const first = group[0];
  if (!first) return false;
  const keyspace = keyspaceOf(first.key);
  if (keyspace === 'twn') return group.some((e) => e.tag === 'toewijzing' && isNew(e));
  if (keyspace === 'start' || keyspace === 'stop') return touched || group.some(isNew);
  return false;
}

/**
 * Whether a new entry under a ToewijzingNummer key can pair with none of the stored debet prestaties, starts
 * and stops under it: a new debet pairs with the 301 rows, credits and antwoorden, a new start, stop or 317
 * row (`wijziging`) with the 301 rows only. Debets, starts and stops are most of such a group and it grows
 * every month, so a key whose new entries all say so is read without them. A new 301 row, credit or
 * antwoord needs the whole group.
 */
export function ignoresStoredDebetsAndStarts(e: LinkEntry): boolean {
  if (!e.key.startsWith('twn|')) return false;
  return (
    e.tag === 'start' ||
    e.tag === 'stop' ||
    e.tag === 'wijziging' ||
    (e.tag === 'prestatie' && debetCredit(e.info) === 'D')
  );
}

function sourceTag(type: RelationType, keyspace: string): string {
  if (type === 'toewijzing-versie') return 'toewijzing';
  if (type === 'stop-start') return 'stop';
  return keyspace === 'start' ? 'start' : 'stop';
}

/**
 * Whether a group's recomputed links can start at this entry (its tag is a source of one of them): only
 * those entries' links in force are needed to replan the group.
 */
export function isRecomputedSource(e: LinkEntry): boolean {
  const keyspace = keyspaceOf(e.key);
  return (RECOMPUTED[keyspace] ?? []).some((type) => sourceTag(type, keyspace) === e.tag);
}

const latest = (entries: readonly LinkEntry[]): LinkEntry | undefined =>
  entries.reduce<LinkEntry | undefined>(
    (best, e) => (!best || compareOrder(best, e) < 0 ? e : best),
    undefined,
  );

/** StatusAanlevering of a start or stop entry; a stop under its start key has `status|Reden|Einddatum`. */
const statusOf = (e: LinkEntry): string =>
  e.info.length > 1 ? e.info.slice(0, e.info.indexOf('|')) : e.info;

/**
 * Whether a later live status-3 row deletes `x` (IV008): for a start any under its key, for a stop one with
 * the same RedenBeeindiging and Einddatum. A stop stored before (info just its status) cannot be matched
 * to its deletion and stays.
 */
function isDeleted(x: LinkEntry, live: readonly LinkEntry[]): boolean {
  const stop = x.tag === 'stop';
  if (stop && x.info.length < 2) return false;
  return live.some(
    (d) =>
      d.tag === x.tag &&
      d.berichtId !== x.berichtId &&
      statusOf(d) === '3' &&
      (!stop || d.info.slice(1) === x.info.slice(1)) &&
      compareOrder(x, d) < 0,
  );
}

/**
 * The recomputed relations of one group as they should stand now. A message a retour rejected counts as
 * not sent (OP286), so it takes no part in stop-start and correctie.
 * - toewijzing-versie: each 301 row → the previous version of the number (`compareVersion`).
 * - stop-start: a stop (status 1) → the latest start (status 1) with the same key up to its Dagtekening;
 *   a stop refers to the latest start (TR382), and a resent start repeats the key. A start or stop a later
 *   status-3 row deletes takes no part (`isDeleted`), so its link lapses.
 * - correctie: a status-3 row → the latest earlier status-1 row with the same logical key (IV008).
 */
export function desiredRecomputed(group: readonly LinkEntry[], rejected: ReadonlySet<string>): PlannedLink[] {
  const first = group[0];
  if (!first) return [];
  const keyspace = keyspaceOf(first.key);
  const out: PlannedLink[] = [];
  if (keyspace === 'twn') {
    const sorted = group.filter((e) => e.tag === 'toewijzing').sort(compareVersion);
    for (let i = 1; i < sorted.length; i++) out.push(link('toewijzing-versie', sorted[i]!, sorted[i - 1]!));
    return out;
  }
  const live = group.filter((e) => !rejected.has(e.berichtId));
  const correctionTag = keyspace === 'start' ? 'start' : 'stop';
  for (const e of live) {
    if (e.tag === correctionTag && e.info === '3') {
      const target = latest(
        live.filter(
          (t) =>
            t.tag === correctionTag &&
            t.info === '1' &&
            t.berichtId !== e.berichtId &&
            compareOrder(t, e) < 0,
        ),
      );
      if (target) out.push(link('correctie', e, target));
    }
    if (keyspace === 'start' && e.tag === 'stop' && statusOf(e) === '1' && !isDeleted(e, live)) {
      const target = latest(
        live.filter((t) => t.tag === 'start' && t.info === '1' && notLater(e, t) && !isDeleted(t, live)),
      );
      if (target) out.push(link('stop-start', e, target));
    }
  }
  return out;
}

/** The link `rule` makes from `from` to `to`, if it does (the inner loop of linking: no allocation else). */
function addPair(add: Map<string, PlannedLink>, rule: PairRule, from: LinkEntry, to: LinkEntry): void {
  if (from.tag !== rule.from || to.tag !== rule.to) return;
  if (from.berichtId === to.berichtId && from.row === to.row) return;
  if (rule.when && !rule.when(from, to)) return;
  const l = link(rule.type, from, to);
  add.set(linkId(l), l);
}

export interface LinkPlan {
  readonly add: PlannedLink[];
  readonly revoke: PlannedLink[];
}

export interface GroupContext {
  readonly isNew: (e: LinkEntry) => boolean;
  /** Links in force of the group's recomputed types whose source is in the group. */
  readonly active?: readonly PlannedLink[];
  /** BerichtIds of messages a retour rejected. */
  readonly rejected?: ReadonlySet<string>;
  /** A rejecting retour arrived for a message in the group. */
  readonly touched?: boolean;
}

/**
 * Links made when new entries meet the entries already known under the same key (`group` holds both).
 * Pair relations are add-only: only pairs with at least one new side are considered, pairs of old entries
 * were linked when the later of them arrived. Recomputed relations are planned against `active`: what is
 * missing is added, what no longer holds lapses.
 */
export function planGroup(group: readonly LinkEntry[], ctx: GroupContext): LinkPlan {
  const add = new Map<string, PlannedLink>();
  const revoke = new Map<string, PlannedLink>();
  planGroupInto(group, ctx, add, revoke);
  return { add: [...add.values()], revoke: [...revoke.values()] };
}

/**
 * `planGroup` into maps by `linkId` that the caller keeps over many groups: each link's id is built once,
 * and a link planned by two groups counts once.
 */
export function planGroupInto(
  group: readonly LinkEntry[],
  ctx: GroupContext,
  add: Map<string, PlannedLink>,
  revoke: Map<string, PlannedLink>,
): void {
  const first = group[0];
  if (!first) return;
  const keyspace = keyspaceOf(first.key);
  const rulesByTag = RULES_BY_TAG.get(keyspace);
  if (rulesByTag) {
    const fresh = group.map(ctx.isNew);
    for (let i = 0; i < group.length; i++) {
      const n = group[i]!;
      const rules = fresh[i] ? rulesByTag.get(n.tag) : undefined;
      if (!rules) continue;
      for (let j = 0; j < group.length; j++) {
        // A new entry earlier in the group has already been paired with this one, both ways.
        if (j === i || (j < i && fresh[j])) continue;
        const other = group[j]!;
        for (const rule of rules) {
          addPair(add, rule, n, other);
          addPair(add, rule, other, n);
        }
      }
    }
  }
  if (needsRecompute(group, ctx.isNew, ctx.touched)) {
    const desired = new Map(desiredRecomputed(group, ctx.rejected ?? new Set()).map((l) => [linkId(l), l]));
    const types = RECOMPUTED[keyspace] ?? [];
    // A 307 row sits in a start group and a stop group: each group owns only the links it recomputes.
    const owned = (l: PlannedLink) =>
      types.includes(l.type) &&
      group.some(
        (e) =>
          e.berichtId === l.fromBerichtId && e.row === l.fromRow && e.tag === sourceTag(l.type, keyspace),
      );
    const active = (ctx.active ?? []).filter(owned);
    const activeIds = new Set(active.map(linkId));
    for (const [id, l] of desired) if (!activeIds.has(id)) add.set(id, l);
    for (const l of active) {
      const id = linkId(l);
      if (!desired.has(id)) revoke.set(id, l);
    }
  }
}
