export { berichtId, messageKeyString } from './message-id.js';
export { parseMessage } from './parse.js';
export { pseudonymiseRows } from './pseudonymise-rows.js';
export type {
  FlatMessage,
  IngestError,
  IngestErrorCode,
  MessageKey,
  ParseOutcome,
  Row,
  Tables,
} from './types.js';
