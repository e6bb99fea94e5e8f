/** `1 delivery`, `2 deliveries`: a count with its noun, singular for exactly one (CLI output is English). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
