// Indicators over messages stored through the real ingest: versions of one message and their retours, the
// aanbieder in the key of a start, and the rows of a 301 that grants a request for a change (317).
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { dayFromIso as d } from '../domain/calendar.js';
import * as build from '../simulate/messages.js';
import type {
  Header,
  RetourInfo,
  StartRow,
  StopRow,
  ToegewezenProductRow,
  Verzoek,
} from '../simulate/model.js';
import type { Store } from '../store/open.js';
import { insertOrganisation } from '../store/organisations.js';
import { testKeys } from '../usecases/deliveries.fixtures.js';
import { AGB, person } from '../usecases/indicators.fixtures.js';
import { computeIndicators } from '../usecases/indicators.js';
import { ingestOne } from '../usecases/ingest-exchanges.js';
import { requireOrganisation } from '../usecases/organisations.js';

const GEMEENTE = '0363';
const product = { categorie: '45', code: '45A03' } as const;
const wmoProduct = { categorie: '02', code: '02A01' } as const;
const client = person(1);

let counter = 0;
const nextId = () => `IRT${String(++counter).padStart(6, '0')}`;

async function ingest(store: Store, bytes: Uint8Array, from: string, to: string, dag: string): Promise<void> {
  const r = await ingestOne(
    { store, keys: testKeys(), now: () => new Date(`${dag}T12:00:00Z`) },
    {
      source: `indicators-retours-${++counter}.xml`,
      bytes: Buffer.from(bytes),
      moment: `${dag}T10:00:00.000Z`,
      verzender: from,
      ontvanger: to,
      hubId: null,
    },
  );
  if (r.seq === undefined) throw new Error(`not stored: ${JSON.stringify(r)}`);
}

function header(code: string, dag: string, afzender: string, ontvanger: string): Header {
  const standard = code.startsWith('JW') ? 'ijw' : 'iwmo';
  return { standard, code, afzender, ontvanger, identificatie: nextId(), dagtekening: d(dag) };
}

const retour = (dag: string, codes: Pick<RetourInfo, 'headerCodes' | 'classCodes'> = {}): RetourInfo => ({
  identificatie: nextId(),
  dagtekening: d(dag),
  ...codes,
});

function assigned(nummer: number, toewijzingsdatum: string, ingangsdatum: string, referentie?: string) {
  return {
    nummer,
    ...(referentie ? { referentie } : {}),
    product,
    toewijzingsdatum: d(toewijzingsdatum),
    toewijzingstijd: '10:00:00',
    ingangsdatum: d(ingangsdatum),
    einddatum: d('2024-12-31'),
    omvang: { volume: 4, eenheid: '04', frequentie: '2' },
  } satisfies ToegewezenProductRow;
}

async function toewijzing(store: Store, dag: string, rows: ToegewezenProductRow[]): Promise<void> {
  const h = header('JW301', dag, GEMEENTE, AGB);
  await ingest(store, build.toewijzing(h, client, rows, 'tabs'), GEMEENTE, AGB, dag);
}

async function values(store: Store) {
  await insertOrganisation(store.db, {
    code: GEMEENTE,
    name: 'Gemeente',
    kind: 'gemeente',
    members: [GEMEENTE],
    createdAt: new Date('2024-01-01T00:00:00Z'),
  });
  const org = await requireOrganisation(store, GEMEENTE);
  const snap = await computeIndicators(store, org, { now: new Date('2024-07-01T08:00:00Z') });
  return snap.scopes.alle!;
}

const inCare = (v: Awaited<ReturnType<typeof values>>) => v.clientsInCare.months.map((m) => m.total);

