import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { AppEnv } from '../env.js';

/** Sends a page with its doctype. */
export async function page(
  c: Context<AppEnv>,
  node: JSX.Element,
  status: 200 | 400 | 403 | 404 | 413 | 429 | 500 = 200,
) {
  return c.html(`<!doctype html>${String(await node)}`, status);
}
