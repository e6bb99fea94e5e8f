import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Versioned migrations, applied in name order. One file per concern, numbered; a migration gets the
 * dialect so it can choose types (bigserial vs integer primary key, bytea vs blob) where they differ.
 * Never edit a migration that has landed: add a new one.
 */
export type DialectMigration = {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
  down?(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
};

const MIGRATIONS: Record<string, () => Promise<{ migration: DialectMigration }>> = {
  '0001_ingest': () => import('./0001_ingest.js'),
  '0002_deliveries': () => import('./0002_deliveries.js'),
  '0003_links': () => import('./0003_links.js'),
  '0004_accounts': () => import('./0004_accounts.js'),
  '0005_link_bookkeeping': () => import('./0005_link_bookkeeping.js'),
  '0006_indicators': () => import('./0006_indicators.js'),
  '0007_member_catch_up': () => import('./0007_member_catch_up.js'),
  '0008_message_before_history': () => import('./0008_message_before_history.js'),
  '0009_delivery_pending': () => import('./0009_delivery_pending.js'),
  '0010_totp_last_step': () => import('./0010_totp_last_step.js'),
  '0011_link_from_lapsing': () => import('./0011_link_from_lapsing.js'),
  '0012_exchange_content_digest': () => import('./0012_exchange_content_digest.js'),
  '0013_user_password_temporary': () => import('./0013_user_password_temporary.js'),
  '0014_link_lapsing_predicate': () => import('./0014_link_lapsing_predicate.js'),
  '0015_exchange_quarantine': () => import('./0015_exchange_quarantine.js'),
  '0016_job_run_attempts': () => import('./0016_job_run_attempts.js'),
  '0017_link_key_info_backfill': () => import('./0017_link_key_info_backfill.js'),
  '0018_store_secret': () => import('./0018_store_secret.js'),
  '0019_organisation_personal_data': () => import('./0019_organisation_personal_data.js'),
  '0020_delivery_personal_data': () => import('./0020_delivery_personal_data.js'),
  '0021_landed_migration_repairs': () => import('./0021_landed_migration_repairs.js'),
  '0022_link_replan_pending': () => import('./0022_link_replan_pending.js'),
  '0023_ingest_run_last_batch': () => import('./0023_ingest_run_last_batch.js'),
  '0024_one_time_flash': () => import('./0024_one_time_flash.js'),
  '0025_delivery_catch_up': () => import('./0025_delivery_catch_up.js'),
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, load] of Object.entries(MIGRATIONS)) {
        const { migration } = await load();
        out[name] = {
          up: (db) => migration.up(db, dialect),
          ...(migration.down ? { down: (db: Kysely<unknown>) => migration.down!(db, dialect) } : {}),
        };
      }
      return out;
    },
  };
}
