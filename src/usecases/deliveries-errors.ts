/**
 * Errors of the delivery use cases, with a stable dotted code the CLI maps to an exit code and the HTTP
 * layer to a status (`status`). Messages name the organisation or delivery id, never client data.
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly code: DeliveryErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }

  /** The HTTP status this error maps to. */
  get status(): 400 | 403 | 404 | 409 | 416 | 500 {
    switch (this.code) {
      case 'delivery.file_missing':
      case 'delivery.file_unreadable':
        return 500; // the store lists a file the server lost (or cannot read): not the client's fault
      case 'organisation.not_found':
      case 'delivery.not_found':
        return 404;
      case 'delivery.forbidden':
        return 403;
      case 'delivery.range_not_satisfiable':
        return 416;
      case 'organisation.exists':
      case 'organisation.already_active':
      case 'organisation.inactive':
      case 'organisation.not_active':
      case 'delivery.not_ready':
      case 'delivery.deleted':
      case 'delivery.not_downloaded':
        return 409;
      default:
        return 400;
    }
  }
}

export type DeliveryErrorCode =
  | 'organisation.invalid_code'
  | 'organisation.invalid_name'
  | 'organisation.invalid_members'
  | 'organisation.not_head'
  | 'organisation.exists'
  | 'organisation.not_found'
  | 'organisation.already_active'
  | 'organisation.inactive'
  /** Deactivating an organisation that is not active (never activated, or deactivated already). */
  | 'organisation.not_active'
  | 'delivery.not_found'
  | 'delivery.forbidden'
  | 'delivery.not_ready'
  | 'delivery.deleted'
  | 'delivery.not_downloaded'
  | 'delivery.file_missing'
  /** A `Range` outside the delivery's file. */
  | 'delivery.range_not_satisfiable'
  /** A delivery's file failed while it was being read for a download (an I/O error other than missing). */
  | 'delivery.file_unreadable';
