// A child process that ingests a source and reports each committed batch on stdout, so a test can kill -9 it
// mid-run. Arguments: <source> <dataDir> [databaseUrl]
import { deriveKeys } from '../../src/pseudonymise/keys.js';
import { openStore } from '../../src/store/open.js';
import { ingestSource } from '../../src/usecases/ingest-exchanges.js';
import { openSource } from '../../src/usecases/ingest-sources.js';
import { SECRET } from './exchange-fixtures.js';

const [source, dataDir, databaseUrl] = process.argv.slice(2);
const store = await openStore({ databaseUrl: databaseUrl || undefined, dataDir: dataDir! });
await ingestSource(
  { store, keys: deriveKeys(SECRET), now: () => new Date('2024-07-01T08:00:00Z') },
  await openSource(source!),
  { batchSize: 40, onProgress: (done) => process.stdout.write(`batch ${done}\n`) },
);
process.stdout.write('done\n');
await store.close();
