// A parse worker: prepares exchanges (parse, validate, pseudonymise, encrypt) off the main thread, which
// keeps reading input and writing the store. Started by ParsePool; never imported elsewhere.
import { parentPort, workerData } from 'node:worker_threads';
import type { Keys } from '../pseudonymise/keys.js';
import { prepareExchange, type ReceivedExchange } from './ingest-prepare.js';

interface KeyMaterial {
  pseudonym: Uint8Array;
  berichtId: Uint8Array;
  rawEncryption: Uint8Array;
  rawKeyId: string;
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
};

const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

parentPort!.on('message', (msg: { id: number; items: { ex: ReceivedExchange; key: string }[] }) => {
  // The row objects stay here: copying them across threads costs more than parsing the JSON again.
  const out = msg.items.map(({ ex, key }) => {
    const prepared = prepareExchange(keys, { ...ex, bytes: toBuffer(ex.bytes) }, undefined, key);
    if (prepared.kind !== 'message') return prepared;
    const { tables: _tables, ...rest } = prepared;
    return rest;
  });
  parentPort!.postMessage({ id: msg.id, out });
});
