import { describe, expect, it } from 'vitest';
import { auditDetail } from './portal/beheer.js';

describe('auditDetail', () => {
  it('says the known keys and values in Dutch and moments in Dutch time', () => {
    expect(auditDetail(JSON.stringify({ id: 7, kind: 'weekly', slot: '2026-11-29T05:00:00.000Z' }))).toBe(
      'levering: 7; soort: wekelijks; moment: 29 nov 2026, 06:00',
    );
    expect(auditDetail(JSON.stringify({ id: 3, file: 'a.zip', via: 'bundle' }))).toBe(
      'levering: 3; bestand: a.zip; via: alle nieuwe bestanden',
    );
    expect(auditDetail(JSON.stringify({ via: 'single' }))).toBe('via: één bestand');
    expect(auditDetail(JSON.stringify({ via: 'range' }))).toBe('via: hervat (deel van een bestand)');
    expect(auditDetail(JSON.stringify({ via: 'cli' }))).toBe('via: opdrachtregel');
    expect(auditDetail(JSON.stringify({ kind: 'history', madeAt: '2026-03-01T05:00:00.000Z' }))).toBe(
      'soort: historie; gemaakt: 1 mrt 2026, 06:00',
    );
    expect(auditDetail(JSON.stringify({ what: 'user_add', organisation: null }))).toBe(
      'wat: gebruiker toegevoegd; organisatie: —',
    );
    expect(auditDetail(JSON.stringify({ tokenId: 4 }))).toBe('token: 4');
    expect(auditDetail(JSON.stringify({ ids: [1, 2], note: 'dubbel' }))).toBe(
      'quarantainenummers: 1, 2; toelichting: dubbel',
    );
    expect(auditDetail(JSON.stringify({ before: ['0363'], after: ['0363', '0599'] }))).toBe(
      'voor: 0363; na: 0363, 0599',
    );
  });

  it('leaves unknown keys, values and plain text as they are', () => {
    expect(auditDetail(JSON.stringify({ onbekend: 'x', kind: 'hoofdorganisatie' }))).toBe(
      'onbekend: x; soort: hoofdorganisatie',
    );
    expect(auditDetail(JSON.stringify({ constructor: 'toString' }))).toBe('constructor: toString');
    expect(auditDetail('gewone tekst')).toBe('gewone tekst');
    expect(auditDetail(null)).toBe('');
  });
});
