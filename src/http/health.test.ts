import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';

for (const dialect of DIALECTS) {
  describe(`/healthz and /readyz on ${dialect}`, () => {
    let h: Awaited<ReturnType<typeof portalHarness>>;
    let closed = false;
    beforeEach(async () => {
      h = await portalHarness(dialect);
      closed = false;
    });
    afterEach(async () => {
      vi.restoreAllMocks();
      if (closed) h.store.close = async () => undefined;
      await h.drop();
    });

    it('answer 200 ok without a session or CSRF token, to GET and HEAD, and log nothing', async () => {
      const errors = vi.spyOn(console, 'error');
      for (const path of ['/healthz', '/readyz']) {
        const get = await h.app.request(path);
        expect([path, get.status, await get.text()]).toEqual([path, 200, 'ok']);
        expect(get.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(get.headers.get('cache-control')).toBe('no-store');
        expect(get.headers.get('set-cookie')).toBeNull();
        const head = await h.app.request(path, { method: 'HEAD' });
        expect([path, head.status, await head.text()]).toEqual([path, 200, '']);
      }
      expect(errors).not.toHaveBeenCalled();
    });

    it('/readyz answers 503 with one line when the store does not answer; /healthz still 200', async () => {
      const errors = vi.spyOn(console, 'error');
      await h.store.close();
      closed = true;
      const ready = await h.app.request('/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe('not ready: the database cannot be reached');
      expect((await h.app.request('/readyz', { method: 'HEAD' })).status).toBe(503);
      expect((await h.app.request('/healthz')).status).toBe(200);
      expect(errors).not.toHaveBeenCalled();
    });
  });
}

describe('/readyz on PostgreSQL with every connection taken', () => {
  it('answers 503 after 2 seconds instead of waiting on', async () => {
    const h = await portalHarness('postgres');
    const held = await Promise.all(Array.from({ length: 10 }, () => h.store.pool!.connect()));
    try {
      const started = Date.now();
      const ready = await h.app.request('/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe('not ready: the database did not answer within 2 s');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const c of held) c.release();
      await h.drop();
    }
  });
});
