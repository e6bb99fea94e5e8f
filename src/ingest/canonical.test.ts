import { describe, expect, it } from 'vitest';
import { CanonicalWriter } from './canonical.js';

describe('CanonicalWriter', () => {
  it('writes the UTF-8 bytes of the canonical text: markup as is, values escaped', () => {
    const w = new CanonicalWriter();
    w.markup('<Bericht xmlns="urn:x">');
    w.bytes(Buffer.from('<Naam>'));
    w.text('Zoë & Jan <de> "Vries"');
    w.bytes(Buffer.from('</Naam>'));
    w.text('plain');
    expect(w.take().toString('utf8')).toBe(
      '<Bericht xmlns="urn:x"><Naam>Zoë &amp; Jan &lt;de&gt; "Vries"</Naam>plain',
    );
  });

  it('grows past its first buffer and starts empty after a reset', () => {
    const w = new CanonicalWriter();
    const value = 'x'.repeat(10_000);
    for (let i = 0; i < 5; i++) {
      w.bytes(Buffer.from('<A>'));
      w.text(value);
    }
    expect(w.take().toString()).toBe(`<A>${value}`.repeat(5));
    w.reset();
    w.text('€');
    expect(w.take()).toEqual(Buffer.from('€'));
  });

  it('hands out a copy that later writes do not change', () => {
    const w = new CanonicalWriter();
    w.text('first');
    const taken = w.take();
    w.reset();
    w.text('other');
    expect(taken.toString()).toBe('first');
  });
});
