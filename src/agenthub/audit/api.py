"""``GET /api/v1/audit``: the organisation's audit log, for its owners and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agenthub.audit import service
from agenthub.audit.schemas import AuditPage, AuditRecordRead
from agenthub.deps import AdminDep, SessionDep
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage, responses=error_responses(403, meanings={403: "Not an owner or admin"}))
async def list_audit_records(
    session: SessionDep,
    caller: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only records older than this id")] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_.]+$")] = None,
    resource_type: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_.]+$")] = None,
    actor: Annotated[
        str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="A user's or an API key's id")
    ] = None,
) -> AuditPage:
    """Newest first."""
    records = await service.list_records(
        session, org_id=caller.org_id, limit=limit + 1, before_id=before,
        action=action, resource_type=resource_type, actor=actor,
    )
    items = [AuditRecordRead.model_validate(r) for r in records[:limit]]
    return AuditPage(items=items, next_before=items[-1].id if len(records) > limit else None)
