import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import type { FileStream } from './deps.js';
import type { AppEnv } from './env.js';
import { downloadBody } from './transfer.js';

describe('the body of a download', () => {
  it('lets go of the file when the client hung up before the body was made (its close came already)', () => {
    // The Node response of a connection the client closed while the handler looked the delivery up.
    const outgoing = Object.assign(new EventEmitter(), { destroyed: true, destroy() {} });
    const c = {
      env: { outgoing },
      req: { method: 'GET', path: '/ophalen/1/bestand' },
    } as unknown as Context<AppEnv>;
    const stream = new Readable({ read() {} });
    const file = { stream, size: 10, recordDownloaded: async () => {} } as unknown as FileStream;
    downloadBody(c, file);
    expect(stream.destroyed).toBe(true);
  });
});
