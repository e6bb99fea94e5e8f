/**
 * A party of a hub passage: a municipality by its CBS code (4 digits) or a provider by its AGB code
 * (8 digits), as the message header's LDT_Gemeente and LDT_AgbCode. Anything else in the hub's metadata
 * would end up in every delivery's `Uitwisseling_Verzender`/`_Ontvanger`.
 */
export function isPartyCode(code: string): boolean {
  return /^(?:\d{4}|\d{8})$/.test(code);
}

export const PARTY_CODE_RULE = 'a municipality CBS code (4 digits) or a provider AGB code (8 digits)';
