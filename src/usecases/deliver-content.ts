import type { Cell, DeliveryFileSpec, DeliveryWriter } from '../export/delivery-writer.js';
import { deliveredHash } from '../pseudonymise/keys.js';
import { schemaSet } from '../schema/releases.js';
import type { StoredMessage } from '../store/deliveries.js';
import { KOPPELTABEL_FILE, KOPPELTABEL_HEADER } from './deliver-links.js';

/** Per table: which cells a delivery rewrites. Computed once from the schema model. */
interface TablePlan {
  readonly name: string;
  readonly hashed: readonly number[];
  readonly messageKey: number;
  readonly gemeente: number;
  /** Exchange column index by name suffix (main tables only). */
  readonly exchange: ReadonlyMap<string, number>;
}

let plans: ReadonlyMap<string, TablePlan> | undefined;
let specs: readonly DeliveryFileSpec[] | undefined;

function buildPlans(): void {
  const map = new Map<string, TablePlan>();
  const list: DeliveryFileSpec[] = [];
  for (const m of schemaSet().messages) {
    for (const t of m.tables) {
      const exchange = new Map<string, number>();
      t.columns.forEach((c, i) => {
        if (c.role === 'exchange') exchange.set(c.name.replace(/^Uitwisseling_/, ''), i);
      });
      map.set(t.name, {
        name: t.name,
        hashed: t.columns.flatMap((c, i) => (c.hashed ? [i] : [])),
        messageKey: t.columns.findIndex((c) => c.role === 'messageKey'),
        gemeente: t.columns.findIndex((c) => c.role === 'gemeente'),
        exchange,
      });
      list.push({ name: t.name, header: t.columns.map((c) => c.name) });
    }
  }
  list.push({ name: KOPPELTABEL_FILE, header: KOPPELTABEL_HEADER });
  plans = map;
  specs = list;
}

/** Every file of a delivery: each table of each message type (schema order), then `Koppeltabel`. */
export function deliveryFileSpecs(): readonly DeliveryFileSpec[] {
  if (!specs) buildPlans();
  return specs!;
}

/** Bounded cache of delivered hashes: one organisation's delivery meets the same BSN many times. */
const CACHE_LIMIT = 100_000;

/**
 * Turns stored messages into delivery rows for one organisation: hashed cells become that organisation's
 * hash of the stored pseudonym, the main row gets the hub metadata, and rows go to their files.
 */
export class DeliveryContent {
  readonly #orgKey: Buffer;
  readonly #cache = new Map<string, string>();
  #messages = 0;

  constructor(orgKey: Buffer) {
    this.#orgKey = orgKey;
    if (!plans) buildPlans();
  }

  get messageCount(): number {
    return this.#messages;
  }

  #hash(stored: string): string {
    let h = this.#cache.get(stored);
    if (h === undefined) {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      h = deliveredHash(this.#orgKey, stored);
      this.#cache.set(stored, h);
    }
    return h;
  }

  /** Adds one batch of messages (seq order) to the writer. */
  async add(writer: DeliveryWriter, batch: readonly StoredMessage[]): Promise<void> {
    for (const m of batch) {
      const tables = JSON.parse(m.rows) as Record<string, Cell[][]>;
      for (const name in tables) {
        const plan = plans!.get(name);
        if (!plan) {
          throw new Error(
            `delivery.unknown_table: message seq ${m.seq} (${m.code}) has rows for unknown table ${name}`,
          );
        }
        for (const row of tables[name]!) {
          for (const i of plan.hashed) {
            const v = row[i];
            if (v !== null && v !== undefined && v !== '') row[i] = this.#hash(String(v));
          }
          if (plan.messageKey >= 0 && row[plan.messageKey] == null) row[plan.messageKey] = m.bericht_id;
          if (plan.gemeente >= 0 && row[plan.gemeente] == null) row[plan.gemeente] = m.gemeente;
          if (plan.exchange.size > 0) this.#exchange(plan, row, m);
          writer.push(name, row);
        }
      }
    }
    this.#messages += batch.length;
    await writer.flushFull();
  }

  #exchange(plan: TablePlan, row: Cell[], m: StoredMessage): void {
    const set = (key: string, value: Cell) => {
      const i = plan.exchange.get(key);
      if (i !== undefined) row[i] = value;
    };
    set('Moment', m.first_moment);
    set('Verzender', m.verzender);
    set('Ontvanger', m.ontvanger_hub);
    set('HubId', m.hub_id);
    set('Aantal', Number(m.passages));
    set('Afwijkend', Number(m.conflict) === 1 ? 'J' : 'N');
  }
}
