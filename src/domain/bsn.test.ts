import { describe, expect, it } from 'vitest';
import { isValidBsn, maskBsns } from './bsn.js';

describe('a BSN in free text', () => {
  it('is masked when nine digits pass the 11-test, unbroken or in groups', () => {
    expect(isValidBsn('999900006')).toBe(true);
    expect(isValidBsn('111222333')).toBe(true);
    expect(maskBsns('BSN moeder 999900006, vader 111 222 333; kind 1112.22.333 of 111-22-2333')).toBe(
      'BSN moeder *********, vader *** *** ***; kind ****.**.*** of ***-**-****',
    );
  });

  it('leaves other numbers: failing the 11-test, longer, shorter, dates, amounts and phone numbers', () => {
    const text =
      'factuur 999900007, ref 1999900006, klant 99990006, op 2024-03-05 10:00, € 1.234.567,89, tel 06 1234 5678';
    expect(maskBsns(text)).toBe(text);
  });
});
