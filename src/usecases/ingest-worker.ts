// A parse worker: prepares exchanges (parse, validate, pseudonymise, encrypt) off the main thread, which
// keeps reading input and writing the store. Started by ParsePool; never imported elsewhere.
import { parentPort, workerData } from 'node:worker_threads';
import { linkableMessage, linkEntries, packEntries } from '../links/entries.js';
import type { Keys } from '../pseudonymise/keys.js';
import { prepareExchange, type ReceivedExchange } from './ingest-prepare.js';

interface KeyMaterial {
  pseudonym: Uint8Array;
  berichtId: Uint8Array;
  rawEncryption: Uint8Array;
  rawKeyId: string;
  /** The batches will be linked: compute each message's link entries here, off the writing thread. */
  link: boolean;
}

const m = workerData as KeyMaterial;
const keys: Keys = {
  pseudonym: Buffer.from(m.pseudonym),
  berichtId: Buffer.from(m.berichtId),
  rawEncryption: Buffer.from(m.rawEncryption),
  rawKeyId: m.rawKeyId,
  organisation: () => {
    throw new Error('parse worker: organisation keys are not available here');
  },
  get totpEncryption(): Buffer {
    throw new Error('parse worker: the TOTP key is not available here');
  },
  get totpKeyId(): string {
    throw new Error('parse worker: the TOTP key is not available here');
  },
};

const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

parentPort!.on('message', (msg: { id: number; items: { ex: ReceivedExchange; key: string }[] }) => {
  // The row objects stay here: copying them across threads costs more than parsing the JSON again. What
  // linking needs of them goes along instead, so the writing thread neither parses nor walks the rows.
  const out = msg.items.map(({ ex, key }) => {
    const prepared = prepareExchange(keys, { ...ex, bytes: toBuffer(ex.bytes) }, undefined, key);
    if (prepared.kind !== 'message') return prepared;
    const { tables, ...rest } = prepared;
    if (!m.link || !tables) return rest;
    return { ...rest, packedEntries: packEntries(linkEntries(linkableMessage(prepared.message, tables))) };
  });
  parentPort!.postMessage({ id: msg.id, out });
});
