// A delivery worker: re-keys and formats batches of stored messages off the main thread, which keeps
// reading the store and writing the ZIP. Started by FormatPool; never imported elsewhere.
import { parentPort, workerData } from 'node:worker_threads';
import type { StoredMessage } from '../store/deliveries.js';
import { DeliveryFormatter, type TablePlan } from './deliver-content.js';
import type { FormatOptions } from './deliver-pool.js';

const data = workerData as { orgKey: Uint8Array; options: FormatOptions; plans: Map<string, TablePlan> };
const encoder = new TextEncoder();
const formatter = new DeliveryFormatter(Buffer.from(data.orgKey), data.options, data.plans);

parentPort!.on('message', (msg: { id: number; batch: StoredMessage[] }) => {
  try {
    // Encoded here and transferred (not copied): the main thread, which reads the store and writes the
    // ZIP for all workers, then neither copies nor encodes the text.
    const out = [...formatter.format(msg.batch)].map(([name, p]) => ({
      name,
      bytes: encoder.encode(p.text),
      rows: p.rows,
    }));
    parentPort!.postMessage(
      { id: msg.id, out },
      out.map((o) => o.bytes.buffer),
    );
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
