"""long-term memory: core blocks, archival memory, conversation summaries; whose memory a
chat message belongs to (``chat_messages.user_key``)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'memory_blocks',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('agent_id', sa.String(64), sa.ForeignKey('agents.id', ondelete='CASCADE'), nullable=False),
        sa.Column('user_key', sa.String(192), nullable=False),
        sa.Column('label', sa.String(64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('limit', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('agent_id', 'user_key', 'label', name='uq_memory_blocks_agent_user_label'),
    )
    op.create_table(
        'archival_passages',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('agent_id', sa.String(64), sa.ForeignKey('agents.id', ondelete='CASCADE'), nullable=False),
        sa.Column('user_key', sa.String(192), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('normalized', sa.String(64), nullable=False),
        sa.Column('model', sa.String(128), nullable=False),
        sa.Column('vector', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_archival_passages_agent_user', 'archival_passages', ['agent_id', 'user_key', 'model'])
    op.create_table(
        'conversation_summaries',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('agent_id', sa.String(64), sa.ForeignKey('agents.id', ondelete='CASCADE'), nullable=False),
        sa.Column('chat_id', sa.String(128), nullable=False),
        sa.Column('up_to_position', sa.Integer(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        'ix_conversation_summaries_agent_chat', 'conversation_summaries', ['agent_id', 'chat_id', 'up_to_position']
    )
    with op.batch_alter_table('chat_messages') as batch:
        batch.add_column(sa.Column('user_key', sa.String(192), nullable=True))
    op.create_index('ix_chat_messages_agent_user_key', 'chat_messages', ['agent_id', 'user_key'])


def downgrade() -> None:
    op.drop_index('ix_chat_messages_agent_user_key', table_name='chat_messages')
    with op.batch_alter_table('chat_messages') as batch:
        batch.drop_column('user_key')
    op.drop_index('ix_conversation_summaries_agent_chat', table_name='conversation_summaries')
    op.drop_table('conversation_summaries')
    op.drop_index('ix_archival_passages_agent_user', table_name='archival_passages')
    op.drop_table('archival_passages')
    op.drop_table('memory_blocks')
