/** The 11-test (elfproef) for a BSN. */
export function isValidBsn(bsn: string): boolean {
  if (!/^[0-9]{9}$/.test(bsn)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(bsn[i]);
  sum -= Number(bsn[8]);
  return sum % 11 === 0;
}

/**
 * Digits in groups of two or more (as people write a BSN: 999435978, 999 435 978, 9994.35.978, 999-43-59-78),
 * not part of a longer number; `maskNineDigits` takes those of nine digits in all.
 */
const DIGIT_GROUPS = /(?<![\d.-])\d{2,}(?:[ .-]\d{2,}){0,3}(?![\d]|[.-]\d)/g;

/**
 * `text` with every nine digits, unbroken or in groups, written as `*` per digit (spaces, dots and hyphens
 * between them kept) where `when` holds for the nine digits.
 */
function maskNineDigits(text: string, when: (digits: string) => boolean): string {
  return text.replace(DIGIT_GROUPS, (d) => {
    const digits = d.replace(/[ .-]/g, '');
    return digits.length === 9 && when(digits) ? d.replace(/\d/g, '*') : d;
  });
}

/**
 * Free text with every nine digits that pass the 11-test masked (`maskNineDigits`): a BSN a sender typed into a
 * comment or a relative's person number does not leave the service in clear. Other numbers (dates, amounts,
 * phone numbers, most nine-digit references) stay.
 */
export const maskBsns = (text: string): string => maskNineDigits(text, isValidBsn);
