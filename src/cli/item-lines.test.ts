import { describe, expect, it } from 'vitest';
import { itemLines } from './item-lines.js';

describe('itemLines', () => {
  it('names conflicts up to the limit, then counts the rest and points to `ketendata conflicts`', () => {
    const lines: string[] = [];
    const items = itemLines((l) => lines.push(l), 2);
    for (let seq = 2; seq <= 5; seq++)
      items.onConflict?.({ source: `b/${seq}.xml`, code: 'JW305', identificatie: 'X1', seq, earlierSeq: 1 });
    items.end();
    expect(lines).toEqual([
      'conflict: b/2.xml: JW305 Identificatie X1 came again with other content: stored as message 2 beside the earlier version, message 1 (both flagged conflict)',
      'conflict: b/3.xml: JW305 Identificatie X1 came again with other content: stored as message 3 beside the earlier version, message 1 (both flagged conflict)',
      '… and 2 more conflicts: see `ketendata conflicts`',
    ]);
  });
});
