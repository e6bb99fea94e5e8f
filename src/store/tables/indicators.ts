/** Indicator snapshots (migration 0006_indicators). Aggregates only: counts, medians, sums, no pseudonyms. */
export interface IndicatorTables {
  indicator_snapshot: IndicatorSnapshotTable;
}

export interface IndicatorSnapshotTable {
  /** One snapshot per organisation, replaced on refresh. */
  organisation: string;
  /** ISO-8601 UTC */
  computed_at: string;
  /** The message and link watermarks the snapshot covers (inclusive). */
  message_seq: number;
  link_seq: number;
  /** JSON of `IndicatorSnapshotData` (src/usecases/indicators.ts). */
  data: string;
}
