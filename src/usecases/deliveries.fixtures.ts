// Test support for the delivery use cases (imported by *.test.ts only): real messages through the real
// ingest, and a reader for delivered ZIPs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { deriveKeys, type Keys } from '../pseudonymise/keys.js';
import type { Store } from '../store/open.js';
import { WEEKLY_JOB } from './deliver.js';
import { DeliveryError } from './deliveries-errors.js';
import { ingestOne } from './ingest-exchanges.js';
import { activateOrganisation, addOrganisation } from './organisations.js';

/** AGB code of the provider in every test message. */
export const TEST_PROVIDER = '12345678';
export const TEST_SECRET = 'delivery-test-secret-delivery-test-secret-42';
const EXAMPLES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'istandaarden', 'ijw-voorbeelden');

let keys: Keys | undefined;
export function testKeys(): Keys {
  keys ??= deriveKeys(TEST_SECRET);
  return keys;
}

/** A BSN that passes the 11-proef, from a counter (test numbers starting 99). */
export function testBsn(n: number): string {
  for (let i = n * 10; ; i++) {
    const body = `99${String(i).padStart(6, '0')}`;
    const sum = [...body].reduce((s, d, k) => s + Number(d) * (9 - k), 0);
    const last = sum % 11;
    if (last <= 9) return body + String(last);
  }
}

let counter = 0;

/**
 * One JW301 (gemeente → aanbieder) or JW305 (aanbieder → gemeente) from the official examples, made
 * unique: its own BerichtIdentificatie, the given gemeente and BSN.
 */
export function testMessage(kind: 'JW301' | 'JW305', gemeente: string, bsn: string): string {
  const xml = readFileSync(join(EXAMPLES, `${kind}.xml`), 'utf8');
  counter++;
  const id = `${process.pid % 1000}${String(counter).padStart(9, '0')}`.slice(-12);
  const party = kind === 'JW301' ? 'Afzender' : 'Ontvanger';
  // One provider on both sides, so a 305 starts the 301's toewijzingen (a start-toewijzing link).
  const provider = kind === 'JW301' ? 'Ontvanger' : 'Afzender';
  return xml
    .replace(new RegExp(`<(\\w+:)?${provider}>\\d{8}<`), (_m, p = '') => `<${p}${provider}>${TEST_PROVIDER}<`)
    .replace(new RegExp(`<(\\w+:)?${party}>\\d{4}<`), (_m, p = '') => `<${p}${party}>${gemeente}<`)
    .replace(/<(\w+:)?Identificatie>\d+</, (_m, p = '') => `<${p}Identificatie>${id}<`)
    .replaceAll(/<(\w+:)?Bsn>\d{9}</g, (_m, p = '') => `<${p}Bsn>${bsn}<`);
}

/** Ingests one message through the real ingest, as if it passed the hub at `at`. Returns its seq. */
export async function ingestAt(
  store: Store,
  at: Date,
  msg: { kind: 'JW301' | 'JW305'; gemeente: string; bsn: string },
): Promise<number> {
  const xml = testMessage(msg.kind, msg.gemeente, msg.bsn);
  const provider = TEST_PROVIDER;
  const r = await ingestOne(
    { store, keys: testKeys(), now: () => at },
    {
      source: `test-${counter}.xml`,
      bytes: Buffer.from(xml, 'utf8'),
      moment: at.toISOString(),
      verzender: msg.kind === 'JW301' ? msg.gemeente : provider,
      ontvanger: msg.kind === 'JW301' ? provider : msg.gemeente,
      hubId: null,
    },
  );
  if (r.seq === undefined) throw new Error(`test message not stored: ${JSON.stringify(r)}`);
  return r.seq;
}

/** Every entry of a ZIP file as text (delivery ZIPs) or bytes. */
export async function readZip(path: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.open(path, { lazyEntries: true }, (err, z) => (err ? rej(err) : res(z))),
  );
  return readZipFile(zip);
}

export async function readZipBuffer(buf: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, z) => (err ? rej(err) : res(z))),
  );
  return readZipFile(zip);
}

function readZipFile(zip: yauzl.ZipFile): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  return new Promise((res, rej) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return rej(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
        stream.on('error', rej);
      });
    });
    zip.on('end', () => res(out));
    zip.on('error', rej);
    zip.readEntry();
  });
}

/** Parses a delivered CSV (BOM, semicolons, CRLF; the test data holds no quotes) into header + rows. */
export function parseCsv(buf: Buffer): { header: string[]; rows: Record<string, string>[] } {
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const [head = '', ...lines] = text.split('\r\n').filter((l) => l.length > 0);
  const header = head.split(';');
  return { header, rows: lines.map((l) => Object.fromEntries(l.split(';').map((v, i) => [header[i]!, v]))) };
}

/**
 * What a use case call ends in: 'ok', or the code of the DeliveryError it throws (with its message when
 * `withMessage`); any other error fails the test.
 */
export async function refusal(p: Promise<unknown>, withMessage = false): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DeliveryError) return withMessage ? `${err.code}: ${err.message}` : err.code;
    throw err;
  }
}

/**
 * The weekly `slot` claimed as a worker that ran before left it: running, its lease until `leaseUntil`
 * (the only claim in `job_run`).
 */
export async function claimWeeklySlot(
  store: Store,
  claim: {
    readonly slot: string;
    readonly worker: string;
    readonly leaseUntil: Date;
    readonly claimedAt: Date;
  },
): Promise<void> {
  await store.db.deleteFrom('job_run').execute();
  await store.db
    .insertInto('job_run')
    .values({
      job: WEEKLY_JOB,
      slot: claim.slot,
      worker: claim.worker,
      status: 'running',
      claimed_at: claim.claimedAt.toISOString(),
      lease_until: claim.leaseUntil.toISOString(),
      finished_at: null,
      detail: null,
    })
    .execute();
}

/** A municipality activated at `activatedAt` with one JW301 of its own (client `bsn`) stored at `messageAt`. */
export async function activeWithMessage(
  store: Store,
  org: { readonly code: string; readonly name?: string },
  at: { readonly activatedAt: Date; readonly messageAt: Date },
  bsn: string = testBsn(1),
): Promise<void> {
  await addOrganisation(store, {
    code: org.code,
    name: org.name ?? org.code,
    actor: 'test',
    now: at.activatedAt,
  });
  await activateOrganisation(store, { code: org.code, actor: 'test', now: at.activatedAt });
  await ingestAt(store, at.messageAt, { kind: 'JW301', gemeente: org.code, bsn });
}
