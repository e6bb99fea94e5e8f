/**
 * A time-ordered event queue (binary min-heap on moment, then insertion order), so that the run is
 * deterministic and the manifest comes out in hub order while only pending events are held in memory.
 */
interface Entry {
  readonly t: number;
  readonly seq: number;
  /** Either a callback or a generator to resume: journeys resume millions of times, a closure each would be garbage. */
  readonly run: (() => void) | undefined;
  readonly gen: Generator<number, void, void> | undefined;
}

export class Scheduler {
  #heap: Entry[] = [];
  #seq = 0;
  now = 0;

  constructor(readonly end: number) {}

  get pending(): number {
    return this.#heap.length;
  }

  /** Run `run` at moment `t` (epoch ms); events past the end of the run are dropped. */
  at(t: number, run: () => void): void {
    this.#push(t, run, undefined);
  }

  /** Resume `gen` at moment `t` (see `drive`). */
  resume(t: number, gen: Generator<number, void, void>): void {
    this.#push(t, undefined, gen);
  }

  #push(t: number, run: (() => void) | undefined, gen: Generator<number, void, void> | undefined): void {
    if (t > this.end) return;
    const e: Entry = { t: Math.max(t, this.now), seq: this.#seq++, run, gen };
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Entry;
      if (parent.t < e.t || (parent.t === e.t && parent.seq < e.seq)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      const left = h[l] as Entry;
      if (r < n) {
        const right = h[r] as Entry;
        if (right.t < left.t || (right.t === left.t && right.seq < left.seq)) c = r;
      }
      const child = h[c] as Entry;
      if (last.t < child.t || (last.t === child.t && last.seq < child.seq)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }

  /** Runs every event in time order until the queue is empty. */
  run(): void {
    for (let e = this.#pop(); e !== undefined; e = this.#pop()) {
      this.now = e.t;
      if (e.gen) drive(this, e.gen);
      else e.run?.();
    }
  }
}

/** Drive a generator that yields the moment it wants to resume at. */
export function drive(s: Scheduler, gen: Generator<number, void, void>): void {
  const r = gen.next();
  if (!r.done) s.resume(r.value, gen);
}
