"""Recording changes, and reading them back. Every route that changes something records it
in the same transaction as the change (:meth:`Audit.record`), so a change and its record are
kept or lost together; a change made outside the database (an agent started or stopped) is
recorded in a transaction of its own once it is made (:meth:`Audit.record_alone`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.audit.models import AuditRecord
from agenthub.caller import Caller
from agenthub.db.engine import SessionFactory, session_scope


def record(
    session: AsyncSession,
    *,
    caller: Caller,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    address: str | None = None,
    org_id: str | None = None,
) -> None:
    """Add a record of a change (``action`` such as ``agent.update``). ``before`` and
    ``after`` must already have their secrets masked (``agents.schemas.mask_settings``) and
    be JSON (``model_dump(mode="json")``); ``org_id``: the organisation changed, when it is
    not the caller's."""
    session.add(AuditRecord(
        org_id=org_id or caller.org_id, actor_user_id=caller.user_id, actor_api_key_id=caller.api_key_id,
        action=action, resource_type=resource_type, resource_id=resource_id, address=address,
        before=before, after=after,
    ))


@dataclass(frozen=True, slots=True)
class Audit:
    """Records changes as made by one caller from one address: what a route gets from
    ``AuditDep`` (:mod:`agenthub.audit.deps`)."""

    caller: Caller
    address: str | None
    sessions: SessionFactory

    def record(
        self,
        session: AsyncSession,
        *,
        action: str,
        resource_type: str,
        resource_id: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        org_id: str | None = None,
    ) -> None:
        """:func:`record`, by this caller from this address, in ``session``."""
        record(
            session, caller=self.caller, action=action, resource_type=resource_type, resource_id=resource_id,
            before=before, after=after, address=self.address, org_id=org_id,
        )

    async def record_alone(
        self, *, action: str, resource_type: str, resource_id: str | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record a change made outside the database, in a transaction of its own."""
        async with session_scope(self.sessions) as session:
            self.record(session, action=action, resource_type=resource_type, resource_id=resource_id, after=after)


async def list_records(
    session: AsyncSession,
    *,
    org_id: str,
    limit: int,
    before_id: int | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    actor: str | None = None,
) -> list[AuditRecord]:
    """The organisation's records, newest first: at most ``limit``, older than ``before_id``
    when given; ``actor`` is a user's id or an API key's."""
    query = select(AuditRecord).where(AuditRecord.org_id == org_id)
    if before_id is not None:
        query = query.where(AuditRecord.id < before_id)
    if action is not None:
        query = query.where(AuditRecord.action == action)
    if resource_type is not None:
        query = query.where(AuditRecord.resource_type == resource_type)
    if actor is not None:
        query = query.where(or_(AuditRecord.actor_user_id == actor, AuditRecord.actor_api_key_id == actor))
    return list(await session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit)))
