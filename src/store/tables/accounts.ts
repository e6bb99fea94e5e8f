// Table types owned by the accounts concern; its migration lives in ../migrations/.
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the accounts issue
export interface AccountTables {}
