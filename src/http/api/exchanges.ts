import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { parseMoment } from '../../domain/moment.js';
import { isPartyCode, PARTY_CODE_RULE } from '../../domain/party.js';
import type { Keys } from '../../pseudonymise/keys.js';
import type { Store } from '../../store/open.js';
import { ingestOne, type PostedExchange, type SingleOutcome } from '../../usecases/ingest-exchanges.js';

/** Whose a bearer token is: an operator's, an organisation's, or nobody's (unknown, revoked or expired). */
export type TokenScopeOf = (token: string) => Promise<'operator' | 'organisation' | undefined>;

export interface ExchangesApiDeps {
  readonly ingest: (exchange: PostedExchange) => Promise<SingleOutcome>;
  readonly tokenScope: TokenScopeOf;
  readonly clock: () => Date;
}

const MAX_BYTES = 20 * 1024 * 1024;
const STATUS = { stored: 201, conflict: 201, duplicate: 200, skipped: 200, quarantined: 202 } as const;

const problem = (code: string, message: string) => ({ error: { code, message } });

/** The hub metadata: query parameters with an XML body, fields beside `xml` in a JSON one. */
const META_FIELDS = ['moment', 'verzender', 'ontvanger', 'hubId'] as const;
const JSON_FIELDS = ['xml', ...META_FIELDS] as const;

const unknownName = (what: string, name: string, known: readonly string[]) =>
  `unknown ${what} "${name}": the known ones are ${known.map((k) => `"${k}"`).join(', ')} (names are case-sensitive)`;

/** `…T10:00:00.967 02:00`: a date-time whose zone sign is a space (an unencoded `+`). */
const ZONE_SIGN_AS_SPACE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)? \d\d:?\d\d$/;

/**
 * Who posted, as `tokens list` and the portal show a token: its stored prefix, not a secret, and with the id
 * beside it there it says which token to revoke.
 */
const accountOf = (token: string) => `${token.slice(0, 10)}…`;

const bearerToken = (authorization: string | undefined) => /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];

/**
 * The message of a JSON body as bytes. JSON carries it decoded already, and it goes on as UTF-8: a declaration
 * naming another encoding (ISO-8859-1, say) would have the bytes read as that encoding, and garble every
 * accented letter. So the declaration says UTF-8, as the bytes are.
 */
