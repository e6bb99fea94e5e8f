import type { Kysely } from 'kysely';
import type { DialectMigration } from './index.js';

/**
 * Two migrations were edited after a store could have applied them; a store that did keeps their first form:
 * - 0007 without `organisation_member.joined_at` (added to it 23 minutes after it landed): every query of
 *   the members failed with "no such column" after an upgrade, so no weekly was made;
 * - 0005 without dropping `link_key_msg`: an index that linking no longer reads but still writes to.
 * Both are put right here, and left alone where the store has them as they are now.
 * (`migrations.test.ts` pins every landed migration's text, so this does not happen again.)
 */
export const migration: DialectMigration = {
  async up(db: Kysely<unknown>) {
    const member = (await db.introspection.getTables()).find((t) => t.name === 'organisation_member');
    if (member && !member.columns.some((c) => c.name === 'joined_at'))
      await db.schema.alterTable('organisation_member').addColumn('joined_at', 'text').execute();
    await db.schema.dropIndex('link_key_msg').ifExists().execute();
  },

  // Nothing to undo: the schema is what 0005 and 0007 make today.
  async down() {},
};
