import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, portalHarness } from '../../test/e2e/harness.js';
import { openZips } from '../../test/support/open-files.js';
import { listAudit } from '../store/audit.js';
import { getDelivery } from '../store/deliveries.js';

describe('HEAD on a delivery file (API and portal)', () => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  let id: number;
  beforeAll(async () => {
    h = await portalHarness('sqlite');
    await h.seed();
    const run = await h.deliver(new Date('2026-03-01T06:30:00Z'));
    id = run.made.find((d) => d.organisation === '0363')!.id;
    h.clock.now = new Date('2026-03-02T08:00:00Z');
  });
  afterAll(async () => h.drop());

  it('answers with the headers only: the file is not opened and no download is counted', async () => {
    const d = (await getDelivery(h.store.db, id))!;
    const token = await h.apiToken('0363');
    const api = (method: string, path = `/api/v1/deliveries/${id}/file`) =>
      h.app.request(path, { method, headers: { Authorization: `Bearer ${token}` } });
    const portal = new Browser(h.app);
    await portal.login('ana@0363.example');

    const heads: Response[] = [];
    for (let i = 0; i < 20; i++) {
      heads.push(await api('HEAD'));
      heads.push(await portal.fetch(`/ophalen/${id}/bestand`, { method: 'HEAD' }));
    }
    for (const res of heads) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/zip');
      expect(res.headers.get('content-length')).toBe(String(d.size));
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${d.fileName}"`);
      expect(await res.text()).toBe('');
    }
    // A file closes a moment after its stream ends (the close is asynchronous); a leaked one never does.
    await vi.waitFor(() => expect(openZips(h.dataDir)).toBe(0), { timeout: 3000 });
    expect(await getDelivery(h.store.db, id)).toMatchObject({ downloadCount: 0, firstDownloadedAt: null });
    expect(await listAudit(h.store.db, { organisation: '0363', actionPrefix: 'delivery.download' })).toEqual(
      [],
    );

    // Refused as a GET would be; a GET still sends and counts the file.
    expect((await api('HEAD', `/api/v1/deliveries/${id + 1000}/file`)).status).toBe(404);
    expect((await portal.fetch(`/ophalen/${id + 1000}/bestand`, { method: 'HEAD' })).status).toBe(404);
    const got = await api('GET');
    expect((await got.arrayBuffer()).byteLength).toBe(d.size);
    expect((await getDelivery(h.store.db, id))!.downloadCount).toBe(1);
    await vi.waitFor(() => expect(openZips(h.dataDir)).toBe(0), { timeout: 3000 });
  });
});
