import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { dayFromIso as d } from '../domain/calendar.js';
import type { IndicatorValues } from '../indicators/indicators.js';
import type { Prestatie, ToegewezenProductRow } from '../simulate/model.js';
import type { Store } from '../store/open.js';
import { getOrganisation, insertOrganisation } from '../store/organisations.js';
import { assigned, Journeys, person, product, requested, wmoProduct } from './indicators.fixtures.js';
import {
  ALL_MEMBERS,
  computeIndicators,
  indicatorSnapshot,
  refreshIndicators,
  SNAPSHOT_VERSION,
} from './indicators.js';
import { setMembers } from './organisations.js';

const NOW = new Date('2024-07-01T08:00:00Z');

/**
 * Gemeente 0363: five requested products (two granted, one rejected, one in onderzoek, one unanswered), three
 * requests for a change (one granted, one rejected, one unanswered), three
 * toewijzingen with starts (one start rejected by its retour and resent), one definitive stop, one declaratie.
 * Gemeente 0599 and 0518: one client each, to check the scopes.
 */
async function buildStore(store: Store): Promise<void> {
  const a = new Journeys(store, '0363');
  const c1 = person(1);
  const c2 = person(2);
  const c3 = person(3);
  const c4 = person(4);
  // Client 1: 315 on Monday 4 March, R1 granted on Friday 8 March (4 working days), R2 rejected.
  await a.verzoek('JW315', '2024-03-04', c1, [requested('R1', '2024-03-11'), requested('R2', '2024-03-11')]);
  await a.toewijzing('JW301', '2024-03-08', c1, [assigned(1001, '2024-03-08', '2024-03-11', 'R1')], {
    dag: '2024-03-11',
    rowCodes: [['0200']],
  });
  await a.antwoord('JW319', '2024-03-08', { referentie: 'R2', verzoekAntwoord: '1', redenAfwijzing: '3' });
  // Started 7 days after the Ingangsdatum.
  await a.start('JW305', '2024-03-19', c1, [
    { nummer: 1001, product, begindatum: d('2024-03-18'), status: '1' },
  ]);
  // Client 2: 315 on Monday 22 April, granted Friday 3 May: 9 working days (King's Day falls on a Saturday).
  await a.verzoek('JW315', '2024-04-22', c2, [requested('R3', '2024-05-06')]);
  await a.toewijzing('JW301', '2024-05-03', c2, [assigned(1002, '2024-05-03', '2024-05-06', 'R3')]);
  // Started 21 days after the Ingangsdatum, stopped definitively on 15 June.
  await a.start('JW305', '2024-05-28', c2, [
    { nummer: 1002, product, begindatum: d('2024-05-27'), status: '1' },
  ]);
  await a.stop('JW307', '2024-06-18', c2, [
    {
      nummer: 1002,
      product,
      begindatum: d('2024-05-27'),
      redenBeeindiging: '31',
      einddatum: d('2024-06-15'),
      status: '1',
    },
  ]);
  // Client 3: R4 in onderzoek, R5 never answered.
  await a.verzoek('JW315', '2024-05-06', c3, [requested('R4', '2024-05-13'), requested('R5', '2024-05-13')]);
  await a.antwoord('JW319', '2024-05-08', { referentie: 'R4', verzoekAntwoord: '2' });
  // Requests for a change (317): W1 (client 2, a new product) on Monday 10 June, granted as toewijzing 1004
  // on Thursday 13 June (3 working days); W2 (client 3) rejected with reason 4; W3 (client 1) unanswered.
  const nieuw = { product, gewensteIngangsdatum: d('2024-06-17') };
  await a.wijziging('JW317', '2024-06-10', c2, {
    referentie: 'W1',
    reden: '1',
    ongewijzigd: [1002],
    teWijzigen: [],
    nieuw: [nieuw],
  });
  await a.toewijzing('JW301', '2024-06-13', c2, [assigned(1004, '2024-06-13', '2024-06-17', 'W1')]);
  await a.wijziging('JW317', '2024-06-04', c3, {
    referentie: 'W2',
    reden: '1',
    ongewijzigd: [],
    teWijzigen: [],
    nieuw: [nieuw],
  });
  await a.antwoord('JW319', '2024-06-06', { referentie: 'W2', verzoekAntwoord: '1', redenAfwijzing: '4' });
  await a.wijziging('JW317', '2024-06-17', c1, {
    referentie: 'W3',
    reden: '2',
    ongewijzigd: [1001],
    teWijzigen: [],
    nieuw: [nieuw],
  });
  // Client 4 (Wmo, gemeente-initiated): the first start is rejected by its retour (not processed, OP286),
  // the resent start counts: 11 days after the Ingangsdatum.
  await a.toewijzing('WMO301', '2024-02-01', c4, [
    assigned(1003, '2024-02-01', '2024-02-01', undefined, wmoProduct),
  ]);
  await a.start(
    'WMO305',
    '2024-02-06',
    c4,
    [{ nummer: 1003, product: wmoProduct, begindatum: d('2024-02-05'), status: '1' }],
    { dag: '2024-02-07', rowCodes: [['9063']] },
  );
  await a.start(
    'WMO305',
    '2024-02-13',
    c4,
    [{ nummer: 1003, product: wmoProduct, begindatum: d('2024-02-12'), status: '1' }],
    { dag: '2024-02-14' },
  );
  // Declaratie for March: 500 + 200 − 50 euro; the 200 is rejected in the 325.
  const prest = (ref: string, bedrag: number, dc: 'D' | 'C', vorig?: string) => ({
    referentieNummer: ref,
    ...(vorig ? { vorigReferentieNummer: vorig } : {}),
    nummer: 1001,
    categorie: '45',
    productCode: '45A03',
    begindatum: d('2024-03-18'),
    einddatum: d('2024-03-31'),
    volume: bedrag / 1000,
    eenheid: '04',
    tarief: 1000,
    bedrag,
    debetCredit: dc,
  });
  await a.declaratie(
    'JW323',
    '2024-04-05',
    {
      nummer: 'DN1',
      periodeBegin: d('2024-03-01'),
      periodeEind: d('2024-03-31'),
      dagtekening: d('2024-04-05'),
      clienten: [
        {
          bsn: c1.bsn,
          prestaties: [prest('P1', 50_000, 'D'), prest('P2', 20_000, 'D'), prest('P3', 5_000, 'C', 'P0')],
        },
      ],
    },
    [[0, 1]],
  );

  const b = new Journeys(store, '0599');
  const c5 = person(5);
  await b.toewijzing('JW301', '2024-03-01', c5, [assigned(2001, '2024-03-01', '2024-03-01')]);
  await b.start('JW305', '2024-03-05', c5, [
    { nummer: 2001, product, begindatum: d('2024-03-04'), status: '1' },
  ]);
  await b.verzoek('JW315', '2024-03-05', c5, [requested('R9', '2024-03-11')]);

  const c = new Journeys(store, '0518');
  const c6 = person(6);
  await c.toewijzing('JW301', '2024-01-10', c6, [assigned(3001, '2024-01-10', '2024-01-10')]);
  await c.start('JW305', '2024-01-16', c6, [
    { nummer: 3001, product, begindatum: d('2024-01-15'), status: '1' },
  ]);
  // A declaratie for April that the 325 rejects as a whole (header code 8848): both prestaties rejected.
  await c.declaratie(
    'JW323',
    '2024-05-06',
    {
      nummer: 'DN2',
      periodeBegin: d('2024-04-01'),
      periodeEind: d('2024-04-30'),
      dagtekening: d('2024-05-06'),
      clienten: [
        {
          bsn: c6.bsn,
          prestaties: [
            {
              ...prest('Q1', 30_000, 'D'),
              nummer: 3001,
              begindatum: d('2024-04-01'),
              einddatum: d('2024-04-14'),
            },
            {
              ...prest('Q2', 10_000, 'D'),
              nummer: 3001,
              begindatum: d('2024-04-15'),
              einddatum: d('2024-04-30'),
            },
          ],
        },
      ],
    },
    [],
    ['8848'],
  );

  const createdAt = new Date('2024-01-01T00:00:00Z');
  for (const g of ['0363', '0599', '0518'])
    await insertOrganisation(store.db, {
      code: g,
      name: `Gemeente ${g}`,
      kind: 'gemeente',
      members: [g],
      createdAt,
    });
  await insertOrganisation(store.db, {
    code: 'R001',
    name: 'Regio',
    kind: 'hoofdorganisatie',
    members: ['0363', '0599'],
    createdAt,
  });
}

