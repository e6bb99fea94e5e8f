// Table types owned by the ingest concern; its migration lives in ../migrations/.
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the ingest issue
export interface IngestTables {}
