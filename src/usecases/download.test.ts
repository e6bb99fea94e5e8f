import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { openZips } from '../../test/support/open-files.js';
import { listAudit } from '../store/audit.js';
import { getDelivery } from '../store/deliveries.js';
import type { Store } from '../store/open.js';
import { runDue } from './deliver.js';
import { ingestAt, readZipBuffer, testBsn, testKeys } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';
import { DeliveryError } from './deliveries-errors.js';
import { bundleNotDownloaded, deleteDeliveries, downloadToFolder, openDelivery } from './download.js';
import { activateOrganisation, addOrganisation } from './organisations.js';

const T0 = new Date('2024-01-03T10:00:00Z');
const MONDAY = new Date('2024-01-22T09:00:00Z'); // after three Sunday runs
const SUNDAY_RUN = new Date('2024-01-21T05:00:00Z');

async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DeliveryError) return err.code;
    throw err;
  }
  return 'no error';
}

for (const dialect of DIALECTS) {
  describe(`downloads and deletions on ${dialect}`, () => {
    let store: Store;
    let dataDir: string;
    let drop: () => Promise<void>;
    let ids: number[];

    beforeAll(async () => {
      ({ store, dataDir, drop } = await freshStore(dialect));
      for (const code of ['0363', '0384']) {
        await addOrganisation(store, { code, name: code, actor: 'test', now: T0 });
        await activateOrganisation(store, { code, actor: 'test', now: T0 });
      }
      await ingestAt(store, new Date('2024-01-04T10:00:00Z'), {
        kind: 'JW301',
        gemeente: '0363',
        bsn: testBsn(501),
      });
      await runDue({ store, dataDir, organisationKey: (c) => testKeys().organisation(c) }, SUNDAY_RUN);
      ids = (await listDeliveries(store, '0363', { now: MONDAY })).map((d) => d.id);
    });
    afterAll(async () => drop());

    it('records the first download of a file: when and by whom, plus an audit line for every download', async () => {
      const [newest, older] = ids as [number, number];
      const got = await openDelivery(
        { store, dataDir },
        { organisation: '0363', id: newest, actor: 'ana@0363.nl', now: MONDAY },
      );
      expect((await bytes(got.stream)).length).toBe(got.size);
      await got.recordDownloaded();
      const again = await openDelivery(
        { store, dataDir },
        {
          organisation: '0363',
          id: newest,
          actor: 'bob@0363.nl',
          now: new Date(MONDAY.getTime() + 60_000),
        },
      );
      await bytes(again.stream);
      await again.recordDownloaded();
      const d = (await listDeliveries(store, '0363', { now: MONDAY })).find((x) => x.id === newest)!;
      expect(d).toMatchObject({
        firstDownloadedBy: 'ana@0363.nl',
        firstDownloadedAt: MONDAY.toISOString(),
        downloadCount: 2,
      });
      const log = await listAudit(store.db, { organisation: '0363', actionPrefix: 'delivery.download' });
      expect(log.map((l) => l.actor)).toEqual(['bob@0363.nl', 'ana@0363.nl']);
      expect(
        (await listDeliveries(store, '0363', { now: MONDAY })).find((x) => x.id === older)!.downloaded,
      ).toBe(false);
    });

    it('keeps the earliest as the first download when one that began earlier ends later', async () => {
      const [newest] = ids as [number];
      const earlier = new Date(MONDAY.getTime() - 30_000);
      const slow = await openDelivery(
        { store, dataDir },
        { organisation: '0363', id: newest, actor: 'carl@0363.nl', now: earlier },
      );
      await bytes(slow.stream);
      await slow.recordDownloaded();
      const d = (await listDeliveries(store, '0363', { now: MONDAY })).find((x) => x.id === newest)!;
      expect(d).toMatchObject({
        firstDownloadedBy: 'carl@0363.nl',
        firstDownloadedAt: earlier.toISOString(),
        downloadCount: 3,
      });
    });

    it('records a download only when told it was delivered whole, and only once; reading records nothing', async () => {
      const [newest] = ids as [number];
      const count = async () => (await getDelivery(store.db, newest))!.downloadCount;
      const before = await count();
      const who = { organisation: '0363', id: newest, actor: 'cy@0363.nl', now: MONDAY };
      const got = await openDelivery({ store, dataDir }, who);
      await expect(got.recordDownloaded()).rejects.toThrow('download.not_sent'); // nothing read yet
      expect((await bytes(got.stream)).length).toBe(got.size);
      expect(await count()).toBe(before);
      await got.recordDownloaded();
      await got.recordDownloaded();
      expect(await count()).toBe(before + 1);

      const broken = await openDelivery({ store, dataDir }, who);
      await new Promise((resolve) => broken.stream.once('readable', resolve));
      broken.stream.destroy();
      await expect(broken.recordDownloaded()).rejects.toThrow('download.not_sent');
      expect(await count()).toBe(before + 1);
    });

    it('records a file whose reader took all its bytes and stopped before the stream told its end; not one short', async () => {
      const [newest] = ids as [number];
      const count = async () => (await getDelivery(store.db, newest))!.downloadCount;
      const before = await count();
      const who = { organisation: '0363', id: newest, actor: 'cy@0363.nl', now: MONDAY };
      // As the HTTP server does when the client hung up on getting the last byte of the Content-Length: the
      // body is cancelled before the file stream has read on to find its end.
      const whole = await openDelivery({ store, dataDir }, who);
      let taken = 0;
      whole.stream.on('data', (chunk: Buffer) => {
        taken += chunk.length;
        if (taken === whole.size) whole.stream.destroy();
      });
      await new Promise((resolve) => whole.stream.once('close', resolve));
      expect(whole.stream.readableEnded).toBe(false);
      await whole.recordDownloaded();
      expect(await count()).toBe(before + 1);

      // All but its last byte taken.
      const short = await openDelivery({ store, dataDir }, who);
      let left = short.size - 1;
      await new Promise<void>((resolve) => {
        short.stream.on('readable', () => {
          while (left > 0 && short.stream.readableLength > 0)
            left -= short.stream.read(Math.min(left, short.stream.readableLength)).length;
          if (left === 0) resolve();
        });
      });
      short.stream.destroy();
      await expect(short.recordDownloaded()).rejects.toThrow('download.not_sent');
      expect(await count()).toBe(before + 1);
    });

    it("refuses another organisation's delivery and one not ready yet", async () => {
      expect(
        await refusal(
          openDelivery({ store, dataDir }, { organisation: '0384', id: ids[0]!, actor: 'x', now: MONDAY }),
        ),
      ).toBe('delivery.forbidden');
      expect(
        await refusal(
          openDelivery(
            { store, dataDir },
            { organisation: '0363', id: ids[0]!, actor: 'x', now: new Date('2024-01-21T12:00:00Z') },
          ),
        ),
      ).toBe('delivery.not_ready');
    });

    it('closes the file of a transfer broken off or never read (a HEAD request leaves its body unread)', async () => {
      const notDownloaded = async () =>
        (await listDeliveries(store, '0363', { now: MONDAY })).filter((d) => !d.downloaded).map((d) => d.id);
      const before = await notDownloaded();
      const who = { organisation: '0363', actor: 'ana@0363.nl', now: MONDAY };
      // Opening and closing a file are asynchronous: wait for the count (a leaked file never closes).
      const settlesAt = (n: number) => vi.waitFor(() => expect(openZips(dataDir)).toBe(n), { timeout: 3000 });
      const opened = [];
      for (let i = 0; i < 5; i++)
        opened.push(await openDelivery({ store, dataDir }, { ...who, id: before[0]! }));
      await settlesAt(5);
      for (const o of opened) o.stream.destroy();
      await settlesAt(0);

      // Files large enough that a bundle begun but not read on holds one open (back-pressure).
      const files = (await listDeliveries(store, '0363', { now: MONDAY }))
        .filter((d) => before.includes(d.id))
        .map((d) => join(dataDir, d.file));
      for (const f of files) {
        renameSync(f, `${f}.away`);
        writeFileSync(f, Buffer.alloc(4 << 20));
      }
      try {
        const bundle = await bundleNotDownloaded({ store, dataDir }, who);
        await new Promise((resolve) => bundle.stream.once('readable', resolve));
        await settlesAt(1);
        bundle.stream.destroy();
        await settlesAt(0);
      } finally {
        for (const f of files) renameSync(`${f}.away`, f);
      }
      expect(await notDownloaded()).toEqual(before);
    });

    it('fails "all new" cleanly when a file in it disappears before the ZIP reaches it: nothing recorded, files closed', async () => {
      const notDownloaded = async () =>
        (await listDeliveries(store, '0363', { now: MONDAY })).filter((d) => !d.downloaded).map((d) => d.id);
      const before = await notDownloaded();
      expect(before.length).toBeGreaterThan(1);
      const who = { organisation: '0363', actor: 'ana@0363.nl', now: MONDAY };
      const settlesAt = (n: number) => vi.waitFor(() => expect(openZips(dataDir)).toBe(n), { timeout: 3000 });
      // Large files, so that the ZIP is held up in the first (back-pressure) while the last is deleted.
      const files = (await listDeliveries(store, '0363', { now: MONDAY }))
        .filter((d) => before.includes(d.id))
        .map((d) => join(dataDir, d.file));
      for (const f of files) {
        renameSync(f, `${f}.away`);
        writeFileSync(f, Buffer.alloc(4 << 20));
      }
      try {
        const bundle = await bundleNotDownloaded({ store, dataDir }, who);
        await new Promise((resolve) => bundle.stream.once('readable', resolve));
        await settlesAt(1);
        const last = bundle.deliveries.at(-1)!;
        rmSync(join(dataDir, last.file)); // retention, a colleague's deletion, an operator cleaning up
        const err = await bytes(bundle.stream).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(DeliveryError);
        expect(err).toMatchObject({ code: 'delivery.file_missing' });
        expect((err as Error).message).toContain(`delivery ${last.id}:`);
        await expect(bundle.recordDownloaded()).rejects.toThrow('download.not_sent');
        await settlesAt(0);
      } finally {
        for (const f of files) renameSync(`${f}.away`, f);
      }
      expect(await notDownloaded()).toEqual(before);

      // The next one goes through whole.
      const next = await bundleNotDownloaded({ store, dataDir }, who);
      const zip = await readZipBuffer(await bytes(next.stream));
      expect([...zip.keys()].sort()).toEqual(next.deliveries.map((d) => d.fileName).sort());
      expect(next.deliveries.map((d) => d.id).sort()).toEqual([...before].sort());
      expect(await notDownloaded()).toEqual(before);
    });

    it('sends a file deleted after it was opened whole, and refuses one already gone with delivery.file_missing', async () => {
      const d = (await listDeliveries(store, '0363', { now: MONDAY })).find((x) => !x.downloaded)!;
      const who = { organisation: '0363', id: d.id, actor: 'ana@0363.nl', now: MONDAY };
      const path = join(dataDir, d.file);
      const got = await openDelivery({ store, dataDir }, who);
      renameSync(path, `${path}.away`); // gone from its place, as deleted
      try {
        expect((await bytes(got.stream)).length).toBe(got.size);
        await expect(openDelivery({ store, dataDir }, who)).rejects.toMatchObject({
          code: 'delivery.file_missing',
        });
      } finally {
        renameSync(`${path}.away`, path);
      }
      expect((await getDelivery(store.db, d.id))!.downloadCount).toBe(0);
    });

    it('records no download for a transfer broken off, and leaves a file missing on disk out of "all new"', async () => {
      const notDownloaded = async () =>
        (await listDeliveries(store, '0363', { now: MONDAY })).filter((d) => !d.downloaded).map((d) => d.id);
      const before = await notDownloaded();
      expect(before.length).toBeGreaterThan(1);
      const who = { organisation: '0363', actor: 'ana@0363.nl', now: MONDAY };
      const single = await openDelivery({ store, dataDir }, { ...who, id: before[0]! });
      single.stream.destroy();
      const bundle = await bundleNotDownloaded({ store, dataDir }, who);
      expect(bundle.deliveries.map((d) => d.id).sort()).toEqual([...before].sort());
      bundle.stream.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(await notDownloaded()).toEqual(before);

      // A file the server lost holds back nothing else, and stays new.
      const lost = (await listDeliveries(store, '0363', { now: MONDAY })).find((d) => d.id === before[0])!;
      const path = join(dataDir, lost.file);
      renameSync(path, `${path}.away`);
      try {
        const partial = await bundleNotDownloaded({ store, dataDir }, who);
        expect(partial.missing.map((d) => d.id)).toEqual([lost.id]);
        expect(partial.deliveries.map((d) => d.id).sort()).toEqual(
          before.filter((id) => id !== lost.id).sort(),
        );
        const zip = await readZipBuffer(await bytes(partial.stream));
        expect([...zip.keys()]).not.toContain(lost.fileName);
        // Reading it records nothing; told it was delivered, it records the others only.
        expect(await notDownloaded()).toEqual(before);
        await partial.recordDownloaded();
        expect(await notDownloaded()).toEqual([lost.id]);
      } finally {
        renameSync(`${path}.away`, path);
      }
    });

    it('bundles all files not yet downloaded into one ZIP and records each', async () => {
      const bundle = await bundleNotDownloaded(
        { store, dataDir },
        { organisation: '0363', actor: 'ana@0363.nl', now: MONDAY },
      );
      // The earlier test fetched all but one of them already.
      expect(bundle.deliveries.map((d) => d.id)).toEqual([ids[1]]);
      const zip = await readZipBuffer(await bytes(bundle.stream));
      expect([...zip.keys()].sort()).toEqual(bundle.deliveries.map((d) => d.fileName).sort());
      await bundle.recordDownloaded();
      const again = await bundleNotDownloaded(
        { store, dataDir },
        { organisation: '0363', actor: 'ana@0363.nl', now: MONDAY },
      );
      expect(again.deliveries).toEqual([]);
      expect(bundle.fileName).toBe('ketendata-0363-nieuw-2024-01-22.zip');
      // Named by the Amsterdam date: 23:30 UTC on a Sunday in winter is already Monday there.
      const lateSunday = await bundleNotDownloaded(
        { store, dataDir },
        { organisation: '0363', actor: 'ana@0363.nl', now: new Date('2024-01-21T23:30:00Z') },
      );
      expect(lateSunday.fileName).toBe('ketendata-0363-nieuw-2024-01-22.zip');
      expect((await listDeliveries(store, '0363', { now: MONDAY })).every((d) => d.downloaded)).toBe(true);
    });

    it('deletes selected downloaded files, keeps their listing marked deleted, and logs it', async () => {
      const other = (await listDeliveries(store, '0384', { now: MONDAY }))[0]!;
      expect(
        await refusal(
          deleteDeliveries(
            { store, dataDir },
            { organisation: '0384', ids: [other.id], actor: 'x', now: MONDAY },
          ),
        ),
      ).toBe('delivery.not_downloaded');
      expect(
        await refusal(
          deleteDeliveries(
            { store, dataDir },
            { organisation: '0384', ids: [ids[0]!], actor: 'x', now: MONDAY },
          ),
        ),
      ).toBe('delivery.forbidden');
      const target = (await listDeliveries(store, '0363', { now: MONDAY })).find((d) => d.id === ids[0])!;
      await deleteDeliveries(
        { store, dataDir },
        { organisation: '0363', ids: [target.id], actor: 'ana@0363.nl', now: MONDAY },
      );
      expect(existsSync(join(dataDir, target.file))).toBe(false);
      const after = (await listDeliveries(store, '0363', { now: MONDAY })).find((d) => d.id === target.id)!;
      expect(after).toMatchObject({ deleted: true, ready: false, deletedBy: 'ana@0363.nl' });
      expect(
        await refusal(
          openDelivery({ store, dataDir }, { organisation: '0363', id: target.id, actor: 'x', now: MONDAY }),
        ),
      ).toBe('delivery.deleted');
      const log = await listAudit(store.db, { organisation: '0363', actionPrefix: 'delivery.delete' });
      expect(log.map((l) => JSON.parse(l.detail!).id)).toEqual([target.id]);
      // Stored messages are untouched by a deletion.
      expect((await store.db.selectFrom('message').select('seq').execute()).length).toBe(1);
    });

    it('copies deliveries into a folder for the CLI, only the new ones with --new', async () => {
      const out = await mkdtemp(join(tmpdir(), 'kd-download-'));
      const { copied: fresh } = await downloadToFolder(
        { store, dataDir },
        { organisation: '0384', actor: 'cli:op', now: MONDAY, outDir: out, onlyNew: true },
      );
      expect(fresh.length).toBe((await listDeliveries(store, '0384', { now: MONDAY })).length);
      expect(readdirSync(out).sort()).toEqual(fresh.map((f) => f.delivery.fileName).sort());
      const none = await downloadToFolder(
        { store, dataDir },
        { organisation: '0384', actor: 'cli:op', now: MONDAY, outDir: out, onlyNew: true },
      );
      expect(none).toEqual({ copied: [], missing: [] });
      const all = await downloadToFolder(
        { store, dataDir },
        { organisation: '0384', actor: 'cli:op', now: MONDAY, outDir: out, onlyNew: false },
      );
      expect(all.copied.length).toBe(fresh.length);
    });
  });
}
