"""answers keep their buttons and files

``chat_messages.widget``: the buttons a bot's message came with (``{"buttons": [{"text",
"value"}]}``), NULL for a message without any and for every user's message. A bot's
attachments go in ``chat_messages.attachments`` (file ids, in order), as a user's do since
0012: the history, a reconnecting client's replay and an export show both as they came live.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column is added in place on both databases (no copy of the table).
    op.add_column('chat_messages', sa.Column('widget', sa.JSON(), nullable=True))


def downgrade() -> None:
    # Native on both databases (SQLite 3.35+), so `chat_messages` is not copied on SQLite.
    op.execute("ALTER TABLE chat_messages DROP COLUMN widget")
