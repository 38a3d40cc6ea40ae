"""scenario bots and files

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bots',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('first_step_id', sa.String(length=64), nullable=True),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('draft_revision', sa.Integer(), nullable=False),
    sa.Column('published_revision', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['agents.id'], name=op.f('fk_bots_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_bots_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bots'))
    )
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bots_org_id'), ['org_id'], unique=False)

    op.create_table('files',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=512), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_files_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files'))
    )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_files_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_templates',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('outputs', sa.JSON(), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_templates_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_templates'))
    )
    with op.batch_alter_table('scenario_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_templates_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_user_variables',
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_user_variables_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'user_key', name=op.f('pk_scenario_user_variables'))
    )
    op.create_table('bot_versions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_bot_versions_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_bot_versions_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_versions')),
    sa.UniqueConstraint('bot_id', 'version', name=op.f('uq_bot_versions_bot_id'))
    )
    with op.batch_alter_table('bot_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_versions_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_versions_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_requests',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('body_type', sa.String(length=16), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('timeout', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_requests_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_requests_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_requests'))
    )
    with op.batch_alter_table('scenario_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_requests_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_requests_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('chat_id', sa.String(length=128), nullable=True),
    sa.Column('step_id', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('frames', sa.JSON(), nullable=False),
    sa.Column('last_message_id', sa.String(length=64), nullable=True),
    sa.Column('last_reply', sa.JSON(), nullable=True),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_sessions_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_sessions_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_sessions')),
    sa.UniqueConstraint('bot_id', 'user_key', 'channel', name=op.f('uq_scenario_sessions_bot_id'))
    )
    with op.batch_alter_table('scenario_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_sessions_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_sessions_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_step_events',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_step_events_bot_id_bots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_scenario_step_events'))
    )
    with op.batch_alter_table('scenario_step_events', schema=None) as batch_op:
        batch_op.create_index('ix_scenario_step_events_bot_at', ['bot_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_step_events_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_steps',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('message', sa.JSON(), nullable=False),
    sa.Column('is_proxy', sa.Boolean(), nullable=False),
    sa.Column('preset_id', sa.String(length=64), nullable=True),
    sa.Column('emitter', sa.JSON(), nullable=True),
    sa.Column('template_instance', sa.JSON(), nullable=True),
    sa.Column('position', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_steps_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_steps_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_steps'))
    )
    with op.batch_alter_table('scenario_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_steps_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_steps_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_bot_crons',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('cron', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_bot_crons_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_bot_crons_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['step_id'], ['scenario_steps.id'], name=op.f('fk_scenario_bot_crons_step_id_scenario_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_bot_crons'))
    )
    with op.batch_alter_table('scenario_bot_crons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_bot_crons_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_bot_crons_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_bot_crons_org_id'), ['org_id'], unique=False)

    op.create_table('scenario_connection_groups',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=True),
    sa.Column('order', sa.Integer(), nullable=False),
    sa.Column('search_type', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('code', sa.Text(), nullable=True),
    sa.Column('llm', sa.JSON(), nullable=True),
    sa.Column('integration', sa.JSON(), nullable=True),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_connection_groups_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_connection_groups_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['scenario_requests.id'], name=op.f('fk_scenario_connection_groups_request_id_scenario_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['step_id'], ['scenario_steps.id'], name=op.f('fk_scenario_connection_groups_step_id_scenario_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_connection_groups'))
    )
    with op.batch_alter_table('scenario_connection_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_connection_groups_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_connection_groups_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_connection_groups_step_id'), ['step_id'], unique=False)

    op.create_table('scenario_delayed_moves',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('from_step_id', sa.String(length=64), nullable=False),
    sa.Column('next_step_id', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_delayed_moves_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_delayed_moves_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['scenario_sessions.id'], name=op.f('fk_scenario_delayed_moves_session_id_scenario_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_delayed_moves'))
    )
    with op.batch_alter_table('scenario_delayed_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_delayed_moves_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_delayed_moves_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_delayed_moves_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_delayed_moves_session_id'), ['session_id'], unique=False)

    op.create_table('scenario_connections',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('next_step_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_scenario_connections_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['scenario_connection_groups.id'], name=op.f('fk_scenario_connections_group_id_scenario_connection_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['next_step_id'], ['scenario_steps.id'], name=op.f('fk_scenario_connections_next_step_id_scenario_steps'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_scenario_connections_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_connections'))
    )
    with op.batch_alter_table('scenario_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_connections_bot_id'), ['bot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_connections_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_connections_next_step_id'), ['next_step_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_connections_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scenario_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_connections_org_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_connections_next_step_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_connections_group_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_connections_bot_id'))

    op.drop_table('scenario_connections')
    with op.batch_alter_table('scenario_delayed_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_delayed_moves_session_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_delayed_moves_org_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_delayed_moves_due_at'))
        batch_op.drop_index(batch_op.f('ix_scenario_delayed_moves_bot_id'))

    op.drop_table('scenario_delayed_moves')
    with op.batch_alter_table('scenario_connection_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_connection_groups_step_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_connection_groups_org_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_connection_groups_bot_id'))

    op.drop_table('scenario_connection_groups')
    with op.batch_alter_table('scenario_bot_crons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_bot_crons_org_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_bot_crons_next_run_at'))
        batch_op.drop_index(batch_op.f('ix_scenario_bot_crons_bot_id'))

    op.drop_table('scenario_bot_crons')
    with op.batch_alter_table('scenario_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_steps_org_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_steps_bot_id'))

    op.drop_table('scenario_steps')
    with op.batch_alter_table('scenario_step_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_step_events_org_id'))
        batch_op.drop_index('ix_scenario_step_events_bot_at')

    op.drop_table('scenario_step_events')
    with op.batch_alter_table('scenario_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_sessions_org_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_sessions_bot_id'))

    op.drop_table('scenario_sessions')
    with op.batch_alter_table('scenario_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_requests_org_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_requests_bot_id'))

    op.drop_table('scenario_requests')
    with op.batch_alter_table('bot_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_versions_org_id'))
        batch_op.drop_index(batch_op.f('ix_bot_versions_bot_id'))

    op.drop_table('bot_versions')
    op.drop_table('scenario_user_variables')
    with op.batch_alter_table('scenario_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_templates_org_id'))

    op.drop_table('scenario_templates')
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_files_org_id'))

    op.drop_table('files')
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bots_org_id'))

    op.drop_table('bots')
