import { describe, expect, it } from 'vitest';
import { count } from './plural.js';

describe('count', () => {
  it('is singular for exactly one', () => {
    expect([0, 1, 2].map((n) => count(n, 'delivery', 'deliveries'))).toEqual([
      '0 deliveries',
      '1 delivery',
      '2 deliveries',
    ]);
    expect(count(1, 'message')).toBe('1 message');
    expect(count(12, 'message')).toBe('12 messages');
  });
});
