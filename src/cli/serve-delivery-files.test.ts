import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalHarness } from '../../test/e2e/harness.js';
import { DIALECTS } from '../../test/support/databases.js';
import { markDeleted } from '../store/deliveries.js';
import { deliveryFilesWarning } from './serve.js';

// Sunday 1 March 2026 07:00 Amsterdam: the weekly slot of that morning has passed.
const AFTER_FIRST_RUN = new Date('2026-03-01T06:30:00Z');
const MONDAY = new Date('2026-03-02T08:00:00Z');

describe.each(DIALECTS)("serve's start-up check of the delivery files on %s", (dialect) => {
  let h: Awaited<ReturnType<typeof portalHarness>>;
  let files: string[];
  const otherFolder = mkdtempSync(join(tmpdir(), 'ketendata-other-instance-'));
  beforeAll(async () => {
    h = await portalHarness(dialect);
    await h.seed();
    expect((await h.deliver(AFTER_FIRST_RUN)).made.length).toBe(3);
    files = (await h.store.db.selectFrom('delivery').select('file').orderBy('id').execute()).map(
      (r) => r.file,
    );
  });
  afterAll(async () => {
    await h.drop();
    rmSync(otherFolder, { recursive: true, force: true });
  });

  it('says nothing when every file is in this data folder', async () => {
    expect(await deliveryFilesWarning(h.store, h.dataDir, MONDAY)).toBeUndefined();
  });

  it('names how many files are missing of how many, the folder, and that instances must share it', async () => {
    expect(await deliveryFilesWarning(h.store, otherFolder, MONDAY)).toBe(
      `ketendata: warning: 3 of the 3 newest listed deliveries have no file in ${join(otherFolder, 'deliveries')}: ` +
        'their downloads fail (delivery.file_missing). Every instance of serve on this store must share one ' +
        'deliveries folder (docs/operations.md, "Several instances"); after a restore, restore the deliveries folder too',
    );
  });

  it('counts only listings neither deleted nor expired', async () => {
    const [first, second] = files;
    rmSync(join(h.dataDir, first!));
    rmSync(join(h.dataDir, second!));
    expect(await deliveryFilesWarning(h.store, h.dataDir, MONDAY)).toMatch(
      /: 2 of the 3 newest listed deliveries /,
    );
    // A file deleted by its user is gone on purpose.
    const id = (
      await h.store.db
        .selectFrom('delivery')
        .select('id')
        .where('file', '=', first!)
        .executeTakeFirstOrThrow()
    ).id;
    await markDeleted(h.store.db, id, MONDAY, 'test');
    expect(await deliveryFilesWarning(h.store, h.dataDir, MONDAY)).toMatch(
      /: 1 of the 2 newest listed deliveries /,
    );
    // Past its expiry retention removes file and listing: not looked at.
    expect(await deliveryFilesWarning(h.store, h.dataDir, new Date('2026-06-01T00:00:00Z'))).toBeUndefined();
  });
});
