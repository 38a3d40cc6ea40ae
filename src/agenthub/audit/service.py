"""Recording changes. Every route that changes something calls :func:`record` in the same
transaction as the change, so a change and its record are kept or lost together."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.audit.models import AuditRecord
from agenthub.caller import Caller


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
    ``after`` must already have their secrets masked (``agents.schemas.mask_settings``);
    ``org_id``: the organisation changed, when it is not the caller's."""
    session.add(AuditRecord(
        org_id=org_id or caller.org_id, actor_user_id=caller.user_id, actor_api_key_id=caller.api_key_id,
        action=action, resource_type=resource_type, resource_id=resource_id, address=address,
        before=before, after=after,
    ))
