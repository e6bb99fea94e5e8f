import { describe, expect, it } from 'vitest';
import { OneTimeFlash } from './flash.js';

describe('a one-time flash', () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 2, 2, 9) + ms);

  it('gives a value once, under its own key only', () => {
    const flash = new OneTimeFlash<string>(60_000);
    flash.put('sessie-a:1', 'geheim', at(0));
    expect(flash.take('sessie-b:1', at(1))).toBeUndefined();
    expect(flash.take('sessie-a:1', at(1))).toBe('geheim');
    expect(flash.take('sessie-a:1', at(2))).toBeUndefined();
  });

  it('drops a value not taken in time', () => {
    const flash = new OneTimeFlash<string>(60_000);
    flash.put('a', '1', at(0));
    expect(flash.take('a', at(60_000))).toBeUndefined();
    flash.put('b', '2', at(0));
    flash.put('c', '3', at(1));
    // Expired ones go when the next is put.
    flash.put('d', '4', at(60_000));
    expect(flash.size).toBe(2);
    expect(flash.take('c', at(60_000))).toBe('3');
  });

  it('holds no more than its bound: the oldest goes first', () => {
    const flash = new OneTimeFlash<string>(60_000, 2);
    flash.put('a', '1', at(0));
    flash.put('b', '2', at(1));
    flash.put('c', '3', at(2));
    expect(flash.size).toBe(2);
    expect(flash.take('a', at(3))).toBeUndefined();
    expect(flash.take('b', at(3))).toBe('2');
    expect(flash.take('c', at(3))).toBe('3');
  });
});
