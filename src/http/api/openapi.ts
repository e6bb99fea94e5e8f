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
  const notFound = problem('Not found (also for ids of another organisation)');
  const zip = {
    description: 'ZIP file',
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  };
  return {
    openapi: '3.0.3',
    info: {
      title: 'Ketendata iWmo en iJw API',
      version: '1',
      description:
        'Deliveries for the BI pipeline of a municipality or head organisation (organisation token) and exchange intake for the operator (operator token). Tokens are made in the portal under Instellingen.',
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
            204: { description: 'Deleted' },
            401: unauthorized,
            403: orgToken,
            404: problem('Not found, or not downloaded yet (a file nobody fetched stays)'),
          },
        },
      },
      '/deliveries/{id}/file': {
        parameters: [{ $ref: '#/components/parameters/Id' }],
        get: {
          summary: 'Download one delivery (recorded as a download)',
          operationId: 'downloadDelivery',
          description:
            'Resumable: a `Range` of one span of bytes (`bytes=first-`, `bytes=first-last`, `bytes=-n`) gives 206 with those bytes, or 416 when none of them exist. With an `If-Range` other than the ETag the whole file is sent (200). Only a response that ends at the last byte records the download; another unit, several ranges or a malformed `Range` are ignored.',
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
                'The bytes asked for (Content-Range: bytes first-last/size); recorded as a download when they end at the last byte',
              content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
            },
            401: unauthorized,
            403: orgToken,
            404: notFound,
            416: { description: 'The range lies outside the file (Content-Range: bytes */size)' },
            500: fileMissing,
          },
        },
        head: {
          summary: 'Size, type and file name of one delivery without its body (not recorded as a download)',
          operationId: 'describeDeliveryFile',
          responses: {
            200: {
              description:
                'Headers only: Content-Length, Content-Type, Content-Disposition, Accept-Ranges, ETag',
            },
            401: { description: 'No valid token' },
            403: { description: 'An operator token: this endpoint needs an organisation token' },
            404: { description: 'Not found (also for ids of another organisation)' },
            500: { description: 'The file is missing on the server' },
          },
        },
      },
      '/deliveries/download-new': {
        post: {
          summary: 'Download all deliveries not downloaded before, as one ZIP',
          operationId: 'downloadNew',
          description:
            'A delivery whose file is missing on the server is left out (and logged); 500 `delivery.file_missing` when that leaves nothing to send.',
          responses: {
            200: zip,
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
            'No valid token: missing, unknown, revoked or expired (`api.unauthorized`, with `WWW-Authenticate: Bearer`)',
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
          properties: {
            id: { type: 'integer' },
            kind: { type: 'string', enum: ['weekly', 'history'] },
            periodFrom: { type: 'string', nullable: true },
            periodTo: { type: 'string', nullable: true },
            madeAt: { type: 'string', format: 'date-time' },
            availableAt: { type: 'string', format: 'date-time', nullable: true },
            sizeBytes: { type: 'integer' },
            fileName: { type: 'string' },
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
            readyOn: { type: 'string', format: 'date-time', nullable: true },
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
                  $ref: '#/components/schemas/Period',
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
                  $ref: '#/components/schemas/Period',
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
