"""agent handles: the id an organisation names its agent by, unique within the organisation

``agents.id`` stays the global, internal id (runtime, bus keys, chats, usage); every
existing agent's handle is its id. Both steps work in place on SQLite and PostgreSQL (no
copy of ``agents``, which would cascade into its chats).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('agents', sa.Column('handle', sa.String(64), nullable=True))
    op.execute("UPDATE agents SET handle = id")
    op.create_index(op.f('ix_agents_org_id_handle'), 'agents', ['org_id', 'handle'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_agents_org_id_handle'), table_name='agents')
    # Native on both databases (SQLite 3.35+): the table is not copied on SQLite.
    op.execute("ALTER TABLE agents DROP COLUMN handle")
