import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { sweepLeftovers } from './retention.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date();

describe.each(DIALECTS)('retention of unlisted delivery ZIPs on %s', (dialect) => {
  it('removes a ZIP no delivery lists once its file is older than 60 days and a week; a younger one and listed ones stay', async () => {
    const { store, dataDir, drop } = await freshStore(dialect);
    try {
      const put = (rel: string, ageDays: number) => {
        const path = join(dataDir, rel);
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, 'PK');
        const at = new Date(NOW.getTime() - ageDays * DAY);
        utimesSync(path, at, at);
        return path;
      };
      // After a restore with a deliveries/ folder newer than the store: ZIPs of deliveries it never made.
      const stray = put(join('deliveries', '0363', 'weekly-20240505T040000Z-0a1b2c3d.zip'), 68);
      const young = put(join('deliveries', '0363', 'weekly-20240512T040000Z-1a1b2c3d.zip'), 59);
      // Past 60 days but within the week a `deliver --now` may run ahead: its store may list it later.
      const ahead = put(join('deliveries', '0363', 'weekly-20240519T040000Z-4a1b2c3d.zip'), 66);
      // Listed (a delivery of this store, say deleted early by a user and kept listed until expiry) and
      // pending (being written): never by this rule, however old the file.
      const listedRel = join('deliveries', '0363', 'weekly-20240303T050000Z-2a1b2c3d.zip');
      const listed = put(listedRel, 70);
      const pendingRel = join('deliveries', '0599', 'history-20240303T050000Z-3a1b2c3d.zip');
      const pending = put(pendingRel, 70);
      const notZip = put(join('deliveries', '0363', 'notes.txt'), 70);
      const made = new Date(NOW.getTime() - 10 * DAY).toISOString();
      await store.db
        .insertInto('organisation')
        .values({
          code: '0363',
          name: 'Amsterdam',
          kind: 'gemeente',
          active: 1,
          created_at: made,
          activated_at: made,
          weekly_seq: 0,
          weekly_link_seq: 0,
          weekly_slot: made,
          history_requested: 0,
          history_requested_at: null,
          history_requested_by: null,
          leave_out_personal_data: 0,
        })
        .execute();
      await store.db
        .insertInto('delivery')
        .values({
          organisation: '0363',
          kind: 'weekly',
          slot: made,
          period_start: made,
          period_end: made,
          seq_from: 0,
          seq_to: 0,
          link_seq_from: 0,
          link_seq_to: 0,
          message_count: 0,
          personal_data_left_out: 0,
          made_at: made,
          available_at: made,
          expires_at: new Date(NOW.getTime() + 50 * DAY).toISOString(),
          file: listedRel,
          file_name: 'ketendata-0363-wekelijks.zip',
          size: 2,
          sha256: '0'.repeat(64),
          first_downloaded_at: null,
          first_downloaded_by: null,
          download_count: 0,
          deleted_at: null,
          deleted_by: null,
        })
        .execute();
      await store.db
        .insertInto('delivery_pending')
        .values({ file: pendingRel, started_at: NOW.toISOString() })
        .execute();

      expect(await sweepLeftovers({ store, dataDir }, NOW)).toBe(1);
      expect(existsSync(stray)).toBe(false);
      for (const kept of [young, ahead, listed, pending, notZip]) expect(existsSync(kept), kept).toBe(true);
      expect(await sweepLeftovers({ store, dataDir }, NOW)).toBe(0);
    } finally {
      await drop();
    }
  });
});
