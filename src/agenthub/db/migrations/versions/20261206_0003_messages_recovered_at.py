"""chat messages remember when start-up recovery took them up

``chat_messages.recovered_at``: set when a start takes an unanswered user message up
again; a message taken up once is never taken up again (a turn that ended in an error
is not stored, so without it such a message would look unanswered at every start).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column is added in place on both databases (no copy of the table).
    op.add_column('chat_messages', sa.Column('recovered_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Native on both databases (SQLite 3.35+), so `chat_messages` is not copied on SQLite.
    op.execute("ALTER TABLE chat_messages DROP COLUMN recovered_at")
