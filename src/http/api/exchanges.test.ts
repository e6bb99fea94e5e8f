import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import { EXAMPLES, SECRET } from '../../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../../pseudonymise/keys.js';
import { createApiToken, verifyApiToken } from '../../usecases/accounts.js';
import { listQuarantine } from '../../usecases/quarantine.js';
import { hubFeed } from '../launch.js';
import { exchangesApiFor } from './exchanges.js';

const TOKEN = 'operator-token';
const ORG_TOKEN = 'organisation-token';
/** What the app's token check says of a token: an operator's, an organisation's, or none at all. */
const scopeOf = async (t: string) =>
  t === TOKEN ? 'operator' : t === ORG_TOKEN ? 'organisation' : undefined;
const keys = deriveKeys(SECRET);
const clock = () => new Date('2024-03-05T10:00:00Z');
const jw301 = readFileSync(join(EXAMPLES, 'ijw-voorbeelden', 'JW301.xml'));
const auth = { Authorization: `Bearer ${TOKEN}` };

describe.each(DIALECTS)('POST /api/v1/exchanges on %s', (dialect) => {
  it('stores a posted message once, counts a resend as a passage and recognises a repeated request', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const post = (query: string, body: Buffer | string, headers: Record<string, string> = {}) =>
        app.request(`/api/v1/exchanges?${query}`, { method: 'POST', body, headers: { ...auth, ...headers } });
      const first = await post(
        'hubId=GGK1&moment=2024-03-04T09:00:00Z&verzender=0384&ontvanger=42420001',
        jw301,
        {
          'Content-Type': 'application/xml',
        },
      );
      expect(first.status).toBe(201);
      const body = (await first.json()) as { outcome: string; seq: number };
      expect(body.outcome).toBe('stored');
      expect((await post('hubId=GGK1', jw301)).status).toBe(200);
      const resend = await app.request('/api/v1/exchanges', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          xml: jw301.toString('utf8'),
          hubId: 'GGK2',
          moment: '2024-03-04T10:00:00+01:00',
        }),
      });
      expect(resend.status).toBe(200);
      expect(await resend.json()).toEqual({ outcome: 'duplicate', seq: body.seq });
      const m = await store.db.selectFrom('message').select(['passages', 'hub_id']).executeTakeFirstOrThrow();
      expect(m).toEqual({ passages: 2, hub_id: 'GGK1' });
    } finally {
      await drop();
    }
  });

  it('stores a message posted as JSON with an ISO-8859-1 declaration as the same message posted as bytes', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const text = jw301
        .toString('utf8')
        .replace(/^<\?xml[^>]*\?>/, '<?xml version="1.0" encoding="ISO-8859-1"?>')
        .replace('>Wit<', '>Hérmans<');
      const asBytes = await app.request('/api/v1/exchanges?hubId=GGK-L1', {
        method: 'POST',
        body: Buffer.from(text, 'latin1'),
        headers: { ...auth, 'Content-Type': 'application/xml' },
      });
      expect(asBytes.status).toBe(201);
      const { seq } = (await asBytes.json()) as { seq: number };
      const asJson = await app.request('/api/v1/exchanges', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ xml: text, hubId: 'GGK-L2' }),
      });
      expect(await asJson.json()).toEqual({ outcome: 'duplicate', seq });
    } finally {
      await drop();
    }
  });

  it('keeps an invalid message in quarantine and says why', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const res = await app.request('/api/v1/exchanges?hubId=GGK9', {
        method: 'POST',
        headers: auth,
        body: '<nope',
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({
        outcome: 'quarantined',
        reasonCode: 'ingest.not_well_formed',
      });
      expect(await store.db.selectFrom('quarantine').select('hub_id').execute()).toEqual([
        { hub_id: 'GGK9' },
      ]);
    } finally {
      await drop();
    }
  });

  it('names the token that posted a quarantined exchange as tokens list shows it, not the token itself', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const { token, row } = await createApiToken(
        store.db,
        { scope: 'operator', organisationCode: null },
        'Hub',
        null,
        clock(),
      );
      // Wired as the portal wires it: its token check, and the feed `serve` mounts.
      const feed = hubFeed(store, keys, clock);
      const app = feed!(async (t) => (await verifyApiToken(store.db, t, clock()))?.scope);
      const post = (query: string) =>
        app.request(`/api/v1/exchanges${query}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}` },
          body: '<nope',
        });
      expect((await post('?hubId=GGK9')).status).toBe(202);
      expect((await post('')).status).toBe(202);
      const items = await listQuarantine(store);
      expect(items.map((q) => [q.source, q.ingestSource])).toEqual([
        ['http/GGK9', `http:${row.prefix}…`],
        ['http', `http:${row.prefix}…`],
      ]);
      expect(row.prefix).toBe(token.slice(0, 10));
      expect(items[0]?.ingestSource).not.toContain(token);
    } finally {
      await drop();
    }
  });

  it('refuses a moment that is not a full ISO-8601 date-time on a real date, fields that are not text and parties that are no code', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      for (const moment of ['2026-02-30T06:00:00Z', 'Tue, 01 Dec 2026 10:00:00 +0100', '2026-12-01 10:00Z']) {
        const res = await app.request(`/api/v1/exchanges?hubId=X1&moment=${encodeURIComponent(moment)}`, {
          method: 'POST',
          headers: auth,
          body: jw301,
        });
        expect(res.status, moment).toBe(400);
        expect(await res.json()).toMatchObject({ error: { code: 'api.bad_request' } });
      }
      const numeric = await app.request('/api/v1/exchanges', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ xml: jw301.toString('utf8'), moment: 1733000000000 }),
      });
      expect(numeric.status).toBe(400);
      expect(await numeric.json()).toMatchObject({ error: { message: 'field "moment" must be a string' } });
      const party = await app.request('/api/v1/exchanges?hubId=X2&verzender=0384&ontvanger=abc', {
        method: 'POST',
        headers: auth,
        body: jw301,
      });
      expect(party.status).toBe(400);
      expect(await party.json()).toMatchObject({
        error: { message: expect.stringContaining('ontvanger "abc" is not a municipality CBS code') },
      });
      expect(await store.db.selectFrom('exchange').select('id').execute()).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('refuses a JSON body that is not an object with 400, not a 500', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      for (const body of ['null', '42', '[]', '["<Bericht/>"]', '"<Bericht/>"', 'true']) {
        const res = await app.request('/api/v1/exchanges', {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body,
        });
        expect(res.status, body).toBe(400);
        expect(await res.json(), body).toEqual({
          error: {
            code: 'api.bad_request',
            message:
              'the JSON body must be an object: {"xml": "…", "moment"?, "verzender"?, "ontvanger"?, "hubId"?}',
          },
        });
      }
      expect(await store.db.selectFrom('exchange').select('id').execute()).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('refuses a request without a valid operator token', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const none = await app.request('/api/v1/exchanges', { method: 'POST', body: jw301 });
      expect(none.status).toBe(401);
      const wrong = await app.request('/api/v1/exchanges', {
        method: 'POST',
        body: jw301,
        headers: { Authorization: 'Bearer x' },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('WWW-Authenticate')).toBe('Bearer');
      // A valid token that is not an operator's is known but not allowed: 403, as on /quarantine.
      const org = await app.request('/api/v1/exchanges', {
        method: 'POST',
        body: jw301,
        headers: { Authorization: `Bearer ${ORG_TOKEN}` },
      });
      expect(org.status).toBe(403);
      expect(await org.json()).toEqual({
        error: { code: 'api.operator_token_required', message: 'this endpoint needs an operator token' },
      });
      expect(await store.db.selectFrom('exchange').select('id').execute()).toEqual([]);
    } finally {
      await drop();
    }
  });
});
