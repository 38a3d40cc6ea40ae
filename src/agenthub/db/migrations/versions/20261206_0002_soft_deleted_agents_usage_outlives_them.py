"""soft-deleted agents; token usage outlives them

Agents get ``deleted_at`` (a deleted agent is hidden until purged); token usage logs lose
their foreign key to agents, so deleting or purging an agent never cascades into billing
records.

Downgrading purges what the old schema could not keep: agents deleted meanwhile (with their
chats and messages) and usage logs of agents that no longer exist (the old schema cascaded
them away).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USAGE_FK = 'fk_token_usage_logs_agent_id_agents'


def upgrade() -> None:
    # Adding a column and an index needs no copy of the table on SQLite (a copy of
    # `agents` would cascade-delete its chats when the old table is dropped).
    op.add_column('agents', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_agents_deleted_at'), 'agents', ['deleted_at'], unique=False)
    # SQLite drops a constraint by copying the table; nothing refers to this one.
    with op.batch_alter_table('token_usage_logs', schema=None) as batch_op:
        batch_op.drop_constraint(USAGE_FK, type_='foreignkey')


def downgrade() -> None:
    deleted = "SELECT id FROM agents WHERE deleted_at IS NOT NULL"
    op.execute(f"DELETE FROM chat_messages WHERE agent_id IN ({deleted})")
    op.execute(f"DELETE FROM chats WHERE agent_id IN ({deleted})")
    op.execute("DELETE FROM agents WHERE deleted_at IS NOT NULL")
    op.execute("DELETE FROM token_usage_logs WHERE agent_id NOT IN (SELECT id FROM agents)")
    with op.batch_alter_table('token_usage_logs', schema=None) as batch_op:
        batch_op.create_foreign_key(USAGE_FK, 'agents', ['agent_id'], ['id'], ondelete='CASCADE')
    op.drop_index(op.f('ix_agents_deleted_at'), table_name='agents')
    # Native on both databases (SQLite 3.35+), so `agents` is not copied on SQLite.
    op.execute("ALTER TABLE agents DROP COLUMN deleted_at")
