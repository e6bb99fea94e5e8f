// Table types owned by the links concern; its migration lives in ../migrations/.
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the links issue
export interface LinkTables {}
