import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type PackedEntries, unpackEntries } from '../links/entries.js';
import type { Keys } from '../pseudonymise/keys.js';
import type { EncryptedRaw } from '../pseudonymise/raw-encryption.js';
import type { PreparedExchange } from '../store/ingest-repository.js';
import type { ReceivedExchange } from './ingest-prepare.js';

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Exchanges per message to a worker. */
const CHUNK = 100;

/** A prepared exchange as a worker sends it: a message's link entries packed (`packEntries`). */
type WireExchange = PreparedExchange & { readonly packedEntries?: PackedEntries };

/** Buffers come back from a worker as plain Uint8Arrays, link entries packed. */
function revive(w: WireExchange): PreparedExchange {
  const { packedEntries, ...p } = w;
  const entries = packedEntries && p.kind === 'message' ? { linkEntries: unpackEntries(packedEntries) } : {};
  if (typeof p.raw === 'number') return { ...p, ...entries };
  const r = p.raw as EncryptedRaw;
  const raw: EncryptedRaw = {
    key_id: r.key_id,
    nonce: Buffer.from(r.nonce.buffer, r.nonce.byteOffset, r.nonce.byteLength),
    tag: Buffer.from(r.tag.buffer, r.tag.byteOffset, r.tag.byteLength),
    ciphertext: Buffer.from(r.ciphertext.buffer, r.ciphertext.byteOffset, r.ciphertext.byteLength),
  };
  return { ...p, ...entries, raw };
}

/**
 * Worker threads that prepare exchanges in parallel. Parsing is the bulk of ingest's CPU; the main thread
 * keeps the store writes (one writer, in input order), so results do not depend on the number of workers.
 */
export class ParsePool {
  readonly #workers: Worker[];
  readonly #pending = new Map<
    number,
    { resolve: (v: PreparedExchange[]) => void; reject: (e: unknown) => void }
  >();
  #next = 0;

  /** `link`: the batches will be linked, so the workers also compute each message's link entries. */
  constructor(size: number, keys: Keys, options: { readonly link?: boolean } = {}) {
    const url = new URL(`./ingest-worker${ext}`, import.meta.url);
    this.#workers = Array.from({ length: size }, () => {
      const workerData = {
        pseudonym: keys.pseudonym,
        berichtId: keys.berichtId,
        rawEncryption: keys.rawEncryption,
        rawKeyId: keys.rawKeyId,
        link: options.link ?? false,
      };
      // From source (tsx, vitest) the worker loads itself through tsx's loader.
      const w =
        ext === '.ts'
          ? new Worker(
              `import(${JSON.stringify(
                pathToFileURL(
                  createRequire(import.meta.url)
                    .resolve('tsx/esm/api')
                    .replace(/\.cjs$/, '.mjs'),
                ).href,
              )})` + `.then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`,
              { eval: true, workerData },
            )
          : new Worker(url, { workerData });
      w.on('message', (msg: { id: number; out: WireExchange[] }) => {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        p?.resolve(msg.out.map(revive));
      });
      w.on('error', (err) => {
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
      });
      return w;
    });
  }

  /**
   * Prepares the items in chunks spread over the workers; the result keeps the input order. Small chunks keep
   * what a worker holds at a time small: a whole batch in and out outlived many young-generation collections,
   * and copying it through them took a large share of the worker's time.
   */
  async prepare(items: readonly { ex: ReceivedExchange; key: string }[]): Promise<PreparedExchange[]> {
    const chunks: Promise<PreparedExchange[]>[] = [];
    for (let start = 0; start < items.length; start += CHUNK) {
      const id = this.#next++;
      const w = this.#workers[id % this.#workers.length]!;
      chunks.push(
        new Promise<PreparedExchange[]>((resolve, reject) => {
          this.#pending.set(id, { resolve, reject });
          w.postMessage({ id, items: items.slice(start, start + CHUNK) });
        }),
      );
    }
    return (await Promise.all(chunks)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
