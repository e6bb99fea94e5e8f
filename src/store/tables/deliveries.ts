// Table types owned by the deliveries concern; its migration lives in ../migrations/.
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the deliveries issue
export interface DeliveryTables {}
