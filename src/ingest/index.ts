export { berichtId, messageKeyString } from './message-id.js';
export { capNames, parseMessage } from './parse.js';
export { keyedHasher, pseudonymiseRows, pseudonymiseWithKey } from './pseudonymise-rows.js';
export type {
  FlatMessage,
  IngestError,
  IngestErrorCode,
  MessageKey,
  ParseOutcome,
  Row,
  Tables,
} from './types.js';