function utf8Document(xml: string): Buffer {
  const text = xml.replace(/^(\uFEFF?<\?xml[^>]*?\sencoding\s*=\s*)(["'])[A-Za-z0-9._-]+\2/, '$1$2UTF-8$2');
  // A lone surrogate (`\ud800` in the JSON) has no UTF-8 form: Buffer.from would put U+FFFD in its place and
  // the message would be stored altered. Written as it came (WTF-8) it is refused as not UTF-8, and kept.
  return LONE_SURROGATE.test(text) ? wtf8(text) : Buffer.from(text, 'utf8');
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-8's byte patterns for every code point, a lone surrogate's own value included. */
function wtf8(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i) as number;
    i += cp > 0xffff ? 2 : 1;
    if (cp < 0x80) bytes.push(cp);
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else
      bytes.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
  }
  return Buffer.from(bytes);
}

/**
 * `POST /api/v1/exchanges` (mount at `/`): the hub's live feed, one exchange per request, operator token
 * required. The body is the message XML (`Content-Type: application/xml`) with the hub metadata as query
 * parameters `moment`, `verzender`, `ontvanger`, `hubId` (optional, but a hub id needs its moment; without
 * either the moment is the time of receipt, the parties those of the message header); or a JSON object
 * `{"xml", "moment", "verzender", "ontvanger", "hubId"}` and no query. Any other name is refused (400), and so
 * is a compressed body (415). 401 without a valid token, 403 for an organisation's token.
 * 201 stored (new message), 200 duplicate or already received, 202 kept in quarantine (also when that
 * exchange comes again); every exchange accepted is accounted for the same way as in `ketendata ingest`.
 */
export function exchangesApi(deps: ExchangesApiDeps): Hono {
  const app = new Hono();
  app.post(
    '/api/v1/exchanges',
    async (c, next) => {
      const token = bearerToken(c.req.header('Authorization'));
      const scope = token ? await deps.tokenScope(token) : undefined;
      // The same answers as the rest of /api/v1: 401 for no valid token, 403 for a valid one of an organisation.
      if (!scope) {
        c.header('WWW-Authenticate', 'Bearer');
        return c.json(problem('api.unauthorized', 'missing, unknown or revoked API token'), 401);
      }
      if (scope !== 'operator')
        return c.json(problem('api.operator_token_required', 'this endpoint needs an operator token'), 403);
      await next();
    },
    async (c, next) => {
      // A compressed body would be read as the message itself and quarantined as not UTF-8: refused unread.
      const encoding = (c.req.header('Content-Encoding') ?? '').trim().toLowerCase();
      if (encoding !== '' && encoding !== 'identity') {
        return c.json(
          problem(
            'api.unsupported_encoding',
            `Content-Encoding "${encoding}" is not supported: send the message uncompressed (identity)`,
          ),
          415,
        );
      }
      await next();
    },
    bodyLimit({
      maxSize: MAX_BYTES,
      onError: (c) => c.json(problem('api.too_large', `an exchange may be at most ${MAX_BYTES} bytes`), 413),
    }),
    async (c) => {
      const query = c.req.queries();
      const json = (c.req.header('Content-Type') ?? '').includes('json');
      // A misspelt name (`hubid`, `Moment`) ignored would store the exchange without it: refused, named.
      for (const [name, values] of Object.entries(query)) {
        if (!(META_FIELDS as readonly string[]).includes(name))
          return c.json(problem('api.bad_request', unknownName('query parameter', name, META_FIELDS)), 400);
        if (json)
          return c.json(
            problem(
              'api.bad_request',
              `query parameter "${name}" is not read with a JSON body: give it in the JSON body`,
            ),
            400,
          );
        if (values.length > 1)
          return c.json(problem('api.bad_request', `query parameter "${name}" is given more than once`), 400);
      }
      let meta: Record<string, unknown> = c.req.query();
      let bytes: Buffer;
      if (json) {
        // JSON is UTF-8 (RFC 8259). Read leniently, an invalid byte in "xml" became U+FFFD and the message was
        // stored altered; as bytes (application/xml) such a message is kept in quarantine.
        let text: string;
        try {
          text = STRICT_UTF8.decode(await c.req.arrayBuffer());
        } catch {
          return c.json(
            problem(
              'api.bad_request',
              'the JSON body is not valid UTF-8: send the message as it is with Content-Type: application/xml',
            ),
            400,
          );
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return c.json(problem('api.bad_request', 'body is not valid JSON'), 400);
        }
        // `null`, a number, a string or an array is valid JSON but carries no fields.
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          return c.json(
            problem(
              'api.bad_request',
              'the JSON body must be an object: {"xml": "…", "moment"?, "verzender"?, "ontvanger"?, "hubId"?}',
            ),
            400,
          );
        }
        meta = body as Record<string, unknown>;
        const unknown = Object.keys(meta).find((k) => !(JSON_FIELDS as readonly string[]).includes(k));
        if (unknown !== undefined)
          return c.json(problem('api.bad_request', unknownName('field', unknown, JSON_FIELDS)), 400);
        if (typeof meta.xml !== 'string')
          return c.json(problem('api.bad_request', 'field "xml" (the message) is required'), 400);
        bytes = utf8Document(meta.xml);
      } else {
        bytes = Buffer.from(await c.req.arrayBuffer());
      }
      const notText = META_FIELDS.find(
        (k) => meta[k] !== undefined && meta[k] !== null && typeof meta[k] !== 'string',
      );
      if (notText) return c.json(problem('api.bad_request', `field "${notText}" must be a string`), 400);
      const str = (k: string): string | null => {
        const v = meta[k];
        return typeof v === 'string' && v !== '' ? v : null;
      };
      // Without a moment (and without a hub id, see below): the time of receipt.
      let moment: string | null = null;
      const m = str('moment');
      if (m) {
        // The one moment parser of --now and the manifest: a real date, a time and a zone.
        const at = parseMoment(m);
        if (!at) {
          // An unencoded `+` of the zone arrives as a space in a query string.
          const hint =
            !json && ZONE_SIGN_AS_SPACE.test(m)
              ? ': a "+" in a query string is read as a space, write it as %2B (…+02:00 as …%2B02:00)'
              : '';
          return c.json(
            problem('api.bad_request', `moment "${m}" is not an ISO-8601 date-time with zone${hint}`),
            400,
          );
        }
        moment = at.toISOString();
      }
      const badParty = (['verzender', 'ontvanger'] as const).find((k) => {
        const v = str(k);
        return v !== null && !isPartyCode(v);
      });
      if (badParty) {
        return c.json(
          problem('api.bad_request', `${badParty} "${str(badParty)}" is not ${PARTY_CODE_RULE}`),
          400,
        );
      }
      const hubId = str('hubId');
      // The time of receipt is no passage's moment: the hub's extract, ingested later, would count it again,
      // and a retry would be another passage.
      if (hubId !== null && moment === null) {
        return c.json(
          problem(
            'api.moment_required',
            `hubId "${hubId}" comes without a moment: a hub id and its moment together identify a passage, so give the moment the hub recorded`,
          ),
          400,
        );
      }
      const result = await deps.ingest({
        // Without a hub id the same request sent twice (a client retry) has the same exchange key.
        source: hubId ? `http/${hubId}` : 'http',
        bytes,
        moment,
        verzender: str('verzender'),
        ontvanger: str('ontvanger'),
        hubId,
        // The token checked above: the request carries it.
        account: accountOf(bearerToken(c.req.header('Authorization')) ?? ''),
      });
      return c.json(result, STATUS[result.outcome]);
    },
  );
  return app;
}

/** The factory the portal mounts (`AppDeps.exchangesApi`): the ingest use case on this store and key set. */
export function exchangesApiFor(o: { store: Store; keys: Keys; clock: () => Date }) {
  return (tokenScope: TokenScopeOf): Hono =>
    exchangesApi({
      tokenScope,
      clock: o.clock,
      ingest: (ex) => ingestOne({ store: o.store, keys: o.keys, now: o.clock }, ex),
    });
}
