/**
 * Working days for the orphan deadlines (OP090: retour ≤ 3, OP090x4: 325 ≤ 10). Monday to Friday; public
 * holidays are not counted as free, so an orphan may be reported up to a few days early around holidays.
 */
export function subtractWorkingDays(day: string, count: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  let left = count;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() - 1);
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) left--;
  }
  return d.toISOString().slice(0, 10);
}
