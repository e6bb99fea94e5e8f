/**
 * Something to show once on the page a POST redirects to (Post/Redirect/Get), such as a new API token's
 * secret: kept server-side in this process's memory under a key that holds the session id, taken (and so
 * gone) by the first page that shows it, and dropped unshown after `ttlMs`. Never in a URL, a cookie or a
 * log. One process serves the portal (`serve`, `demo`); a restart between the POST and the page loses it,
 * which the page must then say.
 */
export class OneTimeFlash<T> {
  readonly #entries = new Map<string, { readonly value: T; readonly until: number }>();

  constructor(
    private readonly ttlMs: number,
    /** A bound on what is held: the oldest entries go first. */
    private readonly max = 1000,
  ) {}

  put(key: string, value: T, now: Date): void {
    const t = now.getTime();
    for (const [k, e] of this.#entries) if (e.until <= t) this.#entries.delete(k);
    this.#entries.delete(key);
    while (this.#entries.size >= this.max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, until: t + this.ttlMs });
  }

  /** The value, once: a second call (a reload of the page) gets undefined, as does one after `ttlMs`. */
  take(key: string, now: Date): T | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    return e.until > now.getTime() ? e.value : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}
