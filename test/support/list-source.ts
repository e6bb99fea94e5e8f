// A child process that opens a source and prints each exchange's name and problem as JSON lines, so a test
// running as root can look at a source as an account that file permissions apply to.
// Arguments: <source>
import { openSource } from '../../src/usecases/ingest-sources.js';

const source = await openSource(process.argv[2]!);
for await (const r of source.exchanges())
  process.stdout.write(`${JSON.stringify({ source: r.source, problem: r.problem?.code ?? null })}\n`);
await source.close();
