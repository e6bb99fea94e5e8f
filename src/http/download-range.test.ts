import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { getDelivery } from '../store/deliveries.js';
import { parseRange, resolveRange } from './range.js';

// Sunday 1 March 2026 07:00 Amsterdam: the weekly slot of that morning has passed.
const AFTER_FIRST_RUN = new Date('2026-03-01T06:30:00Z');
const MONDAY = new Date('2026-03-02T08:00:00Z');

describe('parseRange and resolveRange', () => {
  it('reads one span of bytes and ignores what it does not serve', () => {
    expect(parseRange('bytes=0-99')).toEqual({ kind: 'from', first: 0, last: 99 });
    expect(parseRange('bytes=100-')).toEqual({ kind: 'from', first: 100, last: null });
    expect(parseRange('Bytes= 5 - 7')).toEqual({ kind: 'from', first: 5, last: 7 });
    expect(parseRange('bytes=-10')).toEqual({ kind: 'suffix', length: 10 });
    for (const ignored of [
      undefined,
      '',
      'bytes=',
      'bytes=-',
      'bytes=5-2',
      'items=0-1',
      'bytes=0-1,5-6',
      'bytes=a-',
    ]) {
      expect(parseRange(ignored), String(ignored)).toBeUndefined();
    }
    // Past any safe integer: past the end of any file, not a malformed header.
    expect(parseRange('bytes=99999999999999999999-')).toEqual({ kind: 'from', first: Infinity, last: null });
    expect(resolveRange(parseRange('bytes=99999999999999999999-')!, 100)).toBe('unsatisfiable');
    expect(resolveRange(parseRange('bytes=5-99999999999999999999')!, 100)).toEqual({ start: 5, end: 99 });
    expect(resolveRange(parseRange('bytes=-99999999999999999999')!, 100)).toEqual({ start: 0, end: 99 });
    expect(resolveRange({ kind: 'from', first: 10, last: null }, 100)).toEqual({ start: 10, end: 99 });
    expect(resolveRange({ kind: 'from', first: 10, last: 500 }, 100)).toEqual({ start: 10, end: 99 });
    expect(resolveRange({ kind: 'suffix', length: 500 }, 100)).toEqual({ start: 0, end: 99 });
    expect(resolveRange({ kind: 'suffix', length: 0 }, 100)).toBe('unsatisfiable');
    expect(resolveRange({ kind: 'from', first: 100, last: null }, 100)).toBe('unsatisfiable');
    expect(resolveRange({ kind: 'from', first: 0, last: null }, 0)).toBe('unsatisfiable');
  });
});

