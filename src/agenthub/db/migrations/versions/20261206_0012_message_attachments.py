"""users' messages keep the files they came with

``chat_messages.attachments``: the file ids (``fil_...``) a user sent with a message, in
order; NULL for a message without any, and for every answer (an answer's attachments
travel on the bus only).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column is added in place on both databases (no copy of the table).
    op.add_column('chat_messages', sa.Column('attachments', sa.JSON(), nullable=True))


def downgrade() -> None:
    # Native on both databases (SQLite 3.35+), so `chat_messages` is not copied on SQLite.
    op.execute("ALTER TABLE chat_messages DROP COLUMN attachments")
