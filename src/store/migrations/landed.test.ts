import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The text of every migration as it landed. A store applies a migration once: editing one afterwards
 * reaches only new stores (0007 gained a column after it landed, and upgraded stores then failed every
 * query of the members; 0021 repairs them). Change the schema with a new migration; a pin changes only
 * for a comment, knowingly. A new migration gets its pin when it is written.
 */
const LANDED: Record<string, string> = {
  '0001_ingest': '22cb95efb43d0801',
  '0002_deliveries': '1d14ea2f37ed317e',
  '0003_links': 'c4de5dd51024d42a',
  '0004_accounts': 'd50847d5772b4e99',
  '0005_link_bookkeeping': '62031aece080286c',
  '0006_indicators': 'a858e7dc1725645e',
  '0007_member_catch_up': 'afc5e9622a365512',
  '0008_message_before_history': '2efbbf9b1b93ac69',
  '0009_delivery_pending': '2e2dc282148cdeb9',
  '0010_totp_last_step': '2c009a2855f166d8',
  '0011_link_from_lapsing': 'f0f1674013ed8228',
  '0012_exchange_content_digest': '6145f71cba403308',
  '0013_user_password_temporary': '3df8f14bfafe9836',
  '0014_link_lapsing_predicate': 'f801f1b1d973cc20',
  '0015_exchange_quarantine': '2a9c8e091b538175',
  '0016_job_run_attempts': '404fca4d186ad220',
  '0017_link_key_info_backfill': 'e877219bb43d1c06',
  '0018_store_secret': '276b4ae5e75b50fc',
  '0019_organisation_personal_data': '7b51a2c52e351ff4',
  '0020_delivery_personal_data': '5f357443fa9ddfb6',
  '0021_landed_migration_repairs': '369edee52ae370bf',
  '0022_link_replan_pending': '2fe5b604a2008722',
  '0023_ingest_run_last_batch': '8c8dde8ba774c553',
  '0024_one_time_flash': 'ef432b4d96a530e0',
  '0025_delivery_catch_up': '073e661c65042c99',
};

const dir = new URL('.', import.meta.url);
const pinOf = (file: string) =>
  createHash('sha256')
    .update(readFileSync(new URL(file, dir), 'utf8').replace(/\r\n/g, '\n'))
    .digest('hex')
    .slice(0, 16);
const migrations = readdirSync(dir)
  .filter((f) => /^\d{4}_.+\.ts$/.test(f) && !f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

describe('landed migrations', () => {
  it('are each pinned, and none is pinned that is not there', () => {
    expect(migrations).toEqual(Object.keys(LANDED).sort());
  });

  it.each(migrations)('%s is as it landed (add a new migration instead of editing it)', (name) => {
    expect(pinOf(`${name}.ts`), `${name}.ts changed after it landed`).toBe(LANDED[name]);
  });
});
