import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StoredMessage } from '../store/deliveries.js';
import { DeliveryFormatter, deliveryPlans } from './deliver-content.js';

/** One formatted batch: per file its CSV lines as UTF-8, in first-seen order. */
export type EncodedBatch = readonly {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly rows: number;
}[];

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Formats batches in order: in this thread, or spread over worker threads for large deliveries. */
export interface BatchFormatter {
  /** Queues a batch; results come out of `next()` in the order batches went in. */
  submit(batch: readonly StoredMessage[]): void;
  /** The oldest queued batch's result. */
  next(): Promise<EncodedBatch>;
  readonly queued: number;
  close(): Promise<void>;
}

/** How a delivery's rows are formatted for its organisation. */
export interface FormatOptions {
  readonly leaveOutPersonalData?: boolean;
}

export function inlineFormatter(orgKey: Buffer, options: FormatOptions = {}): BatchFormatter {
  const f = new DeliveryFormatter(orgKey, options);
  const queue: EncodedBatch[] = [];
  return {
    submit: (batch) => {
      queue.push(
        [...f.format(batch)].map(([name, p]) => ({ name, bytes: Buffer.from(p.text, 'utf8'), rows: p.rows })),
      );
    },
    next: async () => queue.shift()!,
    get queued() {
      return queue.length;
    },
    close: async () => undefined,
  };
}

/**
 * Worker threads that re-key and format batches; the main thread reads the store and writes the ZIP,
 * taking results back in submission order, so the delivery is identical whatever the number of workers.
 * Each worker keeps its own hash cache.
 */
export function workerFormatter(orgKey: Buffer, size: number, options: FormatOptions = {}): BatchFormatter {
  const url = new URL(`./deliver-worker${ext}`, import.meta.url);
  const workerData = { orgKey: new Uint8Array(orgKey), options, plans: deliveryPlans() };
  // A worker holds one batch and its hash cache: a small old space keeps the process RSS bounded. The young
  // generation is not tiny: every batch's parsed JSON dies young, and at 8 MB the scavenger took half a worker's CPU.
  const resourceLimits = { maxYoungGenerationSizeMb: 48, maxOldGenerationSizeMb: 128 };
  const pending = new Map<number, { resolve: (v: EncodedBatch) => void; reject: (e: unknown) => void }>();
  const workers = Array.from({ length: size }, () => {
    // From source (tsx, vitest) the worker loads itself through tsx's loader, as the ingest pool does.
    const w =
      ext === '.ts'
        ? new Worker(
            `import(${JSON.stringify(
              pathToFileURL(
                createRequire(import.meta.url)
                  .resolve('tsx/esm/api')
                  .replace(/\.cjs$/, '.mjs'),
              ).href,
            )}).then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`,
            { eval: true, workerData, resourceLimits },
          )
        : new Worker(url, { workerData, resourceLimits });
    w.on('message', (msg: { id: number; out?: EncodedBatch; error?: string }) => {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(new Error(msg.error));
      else p?.resolve(msg.out!);
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    return w;
  });
  const order: Promise<EncodedBatch>[] = [];
  let id = 0;
  return {
    submit(batch) {
      const n = id++;
      const result = new Promise<EncodedBatch>((resolve, reject) => pending.set(n, { resolve, reject }));
      // Unobserved until next(): keep a rejection from being reported as unhandled meanwhile.
      result.catch(() => undefined);
      order.push(result);
      workers[n % workers.length]!.postMessage({ id: n, batch });
    },
    next: () => order.shift()!,
    get queued() {
      return order.length;
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
