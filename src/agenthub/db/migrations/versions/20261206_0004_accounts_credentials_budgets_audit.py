"""accounts, API keys, agent authorisations, credentials, budgets, daily usage, audit log

The organisation every row so far belongs to (``default``) is created here, so existing
agents, chats and usage stay where they were.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'organizations',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('template_agent_id', sa.String(64), nullable=True),
        _when('created_at'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    )
    op.execute("INSERT INTO organizations (id, name, created_at) VALUES ('default', 'Default', CURRENT_TIMESTAMP)")
    op.create_table(
        'platform_secrets',
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('value', sa.String(200), nullable=False),
        _when('created_at'),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_platform_secrets')),
    )
    op.create_table(
        'users',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('email', sa.String(320), nullable=False),
        sa.Column('username', sa.String(200), nullable=False),
        sa.Column('password_hash', sa.String(200), nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('role', sa.String(16), nullable=False),
        _when('created_at'),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_users_org_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
        sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    )
    op.create_index(op.f('ix_users_org_id'), 'users', ['org_id'])
    op.create_table(
        'auth_sessions',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('refresh_token_hash', sa.String(64), nullable=False),
        _when('expires_at'),
        _when('revoked_at', nullable=True),
        _when('created_at'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
        sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_auth_sessions_refresh_token_hash')),
    )
    op.create_index(op.f('ix_auth_sessions_user_id'), 'auth_sessions', ['user_id'])
    op.create_table(
        'invitations',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('email', sa.String(320), nullable=True),
        sa.Column('role', sa.String(16), nullable=False),
        sa.Column('max_uses', sa.Integer(), nullable=False),
        sa.Column('uses', sa.Integer(), nullable=False),
        _when('expires_at', nullable=True),
        sa.Column('created_by', sa.String(64), nullable=True),
        _when('created_at'),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_invitations_org_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash')),
    )
    op.create_index(op.f('ix_invitations_org_id'), 'invitations', ['org_id'])
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=True),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('prefix', sa.String(32), nullable=False),
        sa.Column('key_hash', sa.String(64), nullable=False),
        sa.Column('agent_ids', sa.JSON(), nullable=True),
        _when('created_at'),
        _when('last_used_at', nullable=True),
        _when('revoked_at', nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_api_keys_org_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash')),
    )
    op.create_index(op.f('ix_api_keys_org_id'), 'api_keys', ['org_id'])
    op.create_table(
        'agent_authorizations',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('agent_id', sa.String(64), nullable=False),
        sa.Column('channel', sa.String(32), nullable=False),
        sa.Column('platform_user_id', sa.String(128), nullable=False),
        _when('created_at'),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_authorizations_agent_id_agents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_authorizations')),
        sa.UniqueConstraint('agent_id', 'channel', 'platform_user_id',
                            name=op.f('uq_agent_authorizations_agent_id')),
    )
    op.create_index(op.f('ix_agent_authorizations_org_id'), 'agent_authorizations', ['org_id'])
    op.create_index(op.f('ix_agent_authorizations_agent_id'), 'agent_authorizations', ['agent_id'])
    op.create_table(
        'credentials',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('type', sa.String(64), nullable=False),
        sa.Column('sealed_value', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(64), nullable=True),
        _when('created_at'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials')),
    )
    op.create_index(op.f('ix_credentials_org_id'), 'credentials', ['org_id'])
    op.create_table(
        'budgets',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('scope', sa.String(16), nullable=False),
        sa.Column('subject_id', sa.String(160), nullable=False),
        sa.Column('max_budget', sa.Numeric(18, 8), nullable=False),
        sa.Column('budget_duration', sa.String(16), nullable=True),
        _when('period_started_at'),
        _when('updated_at'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_budgets')),
        sa.UniqueConstraint('scope', 'subject_id', name=op.f('uq_budgets_scope')),
    )
    op.create_index(op.f('ix_budgets_org_id'), 'budgets', ['org_id'])
    op.create_table(
        'daily_usage',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(160), nullable=False),
        sa.Column('agent_id', sa.String(64), nullable=False),
        sa.Column('model', sa.String(128), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('turns', sa.Integer(), nullable=False),
        sa.Column('input_tokens', sa.BigInteger(), nullable=False),
        sa.Column('output_tokens', sa.BigInteger(), nullable=False),
        sa.Column('cost', sa.Numeric(18, 8), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_usage')),
        sa.UniqueConstraint('org_id', 'user_id', 'agent_id', 'model', 'day', name=op.f('uq_daily_usage_org_id')),
    )
    op.create_index(op.f('ix_daily_usage_org_id'), 'daily_usage', ['org_id'])
    op.create_index(op.f('ix_daily_usage_day'), 'daily_usage', ['day'])
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('actor_user_id', sa.String(64), nullable=True),
        sa.Column('actor_api_key_id', sa.String(64), nullable=True),
        sa.Column('action', sa.String(64), nullable=False),
        sa.Column('resource_type', sa.String(64), nullable=False),
        sa.Column('resource_id', sa.String(128), nullable=True),
        sa.Column('address', sa.String(64), nullable=True),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        _when('created_at'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index(op.f('ix_audit_log_org_id'), 'audit_log', ['org_id'])
    op.create_index(op.f('ix_audit_log_created_at'), 'audit_log', ['created_at'])
    # Nullable columns are added in place on both databases (no copy of the table).
    op.add_column('token_usage_logs', sa.Column('user_id', sa.String(160), nullable=True))
    op.add_column('token_usage_logs', sa.Column('api_key_id', sa.String(64), nullable=True))
    op.create_index(op.f('ix_token_usage_logs_user_id'), 'token_usage_logs', ['user_id'])
    op.create_index(op.f('ix_token_usage_logs_api_key_id'), 'token_usage_logs', ['api_key_id'])
    op.add_column('agents', sa.Column('owner_user_id', sa.String(64), nullable=True))
    op.create_index(op.f('ix_agents_owner_user_id'), 'agents', ['owner_user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_agents_owner_user_id'), table_name='agents')
    # Native on both databases (SQLite 3.35+): the tables are not copied on SQLite.
    op.execute("ALTER TABLE agents DROP COLUMN owner_user_id")
    op.drop_index(op.f('ix_token_usage_logs_api_key_id'), table_name='token_usage_logs')
    op.drop_index(op.f('ix_token_usage_logs_user_id'), table_name='token_usage_logs')
    op.execute("ALTER TABLE token_usage_logs DROP COLUMN api_key_id")
    op.execute("ALTER TABLE token_usage_logs DROP COLUMN user_id")
    for table in ('audit_log', 'daily_usage', 'budgets', 'credentials', 'agent_authorizations', 'api_keys',
                  'invitations', 'auth_sessions', 'users', 'platform_secrets', 'organizations'):
        op.drop_table(table)
