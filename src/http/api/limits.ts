import type { ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { type ClientRateLimitInfo, rateLimiter, type Store } from 'hono-rate-limiter';
import type { AppEnv } from '../env.js';

/** Requests an organisation token may make in any window of a minute (a sliding window). */
export const REQUESTS_PER_MINUTE = 120;
/** Downloads of files one organisation token may have running at once. */
export const DOWNLOADS_AT_ONCE = 4;
export const DOWNLOAD_RETRY_AFTER_SECONDS = 5;
const WINDOW_MS = 60_000;

const tooMany = (code: string, message: string) => ({ error: { code, message } });

/**
 * A sliding window for hono-rate-limiter: the times of each key's admitted requests in the last window.
 * Its own MemoryStore counts fixed windows, which let 2 × the limit through around a window's end.
 * A refused request is not kept, so a client looping on 429 gets in again as soon as its oldest request
 * falls out of the window.
 */
export class SlidingWindowStore implements Store<AppEnv> {
  private readonly hits = new Map<string, number[]>();
  private sweptAt = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  increment(key: string): ClientRateLimitInfo {
    const now = Date.now();
    this.sweep(now);
    const times = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    const admitted = times.length < this.limit;
    if (admitted) times.push(now);
    this.hits.set(key, times);
    // Retry-After and RateLimit-Reset: when the oldest request leaves the window, freeing a place.
    return {
      totalHits: admitted ? times.length : this.limit + 1,
      resetTime: new Date((times[0] ?? now) + this.windowMs),
    };
  }

  decrement(key: string): void {
    this.hits.get(key)?.pop();
  }

  resetKey(key: string): void {
    this.hits.delete(key);
  }

  /** Once a window: forgets tokens with no request in the last window, so idle ones do not pile up. */
  private sweep(now: number) {
    if (now - this.sweptAt < this.windowMs) return;
    this.sweptAt = now;
    for (const [key, times] of this.hits)
      if ((times.at(-1) ?? 0) <= now - this.windowMs) this.hits.delete(key);
  }

  get size() {
    return this.hits.size;
  }
}

const organisationToken = (c: { var: AppEnv['Variables'] }) =>
  c.var.apiOwner?.scope === 'organisation' ? c.var.apiOwner.id : undefined;

/** 120 requests a minute per organisation token, in this process; operator tokens (the hub feed) pass. */
export function requestRateLimit(store = new SlidingWindowStore(REQUESTS_PER_MINUTE, WINDOW_MS)) {
  return rateLimiter<AppEnv>({
    windowMs: WINDOW_MS,
    limit: REQUESTS_PER_MINUTE,
    standardHeaders: 'draft-6',
    store,
    skip: (c) => organisationToken(c) === undefined,
    keyGenerator: (c) => `token:${organisationToken(c)}`,
    // Retry-After is set by the limiter already.
    handler: (c) =>
      c.json(
        tooMany(
          'api.rate_limited',
          `more than ${REQUESTS_PER_MINUTE} requests in a minute with this token: send it again after Retry-After seconds`,
        ),
        429,
      ),
  });
}

/**
 * At most 4 file downloads at once per organisation token. A slot is held until the body has been sent,
 * the client hung up, or the transfer failed; a token with none running has no entry.
 */
export function downloadSlots(): MiddlewareHandler<AppEnv> & { readonly running: Map<number, number> } {
  const running = new Map<number, number>();
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const id = organisationToken(c);
    // A HEAD sends no file (and its body is dropped unread, which would never free the slot).
    if (id === undefined || c.req.method === 'HEAD') return next();
    const held = running.get(id) ?? 0;
    if (held >= DOWNLOADS_AT_ONCE)
      return c.json(
        tooMany(
          'api.too_many_downloads',
          `${DOWNLOADS_AT_ONCE} downloads with this token are running already: start this one when one of them has ended`,
        ),
        429,
        { 'Retry-After': String(DOWNLOAD_RETRY_AFTER_SECONDS) },
      );
    running.set(id, held + 1);
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      const left = (running.get(id) ?? 1) - 1;
      if (left > 0) running.set(id, left);
      else running.delete(id);
    };
    // Under the Node server its 'close' comes however the response ends, also when the body is never read;
    // listened to before the handler runs, as the client may hang up while the file is being opened.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    outgoing?.once('close', free);
    try {
      await next();
    } catch (err) {
      free();
      throw err;
    }
    const body = c.res.body;
    if (!body) return free();
    // Gone already: nobody will read the body, so let go of it (and of the file it reads) now.
    if (outgoing?.destroyed) {
      free();
      await body.cancel().catch(() => undefined);
      return;
    }
    const reader = body.getReader();
    c.res = new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              free();
              controller.close();
            } else controller.enqueue(value);
          } catch (err) {
            free();
            controller.error(err);
          }
        },
        cancel(reason) {
          free();
          return reader.cancel(reason);
        },
      }),
      c.res,
    );
  };
  return Object.assign(middleware, { running });
}
