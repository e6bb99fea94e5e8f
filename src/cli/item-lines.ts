import { count } from '../domain/plural.js';
import type { ConflictingExchange, ItemReports, QuarantinedExchange } from '../usecases/ingest-exchanges.js';
import { reasonDetail } from '../usecases/quarantine.js';

/**
 * Lines a run prints about single exchanges, per kind (quarantined, conflict): past this many the rest are
 * counted on one line at the end instead of flooding the terminal.
 */
export const MAX_ITEM_LINES = 100;

/**
 * Text for one line or one TSV field: every control character (tab, line break, …) written `\xNN`, as ingest
 * names the bytes of a file name that is not UTF-8, so a name cannot break a line or a record.
 */
export function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * A quarantined exchange on one line: the item id (for `quarantine list`, `retry`, `dismiss`), the file and
 * the stored reason (for a message that cannot be parsed, the parser's own error: message type, element,
 * rule), then the reason code.
 */
export function quarantinedLine(q: QuarantinedExchange): string {
  return oneLine(`quarantined (item ${q.id}): ${q.source}: ${reasonDetail(q)} (${q.reasonCode})`);
}

/** A conflict on one line: the file, the message, and the earlier version it was stored beside. */
export function conflictLine(c: ConflictingExchange): string {
  return oneLine(
    `conflict: ${c.source}: ${c.code} Identificatie ${c.identificatie} came again with other content: stored as message ${c.seq} beside the earlier version, message ${c.earlierSeq} (both flagged conflict)`,
  );
}

/** At most `limit` lines, then how many more there were. */
class Bounded {
  #shown = 0;
  #more = 0;
  constructor(
    readonly write: (line: string) => void,
    readonly limit: number,
  ) {}
  add(line: string): void {
    if (this.#shown < this.limit) {
      this.#shown++;
      this.write(line);
    } else this.#more++;
  }
  get more(): number {
    return this.#more;
  }
}

/**
 * One stderr line per quarantined exchange and per conflict as its batch is written, at most `limit` of each
 * kind; `end()` then says how many more there were and where to find them.
 */
export function itemLines(
  write: (line: string) => void,
  limit = MAX_ITEM_LINES,
): ItemReports & { end(): void } {
  const quarantined = new Bounded(write, limit);
  const conflicts = new Bounded(write, limit);
  return {
    onQuarantined: (q) => quarantined.add(quarantinedLine(q)),
    onConflict: (c) => conflicts.add(conflictLine(c)),
    end() {
      if (quarantined.more)
        write(`… and ${quarantined.more} more quarantined: see \`ketendata quarantine list\``);
      if (conflicts.more)
        write(`… and ${count(conflicts.more, 'more conflict')}: see \`ketendata conflicts\``);
    },
  };
}