for (const dialect of DIALECTS) {
  describe(`resuming a delivery download on ${dialect}`, () => {
    let h: Awaited<ReturnType<typeof portalHarness>>;
    let id: number;
    let bytes: Buffer;
    let token: string;
    beforeAll(async () => {
      h = await portalHarness(dialect);
      await h.seed();
      const report = await h.deliver(AFTER_FIRST_RUN);
      h.clock.now = MONDAY;
      id = report.made.find((d) => d.organisation === '0363')!.id;
      bytes = readFileSync(join(h.dataDir, (await getDelivery(h.store.db, id))!.file));
      token = await h.apiToken('0363');
    });
    afterAll(async () => h.drop());

    const get = (headers: Record<string, string> = {}, method = 'GET') =>
      h.app.request(`/api/v1/deliveries/${id}/file`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...headers },
      });
    const downloaded = async () => (await getDelivery(h.store.db, id))!.firstDownloadedAt;

    it('counts neither a suffix range nor a closed one that reads only the end (an open one does: below)', async () => {
      const last = bytes.length - 1;
      // What a ZIP tool reads first: the directory at the end.
      const tail = await get({ Range: 'bytes=-22' });
      expect(tail.status).toBe(206);
      expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-22))).toBe(true);
      const closed = await get({ Range: `bytes=${last - 9}-${last}` });
      expect(closed.status).toBe(206);
      expect(Buffer.from(await closed.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);
      expect(await downloaded()).toBeNull();
    });

    it('counts a closed range that holds the whole file, as some download managers ask for it', async () => {
      const whole = await get({ Range: `bytes=0-${bytes.length - 1}` });
      expect(whole.status).toBe(206);
      expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
      expect(await downloaded()).not.toBeNull();
      // New again for the tests below.
      await h.store.db
        .updateTable('delivery')
        .set({ first_downloaded_at: null, first_downloaded_by: null, download_count: 0 })
        .where('id', '=', id)
        .execute();
    });

    it('sends the bytes asked for, counts the download only when they reach the end, and says so in HEAD', async () => {
      const head = await get({}, 'HEAD');
      expect(head.headers.get('Accept-Ranges')).toBe('bytes');
      const etag = head.headers.get('ETag');
      expect(etag).toMatch(/^"d\d+-\d+"$/);
      expect(bytes.length).toBeGreaterThan(200);

      const first = await get({ Range: 'bytes=0-99' });
      expect(first.status).toBe(206);
      expect(first.headers.get('Content-Range')).toBe(`bytes 0-99/${bytes.length}`);
      expect(first.headers.get('Content-Length')).toBe('100');
      const part1 = Buffer.from(await first.arrayBuffer());
      expect(part1.equals(bytes.subarray(0, 100))).toBe(true);
      expect(await downloaded()).toBeNull();

      // The rest, up to the last byte, completes the download: now it counts.
      const rest = await get({ Range: 'bytes=100-', 'If-Range': etag! });
      expect(rest.status).toBe(206);
      expect(rest.headers.get('Content-Range')).toBe(`bytes 100-${bytes.length - 1}/${bytes.length}`);
      const part2 = Buffer.from(await rest.arrayBuffer());
      expect(Buffer.concat([part1, part2]).equals(bytes)).toBe(true);
      expect(await downloaded()).not.toBeNull();
    });

    it('answers a range outside the file with 416, and sends the whole file for an If-Range of something else or a range it does not serve', async () => {
      const outside = await get({ Range: `bytes=${bytes.length}-` });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('Content-Range')).toBe(`bytes */${bytes.length}`);
      expect(outside.headers.get('Content-Type')).toMatch(/^application\/json/);
      expect(outside.headers.get('Content-Disposition')).toBeNull();
      expect(((await outside.json()) as { error: { code: string } }).error.code).toBe(
        'delivery.range_not_satisfiable',
      );
      // A first byte past any safe integer is past the end too, not a header to ignore.
      const huge = await get({ Range: 'bytes=99999999999999999999-' });
      expect(huge.status).toBe(416);
      expect(huge.headers.get('Content-Range')).toBe(`bytes */${bytes.length}`);
      await huge.arrayBuffer();

      const tail = await get({ Range: 'bytes=-10' });
      expect(tail.status).toBe(206);
      expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);

      const ignored: Record<string, string>[] = [
        { Range: 'bytes=0-9', 'If-Range': '"d0-1"' },
        { Range: 'bytes=0-9', 'If-Range': 'Mon, 02 Mar 2026 08:00:00 GMT' },
        { Range: 'bytes=0-1,5-6' },
        { Range: 'items=0-9' },
      ];
      for (const headers of ignored) {
        const res = await get(headers);
        expect(res.status, JSON.stringify(headers)).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(bytes), JSON.stringify(headers)).toBe(true);
      }
    });

    it('resumes in the portal the same way', async () => {
      const b = new Browser(h.app);
      await b.login('ana@0363.example');
      const res = await b.fetch(`/ophalen/${id}/bestand`, { headers: { Range: 'bytes=10-19' } });
      expect(res.status).toBe(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
      // Another organisation's file stays out of reach, range or not.
      const other = new Browser(h.app);
      await other.login('bas@0599.example');
      expect((await other.fetch(`/ophalen/${id}/bestand`, { headers: { Range: 'bytes=0-9' } })).status).toBe(
        404,
      );
    });
  });
}
