/** The master secret the store was built with (migration 0018_store_secret); see docs/keys.md. */
export interface KeyTables {
  store_secret: StoreSecretTable;
}

export interface StoreSecretTable {
  /** Always 1: one row per store. */
  id: number;
  /**
   * `keyId` of the pseudonym key derived from the master secret: a public fingerprint that tells secrets
   * apart and reveals nothing of the key or the secret.
   */
  key_id: string;
  /** ISO-8601 UTC: when it was recorded (the first use of a secret, or the `raw-rekey` that moved it). */
  recorded_at: string;
}
