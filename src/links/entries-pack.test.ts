import { describe, expect, it } from 'vitest';
import { examples } from '../../test/support/examples.js';
import { parseMessage } from '../ingest/index.js';
import { type LinkEntry, linkEntries, packEntries, unpackEntries } from './entries.js';

/** The entries of every valid official example, as linking computes them from the parsed rows. */
function exampleEntries(): LinkEntry[][] {
  return examples()
    .filter((e) => e.valid)
    .map((e, i) => {
      const r = parseMessage(Buffer.from(e.text), { file: e.name });
      if (!r.ok) throw new Error(r.error.message);
      const m = r.message;
      return linkEntries({
        berichtId: `bericht-${i}`,
        code: m.schema.code,
        gemeente: m.gemeente,
        afzender: m.key.afzender,
        ontvanger: m.key.ontvanger,
        identificatie: m.key.identificatie,
        dagtekening: m.key.dagtekening,
        tables: Object.fromEntries(m.tables),
      });
    });
}

describe('link entries packed for the trip from a parse worker', () => {
  it('come back as they were, for every official example', () => {
    const all = exampleEntries();
    expect(all.flat().length).toBeGreaterThan(20);
    for (const entries of all) expect(unpackEntries(packEntries(entries))).toEqual(entries);
    expect(unpackEntries(packEntries([]))).toEqual([]);
  });

  it('refuse entries of two messages in one pack', () => {
    const [a, b] = exampleEntries().filter((e) => e.length > 0);
    expect(() => packEntries([...a!, ...b!])).toThrow(/links.pack/);
  });
});
