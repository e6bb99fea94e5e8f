/** The portal's one-time flash (migration 0024_one_time_flash); see src/http/flash.ts. */
export interface FlashTables {
  one_time_flash: OneTimeFlashTable;
}

export interface OneTimeFlashTable {
  /** HMAC-SHA256 (hex) of the flash key: the session id in it cannot be read or matched from the store alone. */
  key: string;
  /** `v1:<key id>:<base64url(nonce | tag | ciphertext)>`, AES-256-GCM (it can be an API token). */
  value: string;
  /** ISO-8601 UTC: not shown from then on. */
  until: string;
}
