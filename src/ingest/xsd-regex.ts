/**
 * XSD regular expressions → JavaScript. XSD patterns are implicitly anchored, `.` excludes only CR/LF,
 * `\s` is the four XML whitespace characters, `\d` any Unicode decimal digit, and `^`/`$` are literals.
 */
const SYNTAX = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '/', '-']);
const XML_SPACE_CLASS = ' \\t\\n\\r';

export class UnsupportedPatternError extends Error {}

function escapeBody(xsd: string): string {
  let out = '';
  let inClass = false;
  let classStart = false;
  for (let i = 0; i < xsd.length; i++) {
    const ch = xsd[i] as string;
    if (ch === '\\') {
      const next = xsd[i + 1];
      if (next === undefined) throw new UnsupportedPatternError(`pattern ends in a backslash: ${xsd}`);
      i++;
      classStart = false;
      switch (next) {
        case 'd':
          out += '\\p{Nd}';
          break;
        case 'D':
          out += '\\P{Nd}';
          break;
        case 's':
          out += inClass ? XML_SPACE_CLASS : `[${XML_SPACE_CLASS}]`;
          break;
        case 'S':
          if (inClass) throw new UnsupportedPatternError(`\\S inside a character class: ${xsd}`);
          out += `[^${XML_SPACE_CLASS}]`;
          break;
        case 'w':
          if (inClass) throw new UnsupportedPatternError(`\\w inside a character class: ${xsd}`);
          out += '[^\\p{P}\\p{Z}\\p{C}]';
          break;
        case 'W':
          if (inClass) throw new UnsupportedPatternError(`\\W inside a character class: ${xsd}`);
          out += '[\\p{P}\\p{Z}\\p{C}]';
          break;
        case 'n':
        case 'r':
        case 't':
          out += `\\${next}`;
          break;
        case 'p':
        case 'P':
          throw new UnsupportedPatternError(`Unicode categories are not supported: ${xsd}`);
        default:
          if (next === '-' && !inClass) out += '-';
          else if (SYNTAX.has(next)) out += `\\${next}`;
          else throw new UnsupportedPatternError(`unsupported escape \\${next}: ${xsd}`);
      }
      continue;
    }
    if (inClass) {
      if (ch === ']') {
        inClass = false;
        out += ']';
      } else if (ch === '-' && xsd[i + 1] === ']' && !classStart) {
        // libxml2 (the reference validator) drops a '-' that ends a character class: `[^Z+-]` lets '-' pass.
      } else if (ch === '-' && xsd[i + 1] === '[') {
        throw new UnsupportedPatternError(`character class subtraction is not supported: ${xsd}`);
      } else if (ch === '^' && !classStart) {
        out += '\\^';
      } else if (
        ch === '[' ||
        ch === '/' ||
        ch === '{' ||
        ch === '}' ||
        ch === '(' ||
        ch === ')' ||
        ch === '|'
      ) {
        out += `\\${ch}`;
      } else {
        out += ch;
      }
      classStart = false;
      continue;
    }
    switch (ch) {
      case '[':
        inClass = true;
        classStart = true;
        out += '[';
        if (xsd[i + 1] === '^') {
          out += '^';
          i++;
          classStart = false;
        }
        break;
      case '.':
        out += '[^\\n\\r]';
        break;
      case '^':
      case '$':
      case '/':
        out += `\\${ch}`;
        break;
      case '(':
        out += '(?:';
        break;
      default:
        out += ch;
    }
  }
  if (inClass) throw new UnsupportedPatternError(`unterminated character class: ${xsd}`);
  return out;
}

/** Compile an XSD pattern facet to an anchored JavaScript RegExp (Unicode mode). */
export function xsdPatternToRegExp(xsd: string): RegExp {
  return new RegExp(`^(?:${escapeBody(xsd)})$`, 'u');
}
