/** Account errors with stable dotted codes; the HTTP layer maps them to a status once. */
export type AccountErrorCode =
  | 'accounts.email_taken'
  | 'accounts.invalid_email'
  | 'accounts.weak_password'
  | 'accounts.same_password'
  | 'accounts.throttled'
  | 'accounts.organisation_required'
  | 'accounts.wrong_password'
  | 'accounts.totp_invalid'
  | 'accounts.totp_active'
  | 'accounts.totp_key_unknown'
  | 'accounts.not_found'
  | 'accounts.owner_required'
  | 'accounts.token_name_required'
  | 'users.not_found'
  | 'users.cannot_disable_self'
  | 'users.cannot_reset_self'
  | 'organisation.not_found';

export class AccountError extends Error {
  constructor(
    readonly code: AccountErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}