describe.each(DIALECTS)('indicators on %s', (dialect) => {
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await drop?.();
    drop = undefined;
  });
  const open = async () => {
    const db = await freshStore(dialect);
    drop = db.drop;
    return db.store;
  };

  /**
   * A 305 in two versions (one identification, other Begindatum), each answered by its own retour. Both
   * retours copy the same header, so each is linked to both versions.
   */
  async function twoVersions(store: Store, first: RetourInfo, second: RetourInfo): Promise<void> {
    await toewijzing(store, '2024-03-08', [assigned(1001, '2024-03-08', '2024-03-11')]);
    const h = header('JW305', '2024-03-19', AGB, GEMEENTE);
    const v1: StartRow[] = [{ nummer: 1001, product, begindatum: d('2024-03-18'), status: '1' }];
    const v2: StartRow[] = [{ nummer: 1001, product, begindatum: d('2024-03-25'), status: '1' }];
    await ingest(store, build.start(h, client, v1, 'tabs'), AGB, GEMEENTE, '2024-03-19');
    await ingest(store, build.start(h, client, v1, 'tabs', first), GEMEENTE, AGB, '2024-03-20');
    await ingest(store, build.start(h, client, v2, 'tabs'), AGB, GEMEENTE, '2024-03-21');
    await ingest(store, build.start(h, client, v2, 'tabs', second), GEMEENTE, AGB, '2024-03-22');
  }

  it('charges a rejecting retour to the version stored first, a 9056 to the later version', async () => {
    const store = await open();
    await twoVersions(
      store,
      retour('2024-03-20', { classCodes: { client: ['0200'], rows: [['9063']] } }),
      retour('2024-03-22', { headerCodes: ['9056'] }),
    );
    const v = await values(store);
    // The counted version was rejected, the second refused: no start, no care.
    expect(v.startDelay.count).toBe(0);
    expect(inCare(v).every((n) => n === 0)).toBe(true);
    expect(v.retourErrors.types.find((t) => t.code === 'JW305')).toEqual({
      code: 'JW305',
      heen: 1,
      rejected: 1,
    });
  });

  it('does not count a 9056 on a later version as a rejection of the counted one', async () => {
    const store = await open();
    await twoVersions(store, retour('2024-03-20'), retour('2024-03-22', { headerCodes: ['9056'] }));
    const v = await values(store);
    expect([v.startDelay.count, v.startDelay.median]).toEqual([1, 7]);
    expect(v.retourErrors.types.find((t) => t.code === 'JW305')).toEqual({
      code: 'JW305',
      heen: 1,
      rejected: 0,
    });
  });

  it('keeps a start going when another aanbieder stops its own start with the same key', async () => {
    const store = await open();
    const other = '87654321';
    const start: StartRow = { product: wmoProduct, begindatum: d('2024-01-02'), status: '1' };
    const stop: StopRow = { ...start, redenBeeindiging: '19', einddatum: d('2024-03-01') };
    for (const agb of [AGB, other]) {
      const h = header('WMO305', '2024-01-03', agb, GEMEENTE);
      await ingest(store, build.start(h, client, [start], 'tabs'), agb, GEMEENTE, '2024-01-03');
    }
    const h = header('WMO307', '2024-03-04', other, GEMEENTE);
    await ingest(store, build.stop(h, client, [stop], 'tabs'), other, GEMEENTE, '2024-03-04');
    const v = await values(store);
    expect(inCare(v).slice(-6)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('measures a request for a change to the product granted for it, not to an unchanged one', async () => {
    const store = await open();
    await toewijzing(store, '2024-03-01', [assigned(1001, '2024-03-01', '2024-03-04')]);
    const verzoek: Verzoek = {
      referentie: 'W1',
      reden: '1',
      ongewijzigd: [1001],
      teWijzigen: [],
      nieuw: [{ product, gewensteIngangsdatum: d('2024-06-24') }],
    };
    const h = header('JW317', '2024-06-10', AGB, GEMEENTE);
    await ingest(store, build.verzoekOmWijziging(h, client, verzoek, 'tabs'), AGB, GEMEENTE, '2024-06-10');
    // IV093: the granting 301 gives both products the ReferentieAanbieder; 1001 keeps its Toewijzingsdatum.
    await toewijzing(store, '2024-06-20', [
      assigned(1001, '2024-03-01', '2024-03-04', 'W1'),
      assigned(1002, '2024-06-20', '2024-06-24', 'W1'),
    ]);
    const v = await values(store);
    // Monday 10 June → Thursday 20 June: 8 working days.
    expect(v.changeRequests?.leadTime).toMatchObject({ count: 1, median: 8, withinNorm: 0 });
    expect(v.changeRequests?.requestOutcome.honoured).toBe(1);
  });
});
