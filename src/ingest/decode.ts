import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

export type Decoded =
  | { ok: true; text: string }
  | { ok: false; code: 'ingest.empty' | 'ingest.not_well_formed'; reason: string };

const DECL_ENCODING_RE = /^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;
const SINGLE_BYTE = new Map([
  ['iso-8859-1', 'latin1'],
  ['latin1', 'latin1'],
  ['iso-8859-15', 'iso-8859-15'],
  ['windows-1252', 'windows-1252'],
  ['cp1252', 'windows-1252'],
  ['us-ascii', 'ascii'],
  ['ascii', 'ascii'],
]);

/**
 * Bytes → text. UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised; a single-byte
 * encoding is honoured when the XML declaration names it. Invalid bytes are an error, never replaced.
 */
export function decodeXml(xml: Buffer | string): Decoded {
  if (typeof xml === 'string') {
    const text = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
    return isBlank(text)
      ? { ok: false, code: 'ingest.empty', reason: 'the file is empty' }
      : { ok: true, text };
  }
  if (xml.length === 0) return { ok: false, code: 'ingest.empty', reason: 'the file is empty' };
  if (xml[0] === 0xff && xml[1] === 0xfe) return viaDecoder(xml.subarray(2), 'utf-16le');
  if (xml[0] === 0xfe && xml[1] === 0xff) return viaDecoder(xml.subarray(2), 'utf-16be');
  const bom = xml[0] === 0xef && xml[1] === 0xbb && xml[2] === 0xbf;
  const body = bom ? xml.subarray(3) : xml;
  const head = body.subarray(0, 200).toString('latin1');
  const declared = DECL_ENCODING_RE.exec(head)?.[1]?.toLowerCase();
  if (declared && declared !== 'utf-8' && declared !== 'utf8') {
    const single = SINGLE_BYTE.get(declared);
    if (bom || !single) {
      return {
        ok: false,
        code: 'ingest.not_well_formed',
        reason: `unsupported or inconsistent encoding '${declared}'`,
      };
    }
    // Not TextDecoder: Node 20's reads windows-1252 as ISO-8859-1 (0x80 is no €) and 'ascii' as either, and
    // never fails on a byte US-ASCII does not have (xmllint refuses it).
    if (single === 'ascii' && body.some((b) => b >= 0x80))
      return { ok: false, code: 'ingest.not_well_formed', reason: 'the file is not valid US-ASCII' };
    const text = iconv.decode(body, single);
    // A byte the code page leaves undefined (0x81 in windows-1252) comes out as U+FFFD.
    if (text.includes('\uFFFD'))
      return { ok: false, code: 'ingest.not_well_formed', reason: `the file is not valid ${declared}` };
    return textOf(text);
  }
  if (!isUtf8(body))
    return { ok: false, code: 'ingest.not_well_formed', reason: 'the file is not valid UTF-8' };
  const text = body.toString('utf8');
  return isBlank(text)
    ? { ok: false, code: 'ingest.empty', reason: 'the file is empty' }
    : { ok: true, text };
}

function viaDecoder(bytes: Buffer, label: string): Decoded {
  let text: string;
  try {
    text = new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, code: 'ingest.not_well_formed', reason: `the file is not valid ${label}` };
  }
  return textOf(text);
}

function textOf(text: string): Decoded {
  return isBlank(text)
    ? { ok: false, code: 'ingest.empty', reason: 'the file is empty' }
    : { ok: true, text };
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}
