"""template step keys: a session's step inside a template is `<instance>/<step>`

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ('scenario_sessions', 'step_id', True),
    ('scenario_step_events', 'step_id', False),
    ('scenario_delayed_moves', 'from_step_id', False),
    ('scenario_delayed_moves', 'next_step_id', False),
)
"""Columns naming a session's step: two keys and the separator fit in 160 characters."""


def _resize(old: int, new: int) -> None:
    for table, column, nullable in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=new),
                                  existing_nullable=nullable)


def upgrade() -> None:
    _resize(64, 160)


def downgrade() -> None:
    # What the older schema can't name: sessions inside a template go back to the start
    # (their caller's variables back), the templates' funnel events and delayed moves go.
    sessions = sa.table('scenario_sessions', sa.column('id', sa.String), sa.column('step_id', sa.String),
                        sa.column('frames', sa.JSON), sa.column('variables', sa.JSON))
    connection = op.get_bind()
    inside = connection.execute(sa.select(sessions.c.id, sessions.c.frames).where(sessions.c.step_id.like('%/%')))
    for session_id, frames in inside.all():
        caller = frames[0].get('caller') if isinstance(frames, list) and frames and isinstance(frames[0], dict) else None
        values: dict[str, Any] = {'step_id': None, 'frames': []} | ({'variables': caller} if isinstance(caller, dict) else {})
        connection.execute(sessions.update().where(sessions.c.id == session_id).values(**values))
    op.execute(sa.text("DELETE FROM scenario_step_events WHERE step_id LIKE '%/%'"))
    op.execute(sa.text("DELETE FROM scenario_delayed_moves WHERE from_step_id LIKE '%/%' OR next_step_id LIKE '%/%'"))
    _resize(160, 64)
