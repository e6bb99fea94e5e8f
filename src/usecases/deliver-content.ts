import { maskBsns } from '../domain/bsn.js';
import { csvFormatter } from '../export/csv.js';
import type { Cell, DeliveryFileSpec } from '../export/delivery-writer.js';
import { deliveredHash } from '../pseudonymise/keys.js';
import { bsnProneColumns, type LeftOut, leaveOut, leftOutColumns } from '../schema/personal-data.js';
import { schemaSet } from '../schema/releases.js';
import type { StoredMessage } from '../store/deliveries.js';
import { KOPPELTABEL_FILE, KOPPELTABEL_HEADER } from './deliver-links.js';

/** Per table: which cells a delivery rewrites. Plain data, so it can be handed to a worker thread. */
export interface TablePlan {
  readonly name: string;
  readonly hashed: readonly number[];
  /** Columns with personal data in clear, and what of each an organisation that leaves them out gets. */
  readonly personal: readonly (readonly [column: number, as: LeftOut])[];
  /** Free text columns whose BSN-like numbers are masked (`bsnProneColumns`). */
  readonly bsnProne: readonly number[];
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
        personal: leftOutColumns(t.columns),
        bsnProne: bsnProneColumns(t.columns),
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

export function deliveryPlans(): ReadonlyMap<string, TablePlan> {
  if (!plans) buildPlans();
  return plans!;
}

/** One batch as CSV text per file (rows already formatted), with its row counts. */
export type FormattedBatch = Map<string, { text: string; rows: number }>;

/** Bounded cache of delivered hashes: one organisation's delivery meets the same BSN many times. */
const CACHE_LIMIT = 50_000;
const line = csvFormatter(';');

/**
 * Turns stored messages into delivery rows for one organisation: hashed cells become that organisation's
 * hash of the stored pseudonym, the main row gets the hub metadata, and every row is formatted as CSV at
 * once (so the parsed objects die young). Pure: runs in the main thread or in a worker (deliver-pool).
 */
export class DeliveryFormatter {
  readonly #orgKey: Buffer;
  readonly #plans: ReadonlyMap<string, TablePlan>;
  readonly #leaveOutPersonalData: boolean;
  readonly #cache = new Map<string, string>();

  constructor(
    orgKey: Buffer,
    options: { readonly leaveOutPersonalData?: boolean } = {},
    tablePlans: ReadonlyMap<string, TablePlan> = deliveryPlans(),
  ) {
    this.#orgKey = orgKey;
    this.#plans = tablePlans;
    this.#leaveOutPersonalData = options.leaveOutPersonalData === true;
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

  format(batch: readonly StoredMessage[]): FormattedBatch {
    const out: FormattedBatch = new Map();
    for (const m of batch) {
      const tables = JSON.parse(m.rows) as Record<string, Cell[][]>;
      for (const name in tables) {
        const plan = this.#plans.get(name);
        if (!plan) {
          throw new Error(
            `delivery.unknown_table: message seq ${m.seq} (${m.code}) has rows for unknown table ${name}`,
          );
        }
        let acc = out.get(name);
        if (!acc) {
          acc = { text: '', rows: 0 };
          out.set(name, acc);
        }
        for (const row of tables[name]!) {
          for (const i of plan.hashed) {
            const v = row[i];
            if (v !== null && v !== undefined && v !== '') row[i] = this.#hash(String(v));
          }
          for (const i of plan.bsnProne) {
            const v = row[i];
            if (typeof v === 'string') row[i] = maskBsns(v);
          }
          if (this.#leaveOutPersonalData) for (const [i, as] of plan.personal) row[i] = leaveOut(as, row[i]);
          if (plan.messageKey >= 0 && row[plan.messageKey] == null) row[plan.messageKey] = m.bericht_id;
          if (plan.gemeente >= 0 && row[plan.gemeente] == null) row[plan.gemeente] = m.gemeente;
          if (plan.exchange.size > 0) exchange(plan, row, m);
          acc.text += line(row);
          acc.rows++;
        }
      }
    }
    return out;
  }
}

function exchange(plan: TablePlan, row: Cell[], m: StoredMessage): void {
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
