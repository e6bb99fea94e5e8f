import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryLinkIndex } from './memory-index.js';
import { parsedForLinks } from './test-messages.js';

const FIXTURES = new URL('../../test/fixtures/istandaarden/', import.meta.url);

const example = (path: string) => parsedForLinks(readFileSync(new URL(path, FIXTURES)), path);

describe('links between the official examples', () => {
  it('links the JW315 products to the JW301 products that carry their ReferentieAanbieder, and the JW319 answer to the JW317 request', () => {
    const index = new MemoryLinkIndex();
    index.add(['ijw-voorbeelden/JW301.xml', 'ijw-voorbeelden/JW317.xml'].map(example));
    index.add(['ijw-voorbeelden-gecorrigeerd/JW315.xml', 'ijw-voorbeelden/JW319.xml'].map(example));
    const links = index
      .links()
      .map((l) => `${l.type} ${l.fromTable}:${l.fromRow} -> ${l.toTable}:${l.toRow}`)
      .sort();
    expect(links).toEqual([
      'verzoek-antwoord JW317: -> JW319:',
      'verzoek-toewijzing JW315_AangevraagdProduct:1 -> JW301_ToegewezenProduct:1',
      'verzoek-toewijzing JW315_AangevraagdProduct:2 -> JW301_ToegewezenProduct:2',
    ]);
  });

  it('does not link the JW302 example to the JW301 example, whose header it does not copy', () => {
    const index = new MemoryLinkIndex();
    index.add(['ijw-voorbeelden/JW301.xml', 'ijw-voorbeelden/JW302.xml'].map(example));
    expect(index.links().filter((l) => l.type === 'retour')).toEqual([]);
  });
});
