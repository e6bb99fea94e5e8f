import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage } from './index.js';

const FIXTURES = new URL('../../test/fixtures/istandaarden/', import.meta.url);
const read = (dir: string, file: string) => readFileSync(new URL(`${dir}/${file}`, FIXTURES));
const examples = (dir: string) => readdirSync(new URL(dir, FIXTURES)).filter((f) => f.endsWith('.xml'));

describe('parseMessage on the official examples', () => {
  const valid = [
    ...examples('ijw-voorbeelden')
      .filter((f) => f !== 'JW315.xml' && f !== 'JW318.xml')
      .map((f) => ['ijw-voorbeelden', f] as const),
    ...examples('ijw-voorbeelden-gecorrigeerd').map((f) => ['ijw-voorbeelden-gecorrigeerd', f] as const),
    ...examples('iwmo-voorbeelden').map((f) => ['iwmo-voorbeelden', f] as const),
  ];

  it.each(valid)('flattens %s/%s into its message type with one main row', (dir, file) => {
    const outcome = parseMessage(read(dir, file), { file });
    if (!outcome.ok) throw new Error(outcome.error.message);
    const code = file.replace('.xml', '');
    expect(outcome.message.key.code).toBe(code);
    expect(outcome.message.tables.get(code)).toHaveLength(1);
    expect(outcome.message.gemeente).toMatch(/^\d{4}$/);
  });

  it('rejects the published JW315 because June has no day 31', () => {
    const outcome = parseMessage(read('ijw-voorbeelden', 'JW315.xml'), { file: 'JW315.xml' });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('ingest.xsd_invalid');
    expect(outcome.error.messageCode).toBe('JW315');
    expect(outcome.error.message).toContain('day 31 does not exist in month 06');
    expect(outcome.error.message).toContain('JW315.xml');
    // A date may be a birth date: a reason never repeats it.
    expect(outcome.error.message).not.toContain('2027-06-31');
  });

  it('rejects the published JW318 because of a stray RetourCode under Verzoek', () => {
    const outcome = parseMessage(read('ijw-voorbeelden', 'JW318.xml'), { file: 'JW318.xml' });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('ingest.xsd_invalid');
    expect(outcome.error.path).toBe('/Bericht/Client/Verzoek');
    expect(outcome.error.message).toContain('RetourCode is not expected');
  });

  it('resolves a qualified name by its first colon, also right after the same names parsed with prefixes', () => {
    const text = read('ijw-voorbeelden', 'JW301.xml').toString('utf8');
    expect(parseMessage(Buffer.from(text), { file: 'JW301.xml' }).ok).toBe(true);
    const outcome = parseMessage(Buffer.from(text.replace(/jw301:/g, 'jw:301:')), { file: 'colon.xml' });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.message).toContain('unbound namespace prefix: jw');
  });
});
