import { gemeenteLabel } from '../schema/codelists.js';

const dateTime = new Intl.DateTimeFormat('nl-NL', {
  timeZone: 'Europe/Amsterdam',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const dateOnly = new Intl.DateTimeFormat('nl-NL', {
  timeZone: 'Europe/Amsterdam',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});
const clock = new Intl.DateTimeFormat('nl-NL', {
  timeZone: 'Europe/Amsterdam',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const shortDate = new Intl.DateTimeFormat('nl-NL', {
  timeZone: 'Europe/Amsterdam',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});

/** "2 mrt 2026, 08:00" in Dutch time; "—" when absent. */
export const formatDateTime = (iso: string | null | undefined): string =>
  iso ? dateTime.format(new Date(iso)) : '—';

/** "08:00" in Dutch time; "—" when absent. */
export const formatTime = (iso: string | null | undefined): string =>
  iso ? clock.format(new Date(iso)) : '—';

/** "maandag 2 maart 2026". A bare date (YYYY-MM-DD) is taken as that calendar day. */
export const formatDay = (iso: string | null | undefined): string =>
  iso ? dateOnly.format(new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso)) : '—';

export function formatPeriod(from: string | null, to: string | null): string {
  // An instant is shown as its day in Amsterdam (2020-12-31T23:00Z is 1 jan 2021), with its time unless it is
  // midnight: weeks run Sunday 06:00 to Sunday 06:00, and without the time they looked like they overlapped.
  // A bare date is shown as itself.
  const d = (v: string) => {
    if (v.length === 10) return shortDate.format(new Date(`${v}T12:00:00Z`));
    const at = new Date(v);
    const time = clock.format(at);
    return time === '00:00' ? shortDate.format(at) : `${shortDate.format(at)} ${time}`;
  };
  if (from && to) return `${d(from)} – ${d(to)}`;
  if (to) return `t/m ${d(to)}`;
  return '—';
}

/**
 * "512 B", "139,0 kB", "1,2 MB": bytes whole, larger units always with one decimal, so that a column of
 * sizes does not mix "139 kB" with "138,9 kB".
 */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = bytes / 1024;
  let u = 0;
  // Compared as shown (rounded to one decimal): 1 048 575 bytes is "1,0 MB", not "1.024,0 kB".
  while (Math.round(v * 10) / 10 >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toLocaleString('nl-NL', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} ${units[u]}`;
}

/** "12.345": a whole number as Dutch readers group it. */
export const formatCount = (n: number): string => n.toLocaleString('nl-NL');

export const kindLabel = (kind: 'weekly' | 'history'): string =>
  kind === 'weekly' ? 'Wekelijks' : 'Historie';

/** "A", "A en B", "A, B en C". */
export function formatList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} en ${items.at(-1)}`;
}

const WEEK_MS = 7 * 86_400_000;

/**
 * What a weekly holds beyond the data of one week, in Dutch, as Ophalen says it before a download: an analyst
 * who appends each weekly to what they have must know when one holds more. `firstWeekly`: the organisation's first
 * weekly; `catchUp`: the members (CBS codes) it holds from the start. Nothing for a history or a plain week.
 */
export function weeklyScope(d: {
  readonly kind: 'weekly' | 'history';
  readonly periodFrom: string | null;
  readonly periodTo: string | null;
  readonly firstWeekly: boolean;
  readonly catchUp: readonly string[];
}): string[] {
  if (d.kind !== 'weekly') return [];
  if (d.firstWeekly) return ['Eerste wekelijkse levering: alle gegevens tot nu toe.'];
  const notes: string[] = [];
  // Slots are Sundays 06:00 Amsterdam: whole weeks, give or take the hour of a clock change.
  const weeks =
    d.periodFrom && d.periodTo
      ? Math.round((Date.parse(d.periodTo) - Date.parse(d.periodFrom)) / WEEK_MS)
      : 1;
  if (weeks > 1) notes.push(`Beslaat ${weeks} weken: alles sinds de vorige wekelijkse levering.`);
  if (d.catchUp.length > 0) {
    notes.push(
      `Bevat ook alle gegevens tot nu toe van ${formatList(d.catchUp.map(gemeenteLabel))}: ${d.catchUp.length === 1 ? 'die gemeente is' : 'die gemeenten zijn'} sinds de vorige wekelijkse levering toegevoegd.`,
    );
  }
  return notes;
}
