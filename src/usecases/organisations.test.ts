import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { listAudit } from '../store/audit.js';
import type { Store } from '../store/open.js';
import { ingestAt, refusal, testBsn } from './deliveries.fixtures.js';
import {
  activateOrganisation,
  addOrganisation,
  cancelHistoryRequest,
  listOrganisations,
  membersOf,
  requestHistory,
  setMembers,
} from './organisations.js';

const NOW = new Date('2024-05-01T09:00:00Z');

const code = (p: Promise<unknown>) => refusal(p);

for (const dialect of DIALECTS) {
  describe(`organisations on ${dialect}`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ store, drop } = await freshStore(dialect));
    });
    afterAll(async () => drop());

    it('registers a municipality by CBS code and a head organisation with its members', async () => {
      const g = await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'op', now: NOW });
      expect(g).toMatchObject({ kind: 'gemeente', members: ['0363'], active: false });
      const h = await addOrganisation(store, {
        code: 'HO-1',
        name: 'Regio',
        members: ['0599', '0363', '0599'],
        actor: 'op',
        now: NOW,
      });
      expect(h).toMatchObject({ kind: 'hoofdorganisatie', members: ['0363', '0599'] });
      expect(await membersOf(store, 'HO-1')).toEqual(['0363', '0599']);
      expect((await listOrganisations(store)).map((o) => o.code)).toEqual(['0363', 'HO-1']);
    });

    it("changes a head organisation's members, with an audit line, and refuses it for a municipality", async () => {
      const later = new Date(NOW.getTime() + 60_000);
      const h = await setMembers(store, {
        code: 'HO-1',
        members: ['0599', ' 0384 ', '0599'],
        actor: 'op',
        now: later,
      });
      expect(h.members).toEqual(['0384', '0599']);
      expect(await membersOf(store, 'HO-1')).toEqual(['0384', '0599']);
      const line = (await listAudit(store.db, { organisation: 'HO-1' })).find(
        (a) => a.action === 'organisation.members',
      );
      expect(line).toBeDefined();
      expect(
        await code(setMembers(store, { code: '0363', members: ['0384'], actor: 'op', now: later })),
      ).toBe('organisation.not_head');
      expect(await code(setMembers(store, { code: 'HO-1', members: ['12'], actor: 'op', now: later }))).toBe(
        'organisation.invalid_members',
      );
      expect(await code(setMembers(store, { code: 'HO-1', members: [], actor: 'op', now: later }))).toBe(
        'organisation.invalid_members',
      );
      expect(await membersOf(store, 'HO-1')).toEqual(['0384', '0599']);
      await setMembers(store, { code: 'HO-1', members: ['0363', '0599'], actor: 'op', now: later });
    });

    it('rejects a municipality code that is not 4 digits, bad members, and a second registration', async () => {
      expect(await code(addOrganisation(store, { code: '363', name: 'X', actor: 'op', now: NOW }))).toBe(
        'organisation.invalid_code',
      );
      expect(
        await code(
          addOrganisation(store, { code: 'HO-2', name: 'X', members: ['12345'], actor: 'op', now: NOW }),
        ),
      ).toBe('organisation.invalid_members');
      expect(await code(addOrganisation(store, { code: '0363', name: 'Again', actor: 'op', now: NOW }))).toBe(
        'organisation.exists',
      );
      expect(await code(addOrganisation(store, { code: '0384', name: '  ', actor: 'op', now: NOW }))).toBe(
        'organisation.invalid_name',
      );
      // Four digits that no municipality has, as itself or as a member.
      expect(await code(addOrganisation(store, { code: '9999', name: 'X', actor: 'op', now: NOW }))).toBe(
        'organisation.invalid_code',
      );
      expect(
        await code(
          addOrganisation(store, {
            code: 'HO-9',
            name: 'X',
            members: ['0310', '9999'],
            actor: 'op',
            now: NOW,
          }),
        ),
      ).toBe('organisation.invalid_members');
      // A head organisation under a municipality's code, or under one that differs only in case.
      expect(
        await code(
          addOrganisation(store, { code: '0312', name: 'X', members: ['0310'], actor: 'op', now: NOW }),
        ),
      ).toBe('organisation.invalid_code');
      expect(
        await code(
          addOrganisation(store, { code: 'ho-1', name: 'X', members: ['0310'], actor: 'op', now: NOW }),
        ),
      ).toBe('organisation.exists');
    });

    it('starts the weekly cursor at 0, once: the first weekly holds all data not delivered before', async () => {
      const seq = await ingestAt(store, new Date('2024-04-30T10:00:00Z'), {
        kind: 'JW301',
        gemeente: '0363',
        bsn: testBsn(3),
      });
      const active = await activateOrganisation(store, { code: '0363', actor: 'op', now: NOW });
      expect(seq).toBeGreaterThan(0);
      expect(active).toMatchObject({ active: true, activatedAt: NOW.toISOString(), weeklySeq: 0 });
      expect(await code(activateOrganisation(store, { code: '0363', actor: 'op', now: NOW }))).toBe(
        'organisation.already_active',
      );
      expect(await code(activateOrganisation(store, { code: '9999', actor: 'op', now: NOW }))).toBe(
        'organisation.not_found',
      );
    });

    it('sets and clears the history request, only for an active organisation, with audit lines', async () => {
      expect(await code(requestHistory(store, { code: 'HO-1', actor: 'op', now: NOW }))).toBe(
        'organisation.inactive',
      );
      const r = await requestHistory(store, { code: '0363', actor: 'ana', now: NOW });
      expect(r).toMatchObject({
        historyRequested: true,
        historyRequestedBy: 'ana',
        historyRequestedAt: NOW.toISOString(),
      });
      const c = await cancelHistoryRequest(store, { code: '0363', actor: 'ana', now: NOW });
      expect(c.historyRequested).toBe(false);
      const actions = (await listAudit(store.db, { organisation: '0363' })).map((a) => a.action);
      expect(actions).toEqual([
        'organisation.cancel_history',
        'organisation.request_history',
        'organisation.activate',
        'organisation.add',
      ]);
    });
  });
}
