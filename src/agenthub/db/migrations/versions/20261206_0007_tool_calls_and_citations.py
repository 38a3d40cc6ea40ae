"""an answer's tool calls and citations

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_messages') as batch:
        batch.add_column(sa.Column('tool_calls', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('citations', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_messages') as batch:
        batch.drop_column('citations')
        batch.drop_column('tool_calls')
