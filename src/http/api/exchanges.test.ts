import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../../test/support/databases.js';
import { EXAMPLES, SECRET } from '../../../test/support/exchange-fixtures.js';
import { deriveKeys } from '../../pseudonymise/keys.js';
import { createApiToken, verifyApiToken } from '../../usecases/accounts.js';
import { ingestSource } from '../../usecases/ingest-exchanges.js';
import { openSource } from '../../usecases/ingest-sources.js';
import { dismissQuarantine, listQuarantine } from '../../usecases/quarantine.js';
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
      // The same passage again (a retry): nothing added.
      const again = await post(
        'hubId=GGK1&moment=2024-03-04T09:00:00Z&verzender=0384&ontvanger=42420001',
        jw301,
      );
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ outcome: 'skipped' });
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
      const asBytes = await app.request('/api/v1/exchanges?hubId=GGK-L1&moment=2024-03-04T09:00:00Z', {
        method: 'POST',
        body: Buffer.from(text, 'latin1'),
        headers: { ...auth, 'Content-Type': 'application/xml' },
      });
      expect(asBytes.status).toBe(201);
      const { seq } = (await asBytes.json()) as { seq: number };
      const asJson = await app.request('/api/v1/exchanges', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ xml: text, hubId: 'GGK-L2', moment: '2024-03-04T09:05:00Z' }),
      });
      expect(await asJson.json()).toEqual({ outcome: 'duplicate', seq });
    } finally {
      await drop();
    }
  });

  it('keeps a JSON message with a lone surrogate in quarantine as not UTF-8, not altered into a stored one', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const text = jw301.toString('utf8').replace('>Wit<', '>W\ud800it<');
      const res = await app.request('/api/v1/exchanges', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ xml: text, hubId: 'GGK-S1', moment: '2024-03-04T09:00:00Z' }),
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({
        outcome: 'quarantined',
        reasonCode: 'ingest.not_well_formed',
      });
      const [item] = await listQuarantine(store);
      expect(item?.reason).toContain('not valid UTF-8');
      expect(await store.db.selectFrom('message').select('seq').execute()).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('refuses a JSON body that is not UTF-8 (an invalid byte would be read as U+FFFD), and stores nothing', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const json = Buffer.from(
        JSON.stringify({ xml: jw301.toString('utf8'), hubId: 'GGK-B1', moment: '2024-03-04T09:00:00Z' }),
      );
      const at = json.indexOf('>Wit<') + 1;
      json[at] = 0xff;
      const res = await app.request('/api/v1/exchanges', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: json,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: {
          code: 'api.bad_request',
          message:
            'the JSON body is not valid UTF-8: send the message as it is with Content-Type: application/xml',
        },
      });
      expect(await store.db.selectFrom('message').select('seq').execute()).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('keeps an invalid message in quarantine and says why', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const res = await app.request('/api/v1/exchanges?hubId=GGK9&moment=2024-03-04T09:00:00Z', {
        method: 'POST',
        headers: auth,
        body: '<nope',
      });
      expect(res.status).toBe(202);
      const [item] = await listQuarantine(store);
      expect(await res.json()).toMatchObject({
        outcome: 'quarantined',
        quarantineId: item!.id,
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
      expect((await post('?hubId=GGK9&moment=2024-03-04T09:00:00Z')).status).toBe(202);
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
  it('refuses a hub id without its moment, so the hub extract ingested later adds no second passage', async () => {
    const { store, drop } = await freshStore(dialect);
    const folder = mkdtempSync(join(tmpdir(), 'ketendata-feed-extract-'));
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const parties = 'verzender=0384&ontvanger=42420001';
      const post = (query: string) =>
        app.request(`/api/v1/exchanges?${query}`, { method: 'POST', headers: auth, body: jw301 });
      // Repeats at once, as a hub that retries on a timeout: each refused, none stored.
      const refused = await Promise.all([1, 2, 3, 4].map(() => post(`hubId=GGK7&${parties}`)));
      for (const res of refused) {
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
          error: {
            code: 'api.moment_required',
            message:
              'hubId "GGK7" comes without a moment: a hub id and its moment together identify a passage, so give the moment the hub recorded',
          },
        });
      }
      const json = await app.request('/api/v1/exchanges', {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ xml: jw301.toString('utf8'), hubId: 'GGK7', moment: '' }),
      });
      expect(json.status).toBe(400);
      expect(await json.json()).toMatchObject({ error: { code: 'api.moment_required' } });
      expect(await store.db.selectFrom('exchange').select('id').execute()).toEqual([]);
      // With its moment, repeated at once: one passage.
      const moment = '2024-03-04T09:00:00.967+01:00';
      const posted = await Promise.all(
        [1, 2, 3, 4].map(() => post(`hubId=GGK7&moment=${encodeURIComponent(moment)}&${parties}`)),
      );
      expect(posted.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
      // The hub's extract of that day, with the same hub id and moment: already received.
      writeFileSync(join(folder, 'a.xml'), jw301);
      writeFileSync(
        join(folder, 'manifest.ndjson'),
        `${JSON.stringify({ file: 'a.xml', hubId: 'GGK7', moment, verzender: '0384', ontvanger: '42420001' })}\n`,
      );
      const summary = await ingestSource({ store, keys, now: clock }, await openSource(folder));
      expect(summary).toMatchObject({ received: 1, stored: 0, duplicates: 0, skipped: 1 });
      expect(await store.db.selectFrom('exchange').select('exchange_key').execute()).toEqual([
        { exchange_key: 'hub:GGK7' },
      ]);
      const m = await store.db.selectFrom('message').select('passages').executeTakeFirstOrThrow();
      expect(Number(m.passages)).toBe(1);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      await drop();
    }
  });

  it('refuses metadata it would ignore: unknown or misspelt names, and query parameters beside a JSON body', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const known = '"moment", "verzender", "ontvanger", "hubId"';
      for (const name of ['hubid', 'Moment', 'hub_id']) {
        const res = await app.request(`/api/v1/exchanges?${name}=X1&moment=2024-03-04T09:00:00Z`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/xml' },
          body: jw301,
        });
        expect(res.status, name).toBe(400);
        expect(await res.json(), name).toEqual({
          error: {
            code: 'api.bad_request',
            message: `unknown query parameter "${name}": the known ones are ${known} (names are case-sensitive)`,
          },
        });
      }
      const twice = await app.request('/api/v1/exchanges?hubId=X1&hubId=X2&moment=2024-03-04T09:00:00Z', {
        method: 'POST',
        headers: auth,
        body: jw301,
      });
      expect(twice.status).toBe(400);
      expect(await twice.json()).toMatchObject({
        error: { message: 'query parameter "hubId" is given more than once' },
      });
      const json = (query: string, body: Record<string, unknown>) =>
        app.request(`/api/v1/exchanges${query}`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({ xml: jw301.toString('utf8'), ...body }),
        });
      const inQuery = await json('?hubId=X3&moment=2024-03-04T09:00:00Z', {});
      expect(inQuery.status).toBe(400);
      expect(await inQuery.json()).toEqual({
        error: {
          code: 'api.bad_request',
          message: 'query parameter "hubId" is not read with a JSON body: give it in the JSON body',
        },
      });
      const field = await json('', { hub_id: 'X4', moment: '2024-03-04T09:00:00Z' });
      expect(field.status).toBe(400);
      expect(await field.json()).toEqual({
        error: {
          code: 'api.bad_request',
          message: `unknown field "hub_id": the known ones are "xml", ${known} (names are case-sensitive)`,
        },
      });
      expect(await store.db.selectFrom('exchange').select('id').execute()).toEqual([]);
      expect(await store.db.selectFrom('ingest_run').select('id').execute()).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('refuses a compressed body with 415 and records nothing', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const post = (encoding: string, body: Buffer) =>
        app.request('/api/v1/exchanges?hubId=Z1&moment=2024-03-04T09:00:00Z', {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/xml', 'Content-Encoding': encoding },
          body,
        });
      for (const encoding of ['gzip', 'GZIP', 'br', 'deflate']) {
        const res = await post(encoding, gzipSync(jw301));
        expect(res.status, encoding).toBe(415);
        expect(await res.json(), encoding).toEqual({
          error: {
            code: 'api.unsupported_encoding',
            message: `Content-Encoding "${encoding.toLowerCase()}" is not supported: send the message uncompressed (identity)`,
          },
        });
      }
      for (const table of ['exchange', 'quarantine', 'ingest_run'] as const)
        expect(await store.db.selectFrom(table).select('id').execute(), table).toEqual([]);
      expect((await post('identity', jw301)).status).toBe(201);
    } finally {
      await drop();
    }
  });

  it('answers a repeat of a quarantined exchange as the first time: 202 with its quarantine item', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const post = (query: string, body: string) =>
        app.request(`/api/v1/exchanges?${query}`, { method: 'POST', headers: auth, body });
      for (const query of [
        'hubId=Q1&moment=2024-03-04T09:00:00Z',
        'moment=2024-03-04T09:00:00Z&verzender=0384',
      ]) {
        const first = await post(query, '<nope');
        expect(first.status, query).toBe(202);
        const answer = (await first.json()) as { quarantineId: number };
        expect(answer, query).toMatchObject({ outcome: 'quarantined', reasonCode: 'ingest.not_well_formed' });
        expect(typeof answer.quarantineId, query).toBe('number');
        const again = await post(query, '<nope');
        expect(again.status, query).toBe(202);
        expect(await again.json(), query).toEqual(answer);
        expect(answer, query).toMatchObject({ quarantineStatus: 'open' });
        // Dismissed by the operator since: still not stored, and the answer says the item is closed (it
        // is no longer listed by GET /quarantine).
        await dismissQuarantine(store, {
          ids: [answer.quarantineId],
          note: 'sent again corrected',
          actor: 'op',
          now: new Date('2024-03-05T09:00:00Z'),
        });
        const dismissed = await post(query, '<nope');
        expect(dismissed.status, query).toBe(202);
        expect(await dismissed.json(), query).toEqual({ ...answer, quarantineStatus: 'dismissed' });
      }
      // Other bytes under that hub id and moment are not that exchange: kept apart.
      const other = await post('hubId=Q1&moment=2024-03-04T09:00:00Z', '<other');
      expect(other.status).toBe(202);
      expect((await listQuarantine(store, { all: true })).length).toBe(3);
    } finally {
      await drop();
    }
  });

  it('says to write the + of a zone as %2B when it arrived as a space', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const res = await app.request('/api/v1/exchanges?hubId=P1&moment=2024-03-04T09:00:00.967+02:00', {
        method: 'POST',
        headers: auth,
        body: jw301,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: {
          code: 'api.bad_request',
          message:
            'moment "2024-03-04T09:00:00.967 02:00" is not an ISO-8601 date-time with zone: a "+" in a query string is read as a space, write it as %2B (…+02:00 as …%2B02:00)',
        },
      });
    } finally {
      await drop();
    }
  });

  it('stores an exchange whose hub moment is after its receipt, and says so in the answer', async () => {
    const { store, drop } = await freshStore(dialect);
    try {
      const app = exchangesApiFor({ store, keys, clock })(scopeOf);
      const res = await app.request('/api/v1/exchanges?hubId=T1&moment=2062-03-04T09:00:00Z', {
        method: 'POST',
        headers: auth,
        body: jw301,
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({
        outcome: 'stored',
        warningCode: 'ingest.future_moment',
        warning: expect.stringContaining('the hub moment 2062-03-04T09:00:00Z is after'),
      });
    } finally {
      await drop();
    }
  });
});