const month = (m: string, ijw: number, iwmo: number, total: number) => ({ month: m, ijw, iwmo, total });
const empty = (m: string) => month(m, 0, 0, 0);

/** Computed by hand from the journeys above. */
const EXPECTED_0363: IndicatorValues = {
  leadTime: {
    count: 2,
    median: 6.5,
    withinNorm: 1,
    buckets: [
      { label: '0–5 werkdagen', count: 1 },
      { label: '6–10 werkdagen', count: 1 },
      { label: '11–20 werkdagen', count: 0 },
      { label: 'meer dan 20 werkdagen', count: 0 },
    ],
    // The Dagtekening of R1's and R3's 315.
    period: { from: '2024-03-04', to: '2024-04-22' },
  },
  requestOutcome: {
    requests: 5,
    honoured: 2,
    rejected: 1,
    underInvestigation: 1,
    unanswered: 1,
    rejectionReasons: [{ label: '3', count: 1 }],
  },
  changeRequests: {
    leadTime: {
      count: 1,
      median: 3,
      withinNorm: 1,
      buckets: [
        { label: '0–5 werkdagen', count: 1 },
        { label: '6–10 werkdagen', count: 0 },
        { label: '11–20 werkdagen', count: 0 },
        { label: 'meer dan 20 werkdagen', count: 0 },
      ],
      period: { from: '2024-06-10', to: '2024-06-10' },
    },
    requestOutcome: {
      requests: 3,
      honoured: 1,
      rejected: 1,
      underInvestigation: 0,
      unanswered: 1,
      rejectionReasons: [{ label: '4', count: 1 }],
    },
  },
  startDelay: {
    count: 3,
    median: 11,
    buckets: [
      { label: '0–7 dagen', count: 1 },
      { label: '8–14 dagen', count: 1 },
      { label: '15–30 dagen', count: 1 },
      { label: 'meer dan 30 dagen', count: 0 },
    ],
    // The Begindatum of the first starts of 1003 (the resent one), 1001 and 1002.
    period: { from: '2024-02-12', to: '2024-05-27' },
  },
  clientsInCare: {
    months: [
      ...['2023-07', '2023-08', '2023-09', '2023-10', '2023-11', '2023-12', '2024-01'].map(empty),
      month('2024-02', 0, 1, 1),
      month('2024-03', 1, 1, 2),
      month('2024-04', 1, 1, 2),
      month('2024-05', 2, 1, 3),
      month('2024-06', 2, 1, 3),
    ],
  },
  declarations: {
    months: [
      '2023-07',
      '2023-08',
      '2023-09',
      '2023-10',
      '2023-11',
      '2023-12',
      '2024-01',
      '2024-02',
      '2024-03',
      '2024-04',
      '2024-05',
      '2024-06',
    ].map((m) =>
      // Two debets minus one credit (of P0, declared before this data); the 200 euro debet rejected.
      m === '2024-03'
        ? { month: m, submittedCents: 65_000, approvedCents: 45_000, prestaties: 1, rejected: 1 }
        : { month: m, submittedCents: 0, approvedCents: 0, prestaties: 0, rejected: 0 },
    ),
  },
  retourErrors: {
    types: [
      { code: 'JW301', heen: 3, rejected: 0 },
      { code: 'WMO301', heen: 1, rejected: 0 },
      { code: 'JW305', heen: 2, rejected: 0 },
      { code: 'WMO305', heen: 2, rejected: 1 },
      { code: 'JW307', heen: 1, rejected: 0 },
      { code: 'JW315', heen: 3, rejected: 0 },
      { code: 'JW317', heen: 3, rejected: 0 },
      { code: 'JW319', heen: 3, rejected: 0 },
    ],
  },
};

