import { describe, expect, it } from 'vitest';
import { isValidBsn } from '../domain/bsn.js';
import { person, testBsnPool } from './identities.js';
import { Random } from './random.js';
import { breakXml } from './sim.js';

describe('identities', () => {
  it('holds every test-range BSN that passes the 11-test, each once', () => {
    const pool = testBsnPool(new Random(1));
    const set = new Set(pool);
    expect(set.size).toBe(pool.length);
    expect(pool.length).toBe(90_909);
    for (const b of pool.slice(0, 2000)) {
      const s = String(b);
      expect(s.startsWith('999')).toBe(true);
      expect(isValidBsn(s)).toBe(true);
    }
  });

  it('rejects a BSN that fails the 11-test', () => {
    expect(isValidBsn('999900006')).toBe(true);
    expect(isValidBsn('999900007')).toBe(false);
    expect(isValidBsn('99990000')).toBe(false);
  });

  it('makes youth clients under 18 and Wmo clients adults', () => {
    const r = new Random(9);
    const today = 20_000;
    for (let i = 0; i < 200; i++) {
      const hoorn = { code: '0405', name: 'Hoorn' };
      const youth = person(r, '999900006', true, today, hoorn);
      const adult = person(r, '999900006', false, today, hoorn);
      // Clients of one municipality share the first two digits of their postcode.
      expect(youth.address.postcode.slice(0, 2)).toBe(adult.address.postcode.slice(0, 2));
      expect(youth.address.postcode).toMatch(/^[1-9]\d{3}[A-Z]{2}$/);
      expect(today - youth.birth).toBeLessThan(18 * 366);
      expect(today - adult.birth).toBeGreaterThanOrEqual(18 * 365);
      expect(youth.voorletters).toMatch(/^[A-ZÀ-ỳ]+$/u);
    }
  });
});

describe('broken exchanges', () => {
  it('spoils a message in one of the ways real traffic gets spoiled, and says how', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<a:Bericht xmlns:a="http://www.istandaarden.nl/ijw/3_2/jw305/schema"><a:Header><a:BerichtVersie>3</a:BerichtVersie><a:Dagtekening>2025-01-02</a:Dagtekening></a:Header></a:Bericht>\n';
    const r = new Random(4);
    const reasons = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const b = breakXml(xml, r);
      expect(b.xml).not.toBe(xml);
      reasons.add(b.reason.split(':')[0] ?? '');
    }
    expect(reasons).toEqual(new Set(['not_well_formed', 'xsd_invalid', 'unknown_type']));
  });
});
