import { describe, expect, it } from 'vitest';
import { examples } from '../../test/support/examples.js';
import { type LinkEntry, linkEntries, packEntries, unpackEntries } from './entries.js';
import { parsedForLinks } from './test-messages.js';

/** The entries of every valid official example, as linking computes them from the parsed rows. */
function exampleEntries(): LinkEntry[][] {
  return examples()
    .filter((e) => e.valid)
    .map((e, i) => linkEntries(parsedForLinks(e.text, `bericht-${i}`)));
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
