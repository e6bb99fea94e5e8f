/** The 11-test (elfproef) for a BSN. */
export function isValidBsn(bsn: string): boolean {
  if (!/^[0-9]{9}$/.test(bsn)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(bsn[i]);
  sum -= Number(bsn[8]);
  return sum % 11 === 0;
}

/** Digits in groups joined by single spaces, dots or hyphens (999 435 978, 9994.35.978, 06 1234 5678). */
const DIGIT_RUN = /\d+(?:[ .-]\d+)*/g;

/**
 * `text` with every nine digits as people write a BSN (unbroken, or consecutive groups of two or more digits:
 * 999 435 978, 9994.35.978, 999-43-59-78) written as `*` per digit where `when` holds for them. Such nine digits
 * stand apart from the groups beside them by a space (`BSN 999435978 12 keer`); joined by a dot or hyphen they
 * are part of a longer number (`1.999435978`, a date).
 */
function maskNineDigits(text: string, when: (digits: string) => boolean): string {
  return text.replace(DIGIT_RUN, (run) => {
    const parts = run.split(/([ .-])/);
    const groups = parts.filter((_, k) => k % 2 === 0);
    const seps = parts.filter((_, k) => k % 2 === 1);
    const masked = groups.map(() => false);
    for (let i = 0; i < groups.length; i++) {
      if (i > 0 && seps[i - 1] !== ' ') continue;
      let n = 0;
      for (let j = i; j < groups.length; j++) {
        const g = groups[j] as string;
        if (j > i && (g.length < 2 || (groups[i] as string).length < 2)) break;
        n += g.length;
        if (n > 9) break;
        if (n < 9) continue;
        if ((j === groups.length - 1 || seps[j] === ' ') && when(groups.slice(i, j + 1).join(''))) {
          for (let k = i; k <= j; k++) masked[k] = true;
          i = j;
        }
        break;
      }
    }
    return parts.map((p, k) => (k % 2 === 0 && masked[k / 2] ? '*'.repeat(p.length) : p)).join('');
  });
}

/**
 * Free text with every nine digits that pass the 11-test masked (`maskNineDigits`): a BSN a sender typed into a
 * comment or a relative's person number does not leave the service in clear. Other numbers (dates, amounts,
 * phone numbers, most nine-digit references) stay.
 */
export function maskBsns(text: string): string {
  // Most free text holds fewer than nine digits: no regular expression for it.
  let digits = 0;
  for (let i = 0; i < text.length && digits < 9; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits++;
  }
  return digits < 9 ? text : maskNineDigits(text, isValidBsn);
}
