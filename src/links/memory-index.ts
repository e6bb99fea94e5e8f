import { type LinkableMessage, type LinkEntry, linkEntries } from './entries.js';
import { type LinkPlan, linkId, needsRecompute, type PlannedLink, planGroup } from './match.js';

/**
 * The incremental matcher over an in-memory key index: the reference the store implementation follows
 * (same entries, same `planGroup`), and a fast way to test order independence.
 */
export class MemoryLinkIndex {
  readonly #byKey = new Map<string, LinkEntry[]>();
  readonly #byMessageKey = new Map<string, LinkEntry[]>();
  readonly #active = new Map<string, PlannedLink>();
  readonly #seen = new Set<string>();

  /** Adds a batch of messages; returns the links made and the links that lapsed. */
  add(messages: readonly LinkableMessage[]): LinkPlan {
    const batch = messages.filter((m) => !this.#seen.has(m.berichtId));
    const ids = new Set(batch.map((m) => m.berichtId));
    for (const m of batch) this.#seen.add(m.berichtId);
    const keys = new Set<string>();
    const touchedKeys = new Set<string>();
    const fresh: LinkEntry[] = [];
    for (const m of batch) {
      for (const e of linkEntries(m)) {
        fresh.push(e);
        const list = this.#byKey.get(e.key) ?? [];
        list.push(e);
        this.#byKey.set(e.key, list);
        keys.add(e.key);
        if (e.message) this.#byMessageKey.set(e.message, [...(this.#byMessageKey.get(e.message) ?? []), e]);
      }
    }
    // A rejecting retour changes which starts and stops count.
    for (const e of fresh) {
      if (e.tag !== 'retour' || e.info !== 'afgewezen') continue;
      for (const h of this.#byMessageKey.get(e.key) ?? []) {
        if (h.key.startsWith('start|') || h.key.startsWith('stop|')) touchedKeys.add(h.key);
      }
    }
    const add: PlannedLink[] = [];
    const revoke: PlannedLink[] = [];
    const isNew = (e: LinkEntry) => ids.has(e.berichtId);
    for (const key of new Set([...keys, ...touchedKeys])) {
      const group = this.#byKey.get(key) ?? [];
      const touched = touchedKeys.has(key);
      const rejected = new Set<string>();
      let active: PlannedLink[] = [];
      if (needsRecompute(group, isNew, touched)) {
        for (const e of group) {
          const retours = this.#byKey.get(e.message) ?? [];
          if (retours.some((r) => r.tag === 'retour' && r.info === 'afgewezen')) rejected.add(e.berichtId);
        }
        active = [...this.#active.values()].filter((l) =>
          group.some((e) => e.berichtId === l.fromBerichtId && e.row === l.fromRow),
        );
      }
      const plan = planGroup(group, { isNew, active, rejected, touched });
      for (const l of plan.revoke) {
        if (this.#active.delete(linkId(l))) revoke.push(l);
      }
      for (const l of plan.add) {
        if (this.#active.has(linkId(l))) continue;
        this.#active.set(linkId(l), l);
        add.push(l);
      }
    }
    return { add, revoke };
  }

  /** The links in force now. */
  links(): PlannedLink[] {
    return [...this.#active.values()];
  }
}
