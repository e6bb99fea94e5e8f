/** The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json. */
export function openApiDocument() {
  const error = { $ref: '#/components/responses/Error' };
  const unauthorized = { $ref: '#/components/responses/Unauthorized' };
  const orgToken = { $ref: '#/components/responses/OrganisationTokenRequired' };
  const operatorToken = { $ref: '#/components/responses/OperatorTokenRequired' };
  const fileMissing = { $ref: '#/components/responses/FileMissing' };
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
  const zip = {
    description: 'ZIP file',
    headers: fileHeaders,
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
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
        'Deliveries for the BI pipeline of a municipality or head organisation (organisation token) and exchange intake for the operator (operator token). Tokens are made in the portal under Instellingen. A method a path does not have answers 405 `api.method_not_allowed` with an `Allow` header (after the token check).',
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
            404: notFound,
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
            404: problem('Not found or expired (`api.not_found`)'),
            409: problem('Not downloaded yet: a file nobody fetched stays (`delivery.not_downloaded`)'),
          },
        },
      },
      '/deliveries/{id}/file': {
        parameters: [{ $ref: '#/components/parameters/Id' }],
        get: {
          summary: 'Download one delivery (recorded as a download)',
          operationId: 'downloadDelivery',
          description:
            'Resumable: a `Range` of one span of bytes (`bytes=first-`, `bytes=first-last`, `bytes=-n`) gives 206 with those bytes, or 416 when none of them exist. With an `If-Range` other than the ETag the whole file is sent (200). Recorded as a download once the server has handed the last byte of the whole file (200, or a range `bytes=0-<last byte>`) or of an open range `bytes=first-` (206, a resumed download) to the network; a suffix `bytes=-n` range, or a closed `bytes=first-last` one that starts after the first byte, never is, even when it ends at the last byte. Another unit, several ranges or a malformed `Range` are ignored.',
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
                'The bytes asked for; recorded as a download only for an open range (`bytes=first-`)',
              headers: {
                ...fileHeaders,
                'Content-Range': header('`bytes first-last/size`'),
              },
              content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
            },
            401: unauthorized,
            403: orgToken,
            404: notFound,
            410: deleted,
            416: {
              description: 'The range lies outside the file (`delivery.range_not_satisfiable`)',
              headers: { 'Content-Range': header('`bytes */size`') },
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
              headers: fileHeaders,
            },
            401: {
              description: 'No valid token',
              headers: { 'WWW-Authenticate': header('`Bearer`') },
            },
            403: { description: 'An operator token: this endpoint needs an organisation token' },
            404: {
              description: 'Not found, expired or not ready yet (also for ids of another organisation)',
            },
            410: { description: 'Deleted by a user of the organisation: its file is gone for good' },
            500: { description: 'The file is missing on the server' },
          },
        },
      },
      '/deliveries/download-new': {
        post: {
          summary: 'Download all deliveries not downloaded before, as one ZIP',
          operationId: 'downloadNew',
          description:
            'The ZIP holds each delivery ZIP as an entry, uncompressed, and is streamed without `Content-Length`. Each delivery in it is recorded as downloaded once the server has handed the last byte to the network, which for a few MB is at once, whether or not the client got it all: to make sure, check the ZIP opens, or list `/deliveries` and fetch each by id. A delivery whose file is missing on the server is left out (and logged); 500 `delivery.file_missing` when that leaves nothing to send.',
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
            409: problem(
              'The organisation is not activated yet (`organisation.inactive`): the operator activates it',
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
            404: error,
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
          },
        },
      },
      '/exchanges': {
        post: {
          summary: 'Operator: post one exchange (message plus hub metadata)',
          operationId: 'postExchange',
          parameters: [
            {
              name: 'moment',
              in: 'query',
              schema: { type: 'string', format: 'date-time' },
              description: 'when it passed the hub (default: receipt)',
            },
            { name: 'verzender', in: 'query', schema: { type: 'string' } },
            { name: 'ontvanger', in: 'query', schema: { type: 'string' } },
            { name: 'hubId', in: 'query', schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: {
              'application/xml': { schema: { type: 'string', description: 'the iJw/iWmo 3.2 message' } },
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['xml'],
                  properties: {
                    xml: { type: 'string' },
                    moment: { type: 'string' },
                    verzender: { type: 'string' },
                    ontvanger: { type: 'string' },
                    hubId: { type: 'string' },
                  },
                },
              },
            },
          },
          responses: {
            201: { description: 'Stored (a new message)' },
            200: { description: 'Duplicate, or this exchange was received before' },
            202: { description: 'Kept in quarantine, with its reason' },
            400: problem(
              'A JSON body that is not valid JSON, not an object or without `xml`; a field that is not text; a moment that is not an ISO-8601 date-time with zone; a party that is no CBS or AGB code (`api.bad_request`)',
            ),
            401: unauthorized,
            403: operatorToken,
            413: error,
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
        FileMissing: {
          description:
            "The delivery's file is missing on the server (`delivery.file_missing`): not the client's fault; the operator is told in the server log",
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      schemas: {
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
            'madeAt',
            'availableAt',
            'sizeBytes',
            'messageCount',
            'personalDataLeftOut',
            'fileName',
            'firstDownloadedAt',
            'firstDownloadedBy',
            'firstDownloadedByName',
            'deletedAt',
            'expiresAt',
          ],
          properties: {
            id: { type: 'integer' },
            kind: { type: 'string', enum: ['weekly', 'history'] },
            periodFrom: { type: 'string', format: 'date-time', nullable: true },
            periodTo: { type: 'string', format: 'date-time', nullable: true },
            madeAt: { type: 'string', format: 'date-time' },
            availableAt: { type: 'string', format: 'date-time', nullable: true },
            sizeBytes: { type: 'integer' },
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
            firstDownloadedAt: { type: 'string', format: 'date-time', nullable: true },
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
            deletedAt: { type: 'string', format: 'date-time', nullable: true },
            expiresAt: { type: 'string', format: 'date-time', nullable: true },
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
                'When the history delivery will be listed (Monday 06:00 Amsterdam): while a request is open, and also after the Sunday run made it (`requestedAt` is then null) until it is listed. Null when none is on its way.',
            },
            lastMadeAt: { type: 'string', format: 'date-time', nullable: true },
          },
        },
        IndicatorSnapshot: {
          type: 'object',
          properties: {
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