for (const dialect of DIALECTS) {
  describe(`indicators (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshStore>>;
    let store: Store;
    beforeAll(async () => {
      db = await freshStore(dialect);
      store = db.store;
      await buildStore(store);
    }, 60_000);
    afterAll(async () => db.drop());

    it('computes the six indicators of a gemeente as worked out by hand', async () => {
      const snap = await refreshIndicators(store, '0363', { now: NOW });
      expect(snap.latestDagtekening).toBe('2024-06-18');
      expect(Object.keys(snap.scopes)).toEqual([ALL_MEMBERS]);
      expect(snap.scopes[ALL_MEMBERS]).toEqual(EXPECTED_0363);
    });

    it('takes no Dagtekening after the day of the snapshot as the latest (a sender with a wrong clock)', async () => {
      // 2024-06-18 is the latest in the store; seen on 2024-06-17 (00:30 in Amsterdam, still the 16th in UTC).
      const snap = await computeIndicators(store, (await getOrganisation(store.db, '0363'))!, {
        now: new Date('2024-06-16T22:30:00Z'),
      });
      expect(snap.latestDagtekening).toBe('2024-06-17');
    });

    it('never shows a gemeente the numbers of another gemeente', async () => {
      const b = (await refreshIndicators(store, '0599', { now: NOW })).scopes[ALL_MEMBERS]!;
      expect(b.requestOutcome).toMatchObject({ requests: 1, unanswered: 1, honoured: 0 });
      expect(b.startDelay).toMatchObject({ count: 1, median: 3 });
      expect(b.leadTime.count).toBe(0);
      expect(b.declarations.months.every((m) => m.prestaties === 0)).toBe(true);
      expect(b.retourErrors.types).toEqual([
        { code: 'JW301', heen: 1, rejected: 0 },
        { code: 'JW305', heen: 1, rejected: 0 },
        { code: 'JW315', heen: 1, rejected: 0 },
      ]);
      const c = (await refreshIndicators(store, '0518', { now: NOW })).scopes[ALL_MEMBERS]!;
      expect(c.startDelay).toMatchObject({ count: 1, median: 5 });
      expect(c.requestOutcome.requests).toBe(0);
      expect(c.declarations.months.find((m) => m.month === '2024-04')).toEqual({
        month: '2024-04',
        submittedCents: 40_000,
        approvedCents: 0,
        prestaties: 2,
        rejected: 2,
      });
    });

    it('shows a head organisation its members together and one by one, and nothing else', async () => {
      const snap = await refreshIndicators(store, 'R001', { now: NOW });
      expect(Object.keys(snap.scopes).sort()).toEqual(['0363', '0599', ALL_MEMBERS]);
      const a = (await refreshIndicators(store, '0363', { now: NOW })).scopes[ALL_MEMBERS]!;
      const b = (await refreshIndicators(store, '0599', { now: NOW })).scopes[ALL_MEMBERS]!;
      expect(snap.scopes['0363']).toEqual(a);
      expect(snap.scopes['0599']).toEqual(b);
      const all = snap.scopes[ALL_MEMBERS]!;
      expect(all.requestOutcome.requests).toBe(a.requestOutcome.requests + b.requestOutcome.requests);
      // 0363: 7, 11, 21 days; 0599: 3 days; the 0518 start (5 days) is not a member's.
      expect(all.startDelay).toMatchObject({ count: 4, median: 9 });
      expect(all.clientsInCare.months.at(-1)).toEqual(month('2024-06', 3, 1, 4));
    });

    it('keeps the snapshot with its watermarks until it is refreshed', async () => {
      const first = await refreshIndicators(store, '0363', { now: NOW });
      const later = new Date('2024-07-08T08:00:00Z');
      const read = await indicatorSnapshot(store, '0363', { now: later });
      expect(read.computedAt).toBe(NOW.toISOString());
      expect(read).toEqual(first);
      expect(read.messageSeq).toBeGreaterThan(0);
      expect(read.linkSeq).toBeGreaterThan(0);
      // Computed once on demand when there is none yet.
      await store.db.deleteFrom('indicator_snapshot').execute();
      expect((await indicatorSnapshot(store, '0363', { now: later })).computedAt).toBe(later.toISOString());
    });

    it('computes a head organisation anew once its members changed: no figures of a former member', async () => {
      const before = await refreshIndicators(store, 'R001', { now: NOW });
      expect(Object.keys(before.scopes).sort()).toEqual(['0363', '0599', ALL_MEMBERS]);
      await setMembers(store, { code: 'R001', members: ['0363'], actor: 'op', now: NOW });
      const later = new Date('2024-07-08T08:00:00Z');
      const after = await indicatorSnapshot(store, 'R001', { now: later });
      expect(after.members).toEqual(['0363']);
      expect(Object.keys(after.scopes)).toEqual([ALL_MEMBERS]);
      expect(after.computedAt).toBe(later.toISOString());
      await setMembers(store, { code: 'R001', members: ['0363', '0599'], actor: 'op', now: NOW });
    });
  });
}

/** Registers 0344 (Utrecht), the municipality of the smaller scenarios below. */
const registerUtrecht = (store: Store) =>
  insertOrganisation(store.db, {
    code: '0344',
    name: 'Utrecht',
    kind: 'gemeente',
    members: ['0344'],
    createdAt: new Date('2024-01-01T00:00:00Z'),
  });

for (const dialect of DIALECTS) {
  describe(`indicators: corrections (StatusAanlevering 3) on ${dialect}`, () => {
    it('cancel only the latest earlier row with the key, and not from a message its retour rejected', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const j = new Journeys(store, '0344');
        const c7 = person(7);
        const c8 = person(8);
        await j.toewijzing('JW301', '2024-02-01', c7, [assigned(4001, '2024-02-01', '2024-02-01')]);
        const start = (begindatum: string, status: '1' | '3') => ({
          nummer: 4001,
          product,
          begindatum: d(begindatum),
          status,
        });
        // A on 5 February; then A deleted and B (3 February) sent; then B deleted and A sent again.
        await j.start('JW305', '2024-02-06', c7, [start('2024-02-05', '1')]);
        await j.start('JW305', '2024-02-20', c7, [start('2024-02-05', '3'), start('2024-02-03', '1')]);
        await j.start('JW305', '2024-03-05', c7, [start('2024-02-03', '3'), start('2024-02-05', '1')]);
        // Client 8 starts on 12 February; the deletion of that start comes back rejected (it does not count).
        await j.toewijzing('JW301', '2024-02-01', c8, [assigned(4002, '2024-02-01', '2024-02-01')]);
        const c8start = { nummer: 4002, product, begindatum: d('2024-02-12') };
        await j.start('JW305', '2024-02-13', c8, [{ ...c8start, status: '1' }]);
        await j.start('JW305', '2024-04-02', c8, [{ ...c8start, status: '3' }], {
          dag: '2024-04-03',
          rowCodes: [['9414']],
        });
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        // 4001 started on 5 February (4 days after its Ingangsdatum), 4002 on 12 February (11 days).
        expect(v.startDelay).toMatchObject({ count: 2, median: 7.5 });
        expect(v.clientsInCare.months.at(-1)).toEqual(month('2024-06', 2, 0, 2));
      } finally {
        await drop();
      }
    });
  });
}

/**
 * Client 9 with toewijzing 5001, and one 323 of March in two versions (300,00 then 301,00 euro: the same
 * identification, other content), then a 325 for each of `answers` (see `conflictingDeclaratie`).
 */
async function twoVersionsOf323(store: Store, answers: (string[] | undefined)[] = []) {
  const j = new Journeys(store, '0344');
  const c9 = person(9);
  await j.toewijzing('JW301', '2024-02-01', c9, [assigned(5001, '2024-02-01', '2024-02-01')]);
  const decl = (cents: number) => ({
    nummer: 'DN9',
    periodeBegin: d('2024-03-01'),
    periodeEind: d('2024-03-31'),
    dagtekening: d('2024-04-05'),
    clienten: [
      {
        bsn: c9.bsn,
        prestaties: [
          {
            referentieNummer: 'V1',
            nummer: 5001,
            categorie: '45',
            productCode: '45A03',
            begindatum: d('2024-03-01'),
            einddatum: d('2024-03-31'),
            volume: cents / 100,
            eenheid: '04',
            tarief: 100,
            bedrag: cents,
            debetCredit: 'D' as const,
          },
        ],
      },
    ],
  });
  await j.conflictingDeclaratie('JW323', '2024-04-05', decl(30_000), decl(30_100), answers);
}

for (const dialect of DIALECTS) {
  describe(`indicators: two versions of one message on ${dialect}`, () => {
    it('a 325 with 9056 refuses the later version of a 323, not the one counted; another rejects it', async () => {
      // A 9056 refuses the later version; another rejection the version counted.
      const cases: [(string[] | undefined)[], number][] = [
        [[undefined, ['9056']], 0],
        [[['9056']], 0],
        [[['8848']], 1],
      ];
      for (const [answers, rejected] of cases) {
        const { store, drop } = await freshStore(dialect);
        try {
          await twoVersionsOf323(store, answers);
          await registerUtrecht(store);
          const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
          expect(
            v.declarations.months.find((m) => m.month === '2024-03'),
            JSON.stringify(answers),
          ).toEqual({
            month: '2024-03',
            submittedCents: 30_000,
            approvedCents: 30_000 * (1 - rejected),
            prestaties: 1,
            rejected,
          });
        } finally {
          await drop();
        }
      }
    });

    it('count the version stored first only', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        await twoVersionsOf323(store);
        const conflicts = await store.db
          .selectFrom('message')
          .select('conflict')
          .where('code', '=', 'JW323')
          .execute();
        expect(conflicts.map((c) => Number(c.conflict))).toEqual([1, 1]);
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        expect(v.declarations.months.find((m) => m.month === '2024-03')).toEqual({
          month: '2024-03',
          submittedCents: 30_000,
          approvedCents: 30_000,
          prestaties: 1,
          rejected: 0,
        });
      } finally {
        await drop();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`indicators: temporary stops (RedenBeeindiging 20) on ${dialect}`, () => {
    it('end the period of their start: the pause is no care, and a restart is a period of its own', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const j = new Journeys(store, '0344');
        // Client 10 (iJw): care from 15 January, paused from 10 February, restarted 8 April (a new start,
        // whose key the definitive stop of 20 May carries).
        const c10 = person(10);
        await j.toewijzing('JW301', '2024-01-10', c10, [assigned(6001, '2024-01-10', '2024-01-15')]);
        const first = { nummer: 6001, product, begindatum: d('2024-01-15') };
        const restart = { nummer: 6001, product, begindatum: d('2024-04-08') };
        await j.start('JW305', '2024-01-16', c10, [{ ...first, status: '1' }]);
        await j.stop('JW307', '2024-02-12', c10, [
          { ...first, redenBeeindiging: '20', einddatum: d('2024-02-10'), status: '1' },
        ]);
        await j.start('JW305', '2024-04-09', c10, [{ ...restart, status: '1' }]);
        await j.stop('JW307', '2024-05-21', c10, [
          { ...restart, redenBeeindiging: '31', einddatum: d('2024-05-20'), status: '1' },
        ]);
        // Client 11 (iWmo): care from 5 February, paused from 10 March, never restarted: the definitive stop
        // of 2 May follows on the same start (OP377); the pause before it is no care either.
        const c11 = person(11);
        await j.toewijzing('WMO301', '2024-02-01', c11, [
          assigned(6002, '2024-02-01', '2024-02-05', undefined, wmoProduct),
        ]);
        const wmo = { nummer: 6002, product: wmoProduct, begindatum: d('2024-02-05') };
        await j.start('WMO305', '2024-02-06', c11, [{ ...wmo, status: '1' }]);
        await j.stop('WMO307', '2024-03-11', c11, [
          { ...wmo, redenBeeindiging: '20', einddatum: d('2024-03-10'), status: '1' },
        ]);
        await j.stop('WMO307', '2024-05-03', c11, [
          { ...wmo, redenBeeindiging: '21', einddatum: d('2024-05-02'), status: '1' },
        ]);
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        expect(v.clientsInCare.months.slice(-6)).toEqual([
          month('2024-01', 1, 0, 1),
          month('2024-02', 1, 1, 2),
          month('2024-03', 0, 1, 1),
          month('2024-04', 1, 0, 1),
          month('2024-05', 1, 0, 1),
          month('2024-06', 0, 0, 0),
        ]);
      } finally {
        await drop();
      }
    });
  });
}

/** A 301 version deleting `row` (Proc §3.3.2): Einddatum = Ingangsdatum, RedenWijziging 13, sent on `dag`. */
const deletion = (row: ToegewezenProductRow, dag: string): ToegewezenProductRow => ({
  ...row,
  toewijzingsdatum: d(dag),
  einddatum: row.ingangsdatum,
  redenWijziging: '13',
});

for (const dialect of DIALECTS) {
  describe(`indicators: toewijzingen deleted with RedenWijziging 13 on ${dialect}`, () => {
    it('grant nothing: not toegewezen, no lead time to them; a deletion its retour rejected deletes nothing', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const j = new Journeys(store, '0344');
        const c12 = person(12);
        // A 315 on Monday 4 March; R20 and R21 assigned on Wednesday 6 March (2 working days).
        await j.verzoek('JW315', '2024-03-04', c12, [
          requested('R20', '2024-03-11'),
          requested('R21', '2024-03-11'),
        ]);
        const r20 = assigned(7001, '2024-03-06', '2024-03-11', 'R20');
        const r21 = assigned(7002, '2024-03-06', '2024-03-11', 'R21');
        await j.toewijzing('JW301', '2024-03-06', c12, [r20, r21]);
        // 7001 sent by mistake on Wednesday 13 March: deleted and replaced by 7003 (Proc §3.3.2), so R20 waited
        // 7 working days. Then 7002 deleted without a replacement: R21 has no answer.
        await j.toewijzing('JW301', '2024-03-13', c12, [
          deletion(r20, '2024-03-13'),
          r21,
          assigned(7003, '2024-03-13', '2024-03-11', 'R20'),
        ]);
        await j.toewijzing('JW301', '2024-03-20', c12, [
          deletion(r21, '2024-03-20'),
          assigned(7003, '2024-03-13', '2024-03-11', 'R20'),
        ]);
        // A request for a change granted the next day; the 301 deleting that toewijzing was rejected by its
        // retour (9385, TR385: not sent, OP286), so the toewijzing stands.
        await j.wijziging('JW317', '2024-06-03', c12, {
          referentie: 'W20',
          reden: '1',
          ongewijzigd: [7003],
          teWijzigen: [],
          nieuw: [{ product, gewensteIngangsdatum: d('2024-06-10') }],
        });
        const w20 = assigned(7004, '2024-06-04', '2024-06-10', 'W20');
        await j.toewijzing('JW301', '2024-06-04', c12, [
          assigned(7003, '2024-03-13', '2024-03-11', 'R20'),
          w20,
        ]);
        await j.toewijzing(
          'JW301',
          '2024-06-06',
          c12,
          [assigned(7003, '2024-03-13', '2024-03-11', 'R20'), deletion(w20, '2024-06-06')],
          { dag: '2024-06-07', rowCodes: [['0200'], ['9385']] },
        );
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        expect(v.requestOutcome).toMatchObject({ requests: 2, honoured: 1, unanswered: 1 });
        expect(v.leadTime).toMatchObject({ count: 1, median: 7, withinNorm: 0 });
        expect(v.changeRequests!.requestOutcome).toMatchObject({ requests: 1, honoured: 1 });
        expect(v.changeRequests!.leadTime).toMatchObject({ count: 1, median: 1 });
      } finally {
        await drop();
      }
    });

    it('a withdrawal (01 with Einddatum = Ingangsdatum) deletes too, and a rejected resend brings nothing back', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const j = new Journeys(store, '0344');
        // Client 17: R30 assigned on 6 March, then withdrawn on 7 March ("administratieve correctie
        // (vervallen)", Einddatum = Ingangsdatum: the current-toewijzing view drops it, OP087). No answer.
        const c17 = person(17);
        await j.verzoek('JW315', '2024-03-04', c17, [requested('R30', '2024-03-11')]);
        const r30 = assigned(9101, '2024-03-06', '2024-03-11', 'R30');
        await j.toewijzing('JW301', '2024-03-06', c17, [r30]);
        await j.toewijzing('JW301', '2024-03-07', c17, [
          { ...r30, toewijzingsdatum: d('2024-03-07'), einddatum: r30.ingangsdatum, redenWijziging: '01' },
        ]);
        // Client 18: R31 assigned on 6 March and deleted on 7 March; a resend of the toewijzing on 8 March,
        // rejected by its retour (9385: not sent, OP286), does not make it current again. No answer either.
        const c18 = person(18);
        await j.verzoek('JW315', '2024-03-04', c18, [requested('R31', '2024-03-11')]);
        const r31 = assigned(9102, '2024-03-06', '2024-03-11', 'R31');
        await j.toewijzing('JW301', '2024-03-06', c18, [r31]);
        await j.toewijzing('JW301', '2024-03-07', c18, [deletion(r31, '2024-03-07')]);
        await j.toewijzing('JW301', '2024-03-08', c18, [{ ...r31, toewijzingsdatum: d('2024-03-08') }], {
          dag: '2024-03-11',
          rowCodes: [['9385']],
        });
        // Client 19: R32 assigned on 6 March (2 working days), and changed at 10:00 the same day: an Einddatum
        // before the Ingangsdatum is no withdrawal (01 withdraws only with the two equal).
        const c19 = person(19);
        await j.verzoek('JW315', '2024-03-04', c19, [requested('R32', '2024-03-11')]);
        const r32 = assigned(9103, '2024-03-06', '2024-03-11', 'R32');
        await j.toewijzing('JW301', '2024-03-06', c19, [
          { ...r32, toewijzingstijd: '09:00:00', einddatum: d('2024-06-30'), redenWijziging: '01' },
        ]);
        await j.toewijzing('JW301', '2024-03-06', c19, [r32]);
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        expect(v.requestOutcome).toMatchObject({ requests: 3, honoured: 1, unanswered: 2 });
        expect(v.leadTime).toMatchObject({ count: 1, median: 2 });
      } finally {
        await drop();
      }
    });

    it('takes the version current at a start by Toewijzingsdatum and Toewijzingstijd, whatever came first', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const j = new Journeys(store, '0344');
        // Client 20: 9201 assigned at 09:00 from 10 March, and changed at 15:00 the same day to start on
        // 20 March; the start on 23 March is 3 days after the Ingangsdatum of the version at 15:00.
        const c20 = person(20);
        const morning = { ...assigned(9201, '2024-03-01', '2024-03-10'), toewijzingstijd: '09:00:00' };
        await j.toewijzing('JW301', '2024-03-01', c20, [morning]);
        await j.toewijzing('JW301', '2024-03-01', c20, [
          { ...morning, toewijzingstijd: '15:00:00', ingangsdatum: d('2024-03-20') },
        ]);
        await j.start('JW305', '2024-03-24', c20, [
          { nummer: 9201, product, begindatum: d('2024-03-23'), status: '1' },
        ]);
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        expect(v.startDelay).toMatchObject({ count: 1, median: 3 });
      } finally {
        await drop();
      }
    });

    it('started nothing: a start on a deleted toewijzing is no start at 3; a rejected deletion deletes nothing', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const j = new Journeys(store, '0344');
        const startOn = (nummer: number, begindatum: string) => ({
          nummer,
          product,
          begindatum: d(begindatum),
          status: '1' as const,
        });
        // Client 14: 9001 (from 4 March) started on 5 March, then deleted on 13 March (sent by mistake) and
        // replaced by 9003 from the same day, started on 14 March: only 9003 started, 10 days after.
        const c14 = person(14);
        const t9001 = assigned(9001, '2024-03-01', '2024-03-04');
        await j.toewijzing('JW301', '2024-03-01', c14, [t9001]);
        await j.start('JW305', '2024-03-06', c14, [startOn(9001, '2024-03-05')]);
        const t9003 = assigned(9003, '2024-03-13', '2024-03-04');
        await j.toewijzing('JW301', '2024-03-13', c14, [deletion(t9001, '2024-03-13'), t9003]);
        await j.start('JW305', '2024-03-15', c14, [startOn(9003, '2024-03-14')]);
        // Client 15: 9002 deleted on 8 March, and started anyway on 18 March: no start either.
        const c15 = person(15);
        const t9002 = assigned(9002, '2024-03-01', '2024-03-04');
        await j.toewijzing('JW301', '2024-03-01', c15, [t9002]);
        await j.toewijzing('JW301', '2024-03-08', c15, [deletion(t9002, '2024-03-08')]);
        await j.start('JW305', '2024-03-19', c15, [startOn(9002, '2024-03-18')]);
        // Client 16: 9004 started on 25 March (21 days); the 301 deleting it was rejected by its retour (9385,
        // TR385): not sent (OP286), so the start counts.
        const c16 = person(16);
        const t9004 = assigned(9004, '2024-03-01', '2024-03-04');
        await j.toewijzing('JW301', '2024-03-01', c16, [t9004]);
        await j.start('JW305', '2024-03-26', c16, [startOn(9004, '2024-03-25')]);
        await j.toewijzing('JW301', '2024-04-02', c16, [deletion(t9004, '2024-04-02')], {
          dag: '2024-04-03',
          rowCodes: [['9385']],
        });
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        expect(v.startDelay).toEqual({
          count: 2,
          median: 15.5,
          buckets: [
            { label: '0–7 dagen', count: 0 },
            { label: '8–14 dagen', count: 1 },
            { label: '15–30 dagen', count: 1 },
            { label: 'meer dan 30 dagen', count: 0 },
          ],
          period: { from: '2024-03-14', to: '2024-03-25' },
        });
      } finally {
        await drop();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`indicators: declarations with credits and rejections on ${dialect}`, () => {
    it('count debet minus credit prestaties, and the approved amount beside the submitted one', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        const j = new Journeys(store, '0344');
        const c13 = person(13);
        await j.toewijzing('JW301', '2024-02-01', c13, [assigned(8001, '2024-02-01', '2024-02-01')]);
        const prest = (ref: string, bedrag: number, dc: 'D' | 'C', month: string, vorig?: string) => ({
          referentieNummer: ref,
          ...(vorig ? { vorigReferentieNummer: vorig } : {}),
          nummer: 8001,
          categorie: '45',
          productCode: '45A03',
          begindatum: d(`${month}-01`),
          einddatum: d(`${month}-28`),
          volume: bedrag / 1000,
          eenheid: '04',
          tarief: 1000,
          bedrag,
          debetCredit: dc,
        });
        const decl = (nummer: string, dag: string, month: string, prestaties: Prestatie[]) => ({
          nummer,
          periodeBegin: d(`${month}-01`),
          periodeEind: d(`${month}-28`),
          dagtekening: d(dag),
          clienten: [{ bsn: c13.bsn, prestaties }],
        });
        // March: P10 (400 euro) approved, P11 (250) rejected. In May P10 is corrected (credit P12, new debet
        // P13 of 300) and P11 declared again as P14 (200). Two services, approved 500 euro.
        await j.declaratie(
          'JW323',
          '2024-04-05',
          decl('DN20', '2024-04-05', '2024-03', [
            prest('P10', 40_000, 'D', '2024-03'),
            prest('P11', 25_000, 'D', '2024-03'),
          ]),
          [[0, 1]],
        );
        await j.declaratie(
          'JW323',
          '2024-05-06',
          decl('DN21', '2024-05-06', '2024-03', [
            prest('P12', 40_000, 'C', '2024-03', 'P10'),
            prest('P13', 30_000, 'D', '2024-03', 'P12'),
            prest('P14', 20_000, 'D', '2024-03'),
          ]),
          [],
        );
        // April: one prestatie in a declaratie the 325 rejects as a whole (header code 8848).
        await j.declaratie(
          'JW323',
          '2024-05-07',
          decl('DN22', '2024-05-07', '2024-04', [prest('P20', 10_000, 'D', '2024-04')]),
          [],
          ['8848'],
        );
        await registerUtrecht(store);
        const v = (await refreshIndicators(store, '0344', { now: NOW })).scopes[ALL_MEMBERS]!;
        const byMonth = (m: string) => v.declarations.months.find((x) => x.month === m);
        // 4 debets − 1 credit; 400 + 250 − 400 + 300 + 200 submitted, minus the rejected 250.
        expect(byMonth('2024-03')).toEqual({
          month: '2024-03',
          submittedCents: 75_000,
          approvedCents: 50_000,
          prestaties: 3,
          rejected: 1,
        });
        expect(byMonth('2024-04')).toEqual({
          month: '2024-04',
          submittedCents: 10_000,
          approvedCents: 0,
          prestaties: 1,
          rejected: 1,
        });
      } finally {
        await drop();
      }
    });

    it('computes a snapshot stored with older definitions anew when it is read', async () => {
      const { store, drop } = await freshStore(dialect);
      try {
        await registerUtrecht(store);
        // Version 1: before the approved amount; version 2: before starts on deleted toewijzingen were left
        // out and before the periods of the lead times; version 3: before withdrawals (01) deleted.
        for (const version of [1, 2, 3]) {
          await refreshIndicators(store, '0344', { now: NOW });
          const row = await store.db
            .selectFrom('indicator_snapshot')
            .select('data')
            .where('organisation', '=', '0344')
            .executeTakeFirstOrThrow();
          const data = JSON.parse(row.data);
          data.version = version;
          const stored = data.scopes[ALL_MEMBERS];
          if (version === 1) for (const m of stored.declarations.months) delete m.approvedCents;
          else for (const figure of [stored.leadTime, stored.startDelay]) delete figure.period;
          await store.db
            .updateTable('indicator_snapshot')
            .set({ data: JSON.stringify(data) })
            .where('organisation', '=', '0344')
            .execute();
          const later = new Date('2024-07-08T08:00:00Z');
          const read = await indicatorSnapshot(store, '0344', { now: later });
          expect(read.computedAt, `version ${version}`).toBe(later.toISOString());
          // The JSON (API, --json) says which definitions its figures follow, as docs/indicatoren.md says.
          expect(read.version).toBe(SNAPSHOT_VERSION);
          const v = read.scopes[ALL_MEMBERS]!;
          expect(v.declarations.months.every((m) => m.approvedCents === 0)).toBe(true);
          expect([v.leadTime.period, v.startDelay.period]).toEqual([null, null]);
          // Stored again: the next read takes it as it is.
          const again = await indicatorSnapshot(store, '0344', { now: NOW });
          expect([again.computedAt, again.version]).toEqual([later.toISOString(), SNAPSHOT_VERSION]);
        }
      } finally {
        await drop();
      }
    });
  });
}
