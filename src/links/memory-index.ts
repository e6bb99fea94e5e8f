import { type LinkableMessage, type LinkEntry, linkEntries } from './entries.js';
import { type LinkPlan, linkId, type PlannedLink, planGroup } from './match.js';

/**
 * The incremental matcher over an in-memory key index: the reference the store implementation follows
 * (same entries, same `planGroup`), and a fast way to test order independence.
 */
export class MemoryLinkIndex {
  readonly #byKey = new Map<string, LinkEntry[]>();
  readonly #active = new Map<string, PlannedLink>();
  readonly #seen = new Set<string>();

  /** Adds a batch of messages; returns the links made and the links that lapsed. */
  add(messages: readonly LinkableMessage[]): LinkPlan {
    const batch = messages.filter((m) => !this.#seen.has(m.berichtId));
    const ids = new Set(batch.map((m) => m.berichtId));
    for (const m of batch) this.#seen.add(m.berichtId);
    const keys = new Set<string>();
    for (const m of batch) {
      for (const e of linkEntries(m)) {
        const list = this.#byKey.get(e.key) ?? [];
        list.push(e);
        this.#byKey.set(e.key, list);
        keys.add(e.key);
      }
    }
    const add: PlannedLink[] = [];
    const revoke: PlannedLink[] = [];
    for (const key of keys) {
      const group = this.#byKey.get(key) ?? [];
      const active = [...this.#active.values()].filter(
        (l) =>
          l.type === 'toewijzing-versie' &&
          group.some((e) => e.berichtId === l.fromBerichtId && e.row === l.fromRow),
      );
      const plan = planGroup(group, (e) => ids.has(e.berichtId), active);
      for (const l of plan.add) {
        if (this.#active.has(linkId(l))) continue;
        this.#active.set(linkId(l), l);
        add.push(l);
      }
      for (const l of plan.revoke) {
        if (this.#active.delete(linkId(l))) revoke.push(l);
      }
    }
    return { add, revoke };
  }

  /** The links in force now. */
  links(): PlannedLink[] {
    return [...this.#active.values()];
  }
}
