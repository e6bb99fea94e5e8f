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

  it('is masked beside other numbers and after a letter with a dot or hyphen', () => {
    expect(maskBsns('BSN 999435978 12 keer gebeld, moeder 999435978 06 12345678')).toBe(
      'BSN ********* 12 keer gebeld, moeder ********* 06 12345678',
    );
    expect(maskBsns('BSN 999435978 111222333; op 10 12 2023 999435978; dossier 2024 999 435 978')).toBe(
      'BSN ********* *********; op 10 12 2023 *********; dossier 2024 *** *** ***',
    );
    expect(maskBsns('BSN-999435978, bsn.999435978, nr.999435978, BSN:999435978')).toBe(
      'BSN-*********, bsn.*********, nr.*********, BSN:*********',
    );
  });

  it('leaves other numbers: failing the 11-test, longer, shorter, dates, amounts and phone numbers', () => {
    const text =
      'factuur 999900007, ref 1999900006, klant 99990006, op 2024-03-05 10:00, € 1.234.567,89, tel 06 1234 5678, ' +
      'AGB 12345678 2 keer, items 101 102 103, bedrag 1.999435978, code 999435978-1';
    expect(maskBsns(text)).toBe(text);
  });
});
