import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { getDelivery } from '../store/deliveries.js';
import { readZipBuffer } from '../usecases/deliveries.fixtures.js';
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

    it('gives the SHA-256 of the whole file: `sha256` in the listing, `Repr-Digest` on 200 and HEAD, none on 206', async () => {
      const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const auth = { Authorization: `Bearer ${token}` };
      const listing = (await (await h.app.request('/api/v1/deliveries', { headers: auth })).json()) as {
        deliveries: { id: number; sha256: string }[];
      };
      const { sha256 } = listing.deliveries.find((d) => d.id === id)!;
      const one = (await (await h.app.request(`/api/v1/deliveries/${id}`, { headers: auth })).json()) as {
        sha256: string;
      };
      expect(one.sha256).toBe(sha256);
      expect(sha256).toBe(hex(bytes));
      const digest = `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`;

      const whole = await get();
      expect(whole.status).toBe(200);
      const received = Buffer.from(await whole.arrayBuffer());
      expect(hex(received)).toBe(sha256);
      expect(whole.headers.get('Repr-Digest')).toBe(digest);
      expect((await get({}, 'HEAD')).headers.get('Repr-Digest')).toBe(digest);
      // A Range not honoured (If-Range of another file) sends the whole file: with its digest.
      const notHonoured = await get({ Range: 'bytes=0-9', 'If-Range': '"d0-1"' });
      expect(notHonoured.status).toBe(200);
      expect(notHonoured.headers.get('Repr-Digest')).toBe(digest);
      await notHonoured.arrayBuffer();

      // Part of the file: its digest would not be the body's, so none (also for a range holding it all).
      for (const range of ['bytes=0-99', 'bytes=100-', 'bytes=-22', `bytes=0-${bytes.length - 1}`]) {
        const part = await get({ Range: range });
        expect(part.status, range).toBe(206);
        expect(part.headers.get('Repr-Digest'), range).toBeNull();
        await part.arrayBuffer();
      }
      const outside = await get({ Range: `bytes=${bytes.length}-` });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('Repr-Digest')).toBeNull();
      await outside.arrayBuffer();

      // The portal's download link sends the same file the same way.
      const b = new Browser(h.app);
      await b.login('ana@0363.example');
      const viaPortal = await b.fetch(`/ophalen/${id}/bestand`);
      expect(viaPortal.headers.get('Repr-Digest')).toBe(digest);
      expect(hex(Buffer.from(await viaPortal.arrayBuffer()))).toBe(sha256);

      // "All new", even of this one delivery alone, is a ZIP made as it is sent: no stored digest, no header.
      await h.store.db
        .updateTable('delivery')
        .set({ first_downloaded_at: null, first_downloaded_by: null, download_count: 0 })
        .where('organisation', '=', '0363')
        .execute();
      const bundle = await h.app.request('/api/v1/deliveries/download-new', {
        method: 'POST',
        headers: auth,
      });
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('Ketendata-Deliveries')).toBe(String(id));
      expect(bundle.headers.get('Repr-Digest')).toBeNull();
      // Its entry is the delivery's ZIP byte for byte (stored, not recompressed): checkable against `sha256`.
      const entries = await readZipBuffer(Buffer.from(await bundle.arrayBuffer()));
      expect([...entries.values()].map(hex)).toEqual([sha256]);
    });
  });
}
