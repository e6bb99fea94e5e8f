import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { DeliveryError } from '../usecases/deliveries-errors.js';
import type { FileInfo, FileStream } from './deps.js';
import type { AppEnv } from './env.js';

/** How a failure is logged: its dotted code and message (a use case's names the delivery id). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return `http.internal: ${String(err)}`;
  if (err instanceof DeliveryError) return err.message; // it starts with its code
  const code = (err as NodeJS.ErrnoException).code;
  return `${typeof code === 'string' ? code : 'http.internal'}: ${err.message}`;
}

/**
 * `Repr-Digest` (RFC 9530) of an answer that sends a stored delivery file whole (200, also to HEAD): the
 * SHA-256 of its bytes, so a client can check it arrived whole. None when the digest is not known (a bundle
 * made as it is sent); a 206 leaves it out, as its body is only part of the file.
 */
export function reprDigest(file: FileInfo): Record<string, string> {
  if (!file.sha256 || !/^[0-9a-f]{64}$/.test(file.sha256)) return {};
  return { 'Repr-Digest': `sha-256=:${Buffer.from(file.sha256, 'hex').toString('base64')}:` };
}

/**
 * The body of a file download, and when it counts as downloaded: as late as the server can know that the
 * client got it all. Served by @hono/node-server (`c.env.outgoing`, the Node response), that is the
 * response's 'finish' — its last byte handed to the operating system; a connection closed before that
 * ('close' without 'finish') records nothing. A client that got all of the Content-Length may hang up before
 * the file stream has found its end: the server then cancels the body and still ends the response, so
 * whether it was whole is the use case's to tell from the bytes taken (`recordDownloaded` refuses one short).
 * Without a Node response (`app.request` in tests) the end of the body waits for the record, so a client
 * that read it all sees it recorded.
 *
 * A file failing midway (deleted before a bundle reached it) is logged with its code and delivery id and
 * the response is destroyed — the client sees a broken transfer, never a short file that looks whole —
 * without taking the server down; nothing is recorded.
 */
export function downloadBody(c: Context<AppEnv>, file: FileStream): ReadableStream<Uint8Array> {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  const where = `${c.req.method} ${c.req.path}`;
  const { stream } = file;
  let settled = false;
  let cancelled = false;
  if (outgoing) {
    outgoing.once('finish', () => {
      file.recordDownloaded().catch((err: unknown) => {
        // The client hung up before it had all: a transfer broken off, as one without 'finish'.
        if (cancelled && err instanceof Error && err.message.startsWith('download.not_sent')) return;
        console.error(`http: ${where} was sent whole, but recording the download failed: ${describe(err)}`);
      });
    });
    // A connection gone before the body was taken (or a response dropped unread) must not hold the file;
    // one gone before we got here ('close' fired already, while the handler looked the delivery up) neither.
    if (outgoing.destroyed) stream.destroy();
    else
      outgoing.once('close', () => {
        if (!settled) stream.destroy();
      });
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      /** Ends the transfer unfinished: no 'finish', so nothing is recorded and the client sees it broken. */
      const breakOff = (err: Error) => {
        if (settled) return;
        settled = true;
        if (!outgoing) return controller.error(err);
        // Destroyed first, so that closing the body ends nothing: no 'finish', no record, no short file.
        outgoing.destroy();
        controller.close();
      };
      stream.on('data', (chunk: Buffer) => {
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) <= 0) stream.pause();
      });
      stream.once('end', () => {
        settled = true;
        if (outgoing) return controller.close();
        file.recordDownloaded().then(
          () => {
            // Unless the reader gave up meanwhile (a cancelled body cannot be closed).
            if (!cancelled) controller.close();
          },
          (err: unknown) => controller.error(err),
        );
      });
      stream.once('error', (err) => {
        if (!settled) console.error(`http: ${where} broken off: ${describe(err)}`);
        breakOff(err);
      });
      stream.once('close', () => {
        breakOff(new Error('download.stream_closed: the download stream closed before its end'));
      });
      stream.pause();
    },
    pull() {
      stream.resume();
    },
    cancel() {
      settled = true;
      cancelled = true;
      stream.destroy();
    },
  });
}
