"""a stopped answer is marked in the history

``chat_messages.stopped``: true on an answer stopped on request while it was being written
(its text is what had been written), false on every other message, stored ones included.
The history, a reconnecting client's replay and an export say so as the live ``message``
event did (``"stopped": true``).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A column with a constant default is added in place on both databases (no copy of the
    # table, no rewrite on PostgreSQL 11+); stored messages read false.
    op.add_column(
        'chat_messages', sa.Column('stopped', sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    # Native on both databases (SQLite 3.35+), so `chat_messages` is not copied on SQLite.
    op.execute("ALTER TABLE chat_messages DROP COLUMN stopped")
