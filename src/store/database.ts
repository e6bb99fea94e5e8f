import type { AccountTables } from './tables/accounts.js';
import type { DeliveryTables } from './tables/deliveries.js';
import type { FlashTables } from './tables/flash.js';
import type { IndicatorTables } from './tables/indicators.js';
import type { IngestTables } from './tables/ingest.js';
import type { KeyTables } from './tables/keys.js';
import type { LinkTables } from './tables/links.js';

/** The whole store, one interface per concern (each in tables/), one migration file per concern. */
export interface Database
  extends IngestTables,
    DeliveryTables,
    LinkTables,
    AccountTables,
    IndicatorTables,
    KeyTables,
    FlashTables {}

export type Dialect = 'sqlite' | 'postgres';
