import { Agent, request } from 'node:http';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from './env.js';
import { listen } from './server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server whose one route reads the whole body before it answers, so a slow body keeps a request under way. */
async function slowBodyServer() {
  const app = new Hono<AppEnv>();
  app.post('/slow', async (c) => c.text(`got ${(await c.req.text()).length}`));
  return listen(app, '127.0.0.1', 0);
}

/** Starts a POST to /slow with the first byte of its body; `finish` sends the rest. A fresh connection unless `agent`. */
function slowPost(url: string, agent: Agent | false = false) {
  const req = request(`${url}/slow`, {
    method: 'POST',
    agent,
    headers: { 'Transfer-Encoding': 'chunked' },
  });
  const answer = new Promise<{ status?: number; body: string } | { error: string }>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => {
        body += String(d);
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
  req.write('a');
  return { answer, finish: () => req.end('b') };
}

describe('stopping the server', () => {
  // `serve` on SIGTERM: a hub's POST under way got ECONNRESET, so it could not tell whether it was stored.
  it('lets a request under way finish within the grace period, then resolves without waiting it out', async () => {
    const server = await slowBodyServer();
    // A client that keeps its connection open after the answer, as browsers and API clients do.
    const post = slowPost(server.url, new Agent({ keepAlive: true }));
    await sleep(100);
    const t0 = Date.now();
    const closed = server.close(5_000);
    await sleep(200);
    post.finish();
    expect(await post.answer).toEqual({ status: 200, body: 'got 2' });
    await closed;
    expect(Date.now() - t0).toBeLessThan(3_000);
    // No new connection once it stops.
    const late = slowPost(server.url);
    late.finish();
    expect(await late.answer).toEqual({ error: 'ECONNREFUSED' });
  });

  it('cuts a request that is still under way when the grace period ends', async () => {
    const server = await slowBodyServer();
    const post = slowPost(server.url);
    await sleep(100);
    const t0 = Date.now();
    await server.close(300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await post.answer).toEqual({ error: 'ECONNRESET' });
  });

  it('without a grace period cuts at once, as the tests close it', async () => {
    const server = await slowBodyServer();
    const post = slowPost(server.url);
    await sleep(100);
    await server.close();
    expect(await post.answer).toEqual({ error: 'ECONNRESET' });
  });
});
