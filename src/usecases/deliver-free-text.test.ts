import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshStore } from '../../test/support/databases.js';
import { runDue } from './deliver.js';
import { parseCsv, readZip, testBsn, testKeys, testMessage } from './deliveries.fixtures.js';
import { listDeliveries } from './deliveries.js';
import { ingestOne } from './ingest-exchanges.js';
import { activateOrganisation, addOrganisation } from './organisations.js';

const T0 = new Date('2024-03-01T10:00:00Z');

for (const dialect of DIALECTS) {
  describe(`a BSN typed into free text, on ${dialect}`, () => {
    it('is masked in the delivery, whatever the organisation chose for personal data', async () => {
      const { store, dataDir, drop } = await freshStore(dialect);
      try {
        await addOrganisation(store, { code: '0363', name: 'Amsterdam', actor: 'test', now: T0 });
        await activateOrganisation(store, { code: '0363', actor: 'test', now: T0 });
        const xml = testMessage('JW301', '0363', testBsn(1)).replace(
          '>Commentaar client<',
          '>moeder 1112.22.333, vader 111222333, tel 0612345678<',
        );
        const r = await ingestOne(
          { store, keys: testKeys(), now: () => T0 },
          {
            source: 'a.xml',
            bytes: Buffer.from(xml),
            moment: '2024-03-02T09:00:00Z',
            verzender: '0363',
            ontvanger: null,
            hubId: null,
          },
        );
        expect(r.seq).toBeDefined();
        await runDue(
          { store, dataDir, worker: 'w', organisationKey: (c) => testKeys().organisation(c) },
          new Date('2024-03-03T05:01:00Z'),
        );
        const [weekly] = await listDeliveries(store, '0363', { now: new Date('2024-03-04T06:00:00Z') });
        const zip = await readZip(join(dataDir, weekly?.file as string));
        const [row] = parseCsv(zip.get('JW301.csv') as Buffer).rows;
        expect(row?.Client_Commentaar).toBe('moeder ****.**.***, vader *********, tel 0612345678');
      } finally {
        await drop();
      }
    });
  });
}
