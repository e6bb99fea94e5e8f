/** The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json. */
export function openApiDocument() {
  const error = { $ref: '#/components/responses/Error' };
  const unauthorized = { $ref: '#/components/responses/Unauthorized' };
  const orgToken = { $ref: '#/components/responses/OrganisationTokenRequired' };
  const operatorToken = { $ref: '#/components/responses/OperatorTokenRequired' };
  const fileMissing = { $ref: '#/components/responses/FileMissing' };
  // Answered for a method the path lacks (not one of its operations), listed under each so clients know it.
  const methodNotAllowed = { $ref: '#/components/responses/MethodNotAllowed' };
  const rateLimited = { $ref: '#/components/responses/RateLimited' };
  const downloadLimited = { $ref: '#/components/responses/DownloadLimited' };
  /** An error answer (the Error body) described for the one operation. */
  const problem = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const notFound = problem(
    'Not found, expired, or not ready yet (`api.not_found`; the same for ids of another organisation)',
  );
  const header = (description: string, type = 'string') => ({ description, schema: { type } });
  /** What every answer with (part of) a delivery's file says about it. */
  const fileHeaders = {
    'Content-Length': header('bytes in this answer', 'integer'),
    'Content-Disposition': header('`attachment; filename="…"`: the file name'),
    'Accept-Ranges': header('`bytes`: a broken-off download can be resumed with `Range`'),
    ETag: header('the file\'s identity (`"d<id>-<size>"`), for `If-Range`'),
  };
  /** Only on an answer that holds the whole stored file (200, and HEAD): a 206 holds part of it. */
  const reprDigest = {
    'Repr-Digest': header(
      "RFC 9530: `sha-256=:<base64 of the 32 digest bytes>:`, the SHA-256 of the whole file (the delivery's `sha256`, there as hex). Sent on a 200 (and HEAD) only, never on a 206 (its body is part of the file); after resuming with `Range`, check the assembled file against `sha256`.",
    ),
  };
  const zip = {
    description: 'The whole file',
    headers: { ...fileHeaders, ...reprDigest },
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  };
  /** When a download is recorded, and what a script does about it: for the Delivery field and its file. */
  const recorded =
    "Recorded means handed to the connection (the operating system's socket), not stored by the client: a file of a few MB fits in the socket buffers at once, so a transfer the client broke off may still be recorded, and `POST /deliveries/download-new` then leaves that delivery out. A script should therefore keep its own state of what it stored and verified (the size against `sizeBytes`; `unzip -t`, or the SHA-256 of each file in the ZIP's `manifest.json`) and fetch what it lacks by id with `GET /deliveries/{id}/file`, which serves a delivery downloaded before as well.";
  const ranges =
    'Resumable: a `Range` of one span of bytes (`bytes=first-`, `bytes=first-last`, `bytes=-n`) gives 206 with those bytes, or 416 when none of them exist. With an `If-Range` other than the ETag the whole file is sent (200). Recorded as a download once the server has handed the last byte of the whole file (200, or a range `bytes=0-<last byte>`) or of an open range `bytes=first-` (206, a resumed download) to the network; a suffix `bytes=-n` range, or a closed `bytes=first-last` one that starts after the first byte, never is, even when it ends at the last byte. Another unit, several ranges or a malformed `Range` are ignored.';
  /** The answer of the hub feed: what became of the exchange. */
  const exchangeAnswer = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ExchangeOutcome' } } },
  });
  const storeBusy = {
    description:
      'The store is busy or cannot be reached for now (`store.busy`). Send the same request again after `Retry-After` seconds: with `hubId` and `moment` (or, without a hub id, with `moment`) it is recognised if it was stored after all, and answers 200 `skipped`',
    headers: { 'Retry-After': header('seconds to wait before sending the same request again', 'integer') },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  const deleted = problem(
    'Deleted by a user of the organisation (`delivery.deleted`, the message says when): its file is gone for good; the listing shows it with `deletedAt` until it expires',
  );
  return {
    openapi: '3.0.3',
    info: {
      title: 'Ketendata iWmo en iJw API',
      version: '1',
      description:
        'Deliveries for the BI pipeline of a municipality or head organisation (organisation token) and exchange intake for the operator (operator token). Tokens are made in the portal under Instellingen. A method a path does not have answers 405 `api.method_not_allowed` with an `Allow` header (after the token check); a path the API does not have answers 404 `api.no_such_endpoint`. An organisation token may make 120 requests in any minute (a sliding window) and run 4 file downloads at once; over that it gets 429 with `Retry-After` (seconds): `api.rate_limited` or `api.too_many_downloads`. Each token has its own count, kept in memory by each server process; operator tokens are not limited. Any operation answers 503 `store.busy` with a `Retry-After` header (seconds) while the store is busy or cannot be reached: send the same request again after that.',
      license: { name: 'EUPL-1.2', url: 'https://joinup.ec.europa.eu/collection/eupl/eupl-text-eupl-12' },
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths: {
      '/deliveries': {
        get: {
          summary: "List the organisation's deliveries",
          operationId: 'listDeliveries',
          responses: {
            200: {
              description: 'Deliveries, newest first',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      deliveries: { type: 'array', items: { $ref: '#/components/schemas/Delivery' } },
                    },
                  },
                },
              },
            },
            401: unauthorized,
            403: orgToken,
            429: rateLimited,
            405: methodNotAllowed,
          },
        },
      },
      '/deliveries/{id}': {
        parameters: [{ $ref: '#/components/parameters/Id' }],
        get: {
          summary: 'One delivery',
          operationId: 'getDelivery',
          responses: {
            200: {
              description: 'The delivery',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Delivery' } } },
            },
            401: unauthorized,
            403: orgToken,
            429: rateLimited,
            404: notFound,
            405: methodNotAllowed,
          },
        },
        delete: {
          summary:
            'Delete the file of a downloaded delivery (the listing stays, marked deleted, until it expires)',
          operationId: 'deleteDelivery',
          responses: {
            204: { description: 'Deleted, or deleted before (a retried DELETE)' },
            401: unauthorized,
            403: orgToken,
            429: rateLimited,
            404: notFound,
            405: methodNotAllowed,
            409: problem('Not downloaded yet: a file nobody fetched stays (`delivery.not_downloaded`)'),
          },
        },
      },
      '/deliveries/{id}/file': {
        parameters: [{ $ref: '#/components/parameters/Id' }],
        get: {
          summary: 'Download one delivery (recorded as a download)',
          operationId: 'downloadDelivery',
          description: `${ranges} ${recorded}`,
          parameters: [
            {
              name: 'Range',
              in: 'header',
              required: false,
              schema: { type: 'string', example: 'bytes=1048576-' },
            },
            { name: 'If-Range', in: 'header', required: false, schema: { type: 'string' } },
          ],
          responses: {
            200: zip,
            206: {
              description:
                'The bytes asked for; recorded as a download only when they end at the last byte and the range is open (`bytes=first-`, a resumed download) or starts at the first byte (`bytes=0-<last byte>`)',
              headers: {
                ...fileHeaders,
                'Content-Range': header('`bytes first-last/size`'),
              },
              content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
            },
            401: unauthorized,
            403: orgToken,
            429: downloadLimited,
            404: notFound,
            405: methodNotAllowed,
            410: deleted,
            416: {
              description: 'The range lies outside the file (`delivery.range_not_satisfiable`)',
              headers: {
                'Content-Range': header('`bytes */size`'),
                'Accept-Ranges': fileHeaders['Accept-Ranges'],
                ETag: fileHeaders.ETag,
              },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
            500: fileMissing,
          },
        },
        head: {
          summary: 'Size, type and file name of one delivery without its body (not recorded as a download)',
          operationId: 'describeDeliveryFile',
          responses: {
            200: {
              description: 'Headers only, as a GET would send them',
              headers: { ...fileHeaders, ...reprDigest },
            },
            401: {
              description: 'No valid token',
              headers: { 'WWW-Authenticate': header('`Bearer`') },
            },
            403: { description: 'An operator token: this endpoint needs an organisation token' },
            404: {
              description: 'Not found, expired or not ready yet (also for ids of another organisation)',
            },
            405: {
              description: 'A method this path does not have',
              headers: { Allow: header('the methods it has') },
            },
            410: { description: 'Deleted by a user of the organisation: its file is gone for good' },
            429: {
              description: 'More than 120 requests in a minute with this token',
              headers: { 'Retry-After': header('seconds until a request is admitted again', 'integer') },
            },
            500: { description: 'The file is missing on the server' },
          },
        },
      },
      '/deliveries/download-new': {
        post: {
          summary: 'Download all deliveries not downloaded before, as one ZIP',
          operationId: 'downloadNew',
          description:
            "The ZIP holds each delivery ZIP as an entry, uncompressed, and is streamed without `Content-Length`. Each delivery in it is recorded as downloaded once the server has handed the last byte to the network, which for a few MB is at once, whether or not the client got it all: to make sure, check the ZIP opens, or list `/deliveries` and fetch each by id. A delivery whose file is missing on the server is left out (and logged); 500 `delivery.file_missing` when that leaves nothing to send. No `Repr-Digest` header: it is sent only when the answer is exactly one stored delivery file whose SHA-256 is known, and this ZIP is made as it is sent; each entry in it is a delivery's ZIP byte for byte, so check each against that delivery's `sha256` (`sha256sum`).",
          responses: {
            200: {
              description: 'ZIP of ZIPs',
              headers: {
                'Content-Disposition': header(
                  '`attachment; filename="ketendata-<organisation>-nieuw-<YYYY-MM-DD>.zip"`, the date as in Amsterdam',
                ),
                'Ketendata-Deliveries': header(
                  'The ids of the deliveries the ZIP holds, comma-separated (e.g. `61,62,63`): a script whose download broke off fetches exactly those again with `GET /deliveries/{id}/file`',
                ),
              },
              content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
            },
            204: { description: 'Nothing new' },
            401: unauthorized,
            403: orgToken,
            429: downloadLimited,
            405: methodNotAllowed,
            500: fileMissing,
          },
        },
      },
      '/history-request': {
        get: {
          summary: 'State of the history request',
          operationId: 'getHistoryRequest',
          responses: {
            200: {
              description: 'State',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/HistoryStatus' } } },
            },
            401: unauthorized,
            403: orgToken,
            429: rateLimited,
            405: methodNotAllowed,
          },
        },
        post: {
          summary: 'Request a full history delivery (made in the next weekly run)',
          description:
            'Takes no parameters: send no body, or an empty JSON object. A body with any field is refused (400 `api.bad_request`). Requesting again while a request is pending changes nothing.',
          operationId: 'requestHistory',
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: { type: 'object', additionalProperties: false, maxProperties: 0 },
              },
            },
          },
          responses: {
            202: {
              description: 'Requested (or already pending)',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/HistoryStatus' } } },
            },
            400: error,
            401: unauthorized,
            403: orgToken,
            429: rateLimited,
            405: methodNotAllowed,
            409: problem(
              'The organisation is not active (`organisation.inactive`: not activated yet, or deactivated): the operator activates it',
            ),
          },
        },
        delete: {
          summary: 'Withdraw a pending history request (as unticking it in the portal)',
          description: 'Recorded in the audit log. 404 `api.not_found` when no request is pending.',
          operationId: 'withdrawHistoryRequest',
          responses: {
            200: {
              description: 'Withdrawn; the state after it',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/HistoryStatus' } } },
            },
            401: unauthorized,
            403: orgToken,
            429: rateLimited,
            404: error,
            405: methodNotAllowed,
          },
        },
      },
      '/indicators': {
        get: {
          summary: "The organisation's dashboard indicators (its weekly snapshot)",
          description:
            'The snapshot the weekly run made (computed once on the first call when there is none yet): for all member municipalities together (`alle`) and, for a head organisation, per member. Definitions: docs/indicatoren.md.',
          operationId: 'getIndicators',
          responses: {
            200: {
              description: 'The snapshot',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/IndicatorSnapshot' } } },
            },
            401: unauthorized,
            403: orgToken,
            429: rateLimited,
            405: methodNotAllowed,
          },
        },
      },
      '/exchanges': {
        post: {
          summary: 'Operator: post one exchange (message plus hub metadata)',
          operationId: 'postExchange',
          description:
            'The message as the body (`application/xml`) with the hub metadata as query parameters, or a JSON object with the message as `xml` and the metadata beside it (then no query parameters). A name not listed here (`hubid`, `hub_id`, `Moment`) is refused with 400, not ignored. The body uncompressed: any `Content-Encoding` but `identity` is refused with 415. A hub id needs its moment: together they identify a passage, so a request repeated with both (after a 503, a timeout or a lost answer) is recognised and adds nothing. Retry: a 503 (after `Retry-After`) and a network error or timeout, with the same request; never a 4xx, which fails the same way again until the request is changed.',
          parameters: [
            {
              name: 'moment',
              in: 'query',
              schema: { type: 'string', format: 'date-time' },
              description:
                'when it passed the hub, ISO-8601 with zone; required with `hubId` (400 `api.moment_required`); without either, the time of receipt. Encode a `+` of the zone as `%2B`: unencoded it reads as a space',
            },
            { name: 'verzender', in: 'query', schema: { type: 'string' } },
            { name: 'ontvanger', in: 'query', schema: { type: 'string' } },
            {
              name: 'hubId',
              in: 'query',
              schema: { type: 'string' },
              description: "the hub's id of the exchange; with `moment`",
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/xml': { schema: { type: 'string', description: 'the iJw/iWmo 3.2 message' } },
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['xml'],
                  additionalProperties: false,
                  properties: {
                    xml: { type: 'string' },
                    moment: { type: 'string', description: 'required with `hubId`' },
                    verzender: { type: 'string' },
                    ontvanger: { type: 'string' },
                    hubId: { type: 'string' },
                  },
                },
              },
            },
          },
          responses: {
            201: exchangeAnswer('Stored (a new message, or a new version beside a conflicting one): `seq`'),
            200: exchangeAnswer(
              'A duplicate (a passage of message `seq`), or this exchange was received before (`skipped`): nothing added',
            ),
            202: exchangeAnswer(
              'Kept in quarantine: `quarantineId`, `reasonCode` and `reason`; the same answer when that exchange comes again',
            ),
            400: problem(
              'A JSON body that is not valid JSON, not an object or without `xml`; a query parameter or field of another name, a query parameter beside a JSON body or given twice; a field that is not text; a moment that is not an ISO-8601 date-time with zone; a party that is no CBS or AGB code (`api.bad_request`). A hub id without a moment (`api.moment_required`)',
            ),
            401: unauthorized,
            403: operatorToken,
            405: methodNotAllowed,
            413: error,
            415: problem(
              'A compressed body: a `Content-Encoding` other than `identity` (`api.unsupported_encoding`); nothing recorded',
            ),
            503: storeBusy,
          },
        },
      },
      '/quarantine': {
        get: {
          summary: 'Operator: list quarantined exchanges',
          operationId: 'listQuarantine',
          responses: {
            200: {
              description: 'Quarantine',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      quarantine: { type: 'array', items: { $ref: '#/components/schemas/Quarantine' } },
                    },
                  },
                },
              },
            },
            401: unauthorized,
            403: operatorToken,
            405: methodNotAllowed,
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API token (kd_…)' } },
      parameters: { Id: { name: 'id', in: 'path', required: true, schema: { type: 'integer' } } },
      responses: {
        Error: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        Unauthorized: {
          description:
            'No valid token: missing, unknown or revoked (`api.unauthorized`); API tokens do not expire',
          headers: { 'WWW-Authenticate': { description: '`Bearer`', schema: { type: 'string' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        OrganisationTokenRequired: {
          description:
            'An operator token: this endpoint needs an organisation token (`api.organisation_token_required`)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        OperatorTokenRequired: {
          description:
            "An organisation's token: this endpoint needs an operator token (`api.operator_token_required`)",
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        MethodNotAllowed: {
          description:
            'A method this path does not have (`api.method_not_allowed`); `Allow` lists those it has',
          headers: { Allow: { description: 'e.g. `GET, HEAD, DELETE`', schema: { type: 'string' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        RateLimited: {
          description:
            'More than 120 requests in a minute with this organisation token (`api.rate_limited`): send it again after `Retry-After` seconds',
          headers: {
            'Retry-After': {
              description: 'seconds until the oldest request of the window leaves it',
              schema: { type: 'integer' },
            },
          },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        DownloadLimited: {
          description:
            'More than 120 requests in a minute with this token (`api.rate_limited`), or 4 downloads with it running already (`api.too_many_downloads`, `Retry-After: 5`): start it again after `Retry-After` seconds',
          headers: {
            'Retry-After': {
              description: 'seconds to wait before asking again',
              schema: { type: 'integer' },
            },
          },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        FileMissing: {
          description:
            "The delivery's file is missing on the server (`delivery.file_missing`): not the client's fault; the operator is told in the server log",
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      schemas: {
        ExchangeOutcome: {
          type: 'object',
          required: ['outcome'],
          properties: {
            outcome: {
              type: 'string',
              enum: ['stored', 'conflict', 'duplicate', 'skipped', 'quarantined'],
              description: 'as `ketendata ingest` counts it',
            },
            seq: { type: 'integer', description: 'the message it is (stored, conflict, duplicate)' },
            quarantineId: { type: 'integer', description: 'quarantined: the item that keeps it' },
            quarantineStatus: {
              type: 'string',
              enum: ['open', 'dismissed'],
              description:
                'quarantined: whether the item is still open (listed by GET /quarantine) or was dismissed by the operator; a repeat of a dismissed exchange is not stored either',
            },
            reasonCode: { type: 'string', description: 'quarantined: why, as a code' },
            reason: { type: 'string', description: 'quarantined: why' },
            warningCode: {
              type: 'string',
              enum: ['ingest.future_moment'],
              description:
                'kept as given, but worth a look: the hub moment is more than an hour after the exchange was received',
            },
            warning: { type: 'string', description: 'the warning, in words' },
          },
        },
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: { code: { type: 'string' }, message: { type: 'string' } },
              required: ['code', 'message'],
            },
          },
        },
        Delivery: {
          type: 'object',
          required: [
            'id',
            'kind',
            'periodFrom',
            'periodTo',
            'firstWeekly',
            'catchUp',
            'madeAt',
            'availableAt',
            'sizeBytes',
            'messageCount',
            'personalDataLeftOut',
            'fileName',
            'sha256',
            'firstDownloadedAt',
            'firstDownloadedBy',
            'firstDownloadedByName',
            'deletedAt',
            'expiresAt',
          ],
          properties: {
            id: { type: 'integer', description: 'its id, for `/deliveries/{id}` and its file' },
            kind: {
              type: 'string',
              enum: ['weekly', 'history'],
              description:
                '`weekly`: what came in since the previous weekly; `history`: everything since 1-1-2021, made once on request (`/history-request`)',
            },
            periodFrom: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description:
                "start of what it holds: the previous weekly's slot; for a history or a first weekly 1-1-2021 00:00 Amsterdam (earlier when a first weekly holds older exchanges)",
            },
            periodTo: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description: 'end of what it holds: the slot it was made for (Sunday 06:00 Amsterdam)',
            },
            firstWeekly: {
              type: 'boolean',
              description:
                "the organisation's first weekly: all its data so far, not the data of one week (its `periodFrom` is 1-1-2021 or earlier); false for a history",
            },
            catchUp: {
              type: 'array',
              items: { type: 'string' },
              description:
                "municipalities (CBS codes) whose data so far this weekly holds besides the period's, from the start: members added since the previous weekly (as the manifest's `catchUp`); mostly empty, always for a history and a first weekly, and for a weekly made before this was recorded (migration 0025)",
            },
            madeAt: { type: 'string', format: 'date-time', description: 'when the weekly run made it' },
            availableAt: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description:
                'from when it is listed and can be fetched: Monday 06:00 Amsterdam for one made on Sunday, at once for a catch-up made later',
            },
            sizeBytes: {
              type: 'integer',
              description:
                'bytes of its ZIP, the `Content-Length` of its file: check what arrived against it before taking it as stored',
            },
            messageCount: {
              type: 'integer',
              description:
                'messages in the delivery; 0 for a week without traffic (its files hold headers only)',
            },
            personalDataLeftOut: {
              type: 'boolean',
              description:
                'made with the columns of personal data in clear left empty (a birth date: its year; a postcode: its 4 digits), as the organisation chose then',
            },
            fileName: { type: 'string', description: 'as in Content-Disposition of its file' },
            sha256: {
              type: 'string',
              pattern: '^[0-9a-f]{64}$',
              description:
                "SHA-256 of its whole ZIP as stored and served by `GET /deliveries/{id}/file`, lowercase hex (the file's `Repr-Digest` header holds the same digest in base64): check that what arrived is whole with `sha256sum <file>.zip` and compare the first column with this value.",
            },
            firstDownloadedAt: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description: `when the earliest recorded download of it began (portal, API or command line; of two at once the one begun first); null while none was. ${recorded}`,
            },
            firstDownloadedBy: {
              type: 'string',
              nullable: true,
              description:
                'who first downloaded it, as recorded: a login e-mail, `token:<id>` or `cli:<user>`',
            },
            firstDownloadedByName: {
              type: 'string',
              nullable: true,
              description: 'the same as the portal shows it, e.g. `API-token ‘BI-omgeving’`',
            },
            deletedAt: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description:
                'when a user of the organisation deleted its file (then its file answers 410); it stays listed until `expiresAt`',
            },
            expiresAt: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description:
                'when it is removed, file and listing, 60 days after it was made; after that its id answers 404',
            },
          },
        },
        HistoryStatus: {
          type: 'object',
          properties: {
            requestedAt: { type: 'string', format: 'date-time', nullable: true },
            readyOn: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description:
                'When the history delivery will be listed (Monday 06:00 Amsterdam): while a request is open, and also after the Sunday run made it (`requestedAt` is then null) until it is listed. Null when none is on its way, and null for an open request that is `late`: never a Monday already gone.',
            },
            lastMadeAt: { type: 'string', format: 'date-time', nullable: true },
            late: {
              type: 'boolean',
              description:
                'The request is open but the Monday it was due has passed: the Sunday run that should have made it was missed, or failed and waits for a retry. The next delivery run (hourly) makes it, listed at once. `readyOn` is then null.',
            },
            retryAfter: {
              type: 'string',
              format: 'date-time',
              nullable: true,
              description:
                'When `late` because that run failed: from when it is tried again. Null when not late, when the run was missed, or when the retry is already due.',
            },
          },
        },
        IndicatorSnapshot: {
          type: 'object',
          properties: {
            version: {
              type: 'integer',
              description:
                'the version of the definitions the figures were counted with; it goes up when a definition changes (docs/indicatoren.md)',
            },
            organisation: { type: 'string' },
            members: { type: 'array', items: { type: 'string' } },
            computedAt: { type: 'string', format: 'date-time' },
            messageSeq: { type: 'integer', description: 'highest message seq included' },
            linkSeq: { type: 'integer', description: 'highest link seq included' },
            latestDagtekening: { type: 'string', format: 'date', nullable: true },
            scopes: {
              type: 'object',
              description: '`alle` and, for a head organisation, each member CBS code',
              additionalProperties: { $ref: '#/components/schemas/Indicators' },
            },
          },
        },
        Bucket: {
          type: 'object',
          properties: { label: { type: 'string' }, count: { type: 'integer' } },
        },
        Period: {
          type: 'object',
          nullable: true,
          description:
            'the first and the last day (YYYY-MM-DD) of what a figure counted; null when it counted nothing',
          properties: { from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' } },
        },
        Indicators: {
          type: 'object',
          properties: {
            leadTime: {
              type: 'object',
              description: '315 Dagtekening → first 301 Toewijzingsdatum, in working days',
              properties: {
                count: { type: 'integer' },
                median: { type: 'number', nullable: true },
                withinNorm: { type: 'integer', description: 'at most 5 working days' },
                buckets: { type: 'array', items: { $ref: '#/components/schemas/Bucket' } },
                period: {
                  allOf: [{ $ref: '#/components/schemas/Period' }],
                  description: 'Dagtekening of the earliest and the latest request counted',
                },
              },
            },
            requestOutcome: {
              type: 'object',
              description: 'per requested product (315)',
              properties: {
                requests: { type: 'integer' },
                honoured: { type: 'integer' },
                rejected: { type: 'integer' },
                underInvestigation: { type: 'integer' },
                unanswered: { type: 'integer' },
                rejectionReasons: { type: 'array', items: { $ref: '#/components/schemas/Bucket' } },
              },
            },
            changeRequests: {
              type: 'object',
              description:
                'the same two per request for a change (317); absent from a snapshot made before it existed',
              properties: {
                leadTime: { type: 'object', description: '317 Dagtekening → first 301 Toewijzingsdatum' },
                requestOutcome: { type: 'object', description: 'per request for a change (317)' },
              },
            },
            startDelay: {
              type: 'object',
              description: '301 Ingangsdatum → first 305 Begindatum per toewijzing, in days',
              properties: {
                count: { type: 'integer' },
                median: { type: 'number', nullable: true },
                buckets: { type: 'array', items: { $ref: '#/components/schemas/Bucket' } },
                period: {
                  allOf: [{ $ref: '#/components/schemas/Period' }],
                  description: 'Begindatum of the earliest and the latest start counted',
                },
              },
            },
            clientsInCare: {
              type: 'object',
              properties: {
                months: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      month: { type: 'string', example: '2024-03' },
                      ijw: { type: 'integer' },
                      iwmo: { type: 'integer' },
                      total: { type: 'integer' },
                    },
                  },
                },
              },
            },
            declarations: {
              type: 'object',
              properties: {
                months: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      month: { type: 'string' },
                      submittedCents: { type: 'integer', description: 'Σ IngediendBedrag, debet − credit' },
                      approvedCents: {
                        type: 'integer',
                        description:
                          'submittedCents minus what 325s rejected (their prestaties, or the whole 323)',
                      },
                      prestaties: {
                        type: 'integer',
                        description: 'debet prestaties minus credit prestaties',
                      },
                      rejected: {
                        type: 'integer',
                        description: 'prestaties rejected in a 325, debet − credit',
                      },
                    },
                  },
                },
              },
            },
            retourErrors: {
              type: 'object',
              properties: {
                types: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      code: { type: 'string', example: 'JW301' },
                      heen: { type: 'integer' },
                      rejected: { type: 'integer', description: 'with a retour code other than 0200/0233' },
                    },
                  },
                },
              },
            },
          },
        },
        Quarantine: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            source: { type: 'string', description: 'The file, as its folder, manifest or ZIP names it' },
            ingestSource: {
              type: 'string',
              nullable: true,
              description:
                'What the file was read from: the folder, manifest or ZIP given to ingest, or http:…',
            },
            moment: { type: 'string', nullable: true },
            code: { type: 'string' },
            reason: { type: 'string' },
            receivedAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  } as const;
}
