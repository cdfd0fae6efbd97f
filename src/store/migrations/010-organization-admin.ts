import type { Kysely } from 'kysely';

/**
 * Organization administration (MK.IO Management API): an organization's editable profile (its display name and
 * legal details; `organizations.name` stays the fixed key first boot looks up), invitations, and teams that grant
 * roles on scopes to members.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organization_profiles')
    .addColumn('organization_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('legal_entity_name', 'text')
    .addColumn('legal_entity_address', 'text')
    .addColumn('legal_entity_officer', 'text')
    .addColumn('legal_entity_contact_email', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('organization_invites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    // Lower case, as users.email is stored.
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    // JSON array of team names joined on acceptance.
    .addColumn('teams', 'text', (c) => c.notNull())
    .addColumn('invited_by_email', 'text', (c) => c.notNull())
    .addColumn('invited_by_name', 'text', (c) => c.notNull())
    // sha256 of the one-time set-up code of an invitation to an e-mail with no Reel account (null otherwise).
    .addColumn('setup_hash', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('organization_invites_email', ['organization_id', 'email'])
    .execute();
  await db.schema.createIndex('organization_invites_by_email').on('organization_invites').column('email').execute();
  await db.schema
    .createTable('teams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('teams_organization_name', ['organization_id', 'name'])
    .execute();
  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('is_team_admin', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'user_id'])
    .execute();
  await db.schema.createIndex('team_members_by_user').on('team_members').column('user_id').execute();
  await db.schema
    .createTable('team_roles')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    // 'organization', or the id of a project (a deleted project's rows are ignored, and dropped on the next edit).
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_roles_pk', ['team_id', 'scope', 'role'])
    .execute();
}
