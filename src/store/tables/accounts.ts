import type { Generated } from 'kysely';

/**
 * Account tables (migration 0004_accounts): portal users, server-side sessions, API tokens and the
 * login failures that drive throttling. Secrets are never stored in clear: passwords as argon2id hashes,
 * session ids and API tokens as SHA-256 digests.
 */
export interface AccountTables {
  app_user: AppUserTable;
  user_session: UserSessionTable;
  api_token: ApiTokenTable;
  login_failure: LoginFailureTable;
}

export type UserRole = 'user' | 'operator';

export interface AppUserTable {
  id: Generated<number>;
  /** Lower-cased; the login name. */
  email: string;
  display_name: string;
  /** argon2id PHC string. */
  password_hash: string;
  /** 1: an operator set the password (migration 0013); the user must choose an own one first. */
  password_temporary: Generated<number>;
  role: UserRole;
  /** The organisation (CBS code of a municipality, or a head organisation's code); null for operators. */
  organisation_code: string | null;
  /** Base32 TOTP secret; set while enrolling, active once totp_enabled = 1. */
  totp_secret: string | null;
  totp_enabled: number;
  /** The 30-second step of the last code accepted; a code is taken once. */
  totp_last_step: number | string | null;
  /** ISO-8601 UTC */
  created_at: string;
  disabled_at: string | null;
}

export interface UserSessionTable {
  /** SHA-256 (hex) of the cookie value. */
  id: string;
  user_id: number;
  /** Synchronizer token for every form of this session. */
  csrf_token: string;
  /** 1 until the second factor is given (only for users with TOTP on). */
  pending_second_factor: number;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export interface ApiTokenTable {
  id: Generated<number>;
  /** The organisation the token acts for; null for an operator token. */
  organisation_code: string | null;
  scope: 'organisation' | 'operator';
  name: string;
  /** SHA-256 (hex) of the token. */
  token_hash: string;
  /** First characters, shown so users can tell tokens apart. */
  prefix: string;
  created_by: number | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface LoginFailureTable {
  id: Generated<number>;
  /**
   * `email:<SHA-256 of the address>`, `totp:<user id>`, or `ip:<address>` (of an IPv6 client its /64); no other
   * personal data.
   */
  throttle_key: string;
  at: string;
}
