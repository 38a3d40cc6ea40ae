"""Which parts of the organisation's bot drafts name a file: the steps whose message
attaches it, the requests that send it, the templates whose steps or requests do. Published
versions are frozen documents and are not looked at."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.files import service as files_service
from agenthub.scenarios.models import Request, Step, Template
from agenthub.scenarios.service import live


def _names(part: dict[str, Any], file_id: str) -> bool:
    return any(named == file_id for _where, named in files_service.named_in(part))


def _template_names(document: dict[str, Any], file_id: str) -> bool:
    parts = [*(document.get("steps") or []), *(document.get("requests") or [])]
    return any(_names(part, file_id) for part in parts if isinstance(part, dict))


async def naming(session: AsyncSession, *, org_id: str, file_id: str) -> dict[str, list[str]]:
    """The ids of the steps, requests and templates (of bots not deleted) naming ``file_id``."""
    steps = await session.scalars(
        live(Step).where(Step.org_id == org_id, cast(Step.message, String).contains(file_id)).order_by(Step.id)
    )
    requests = await session.scalars(
        live(Request).where(Request.org_id == org_id, cast(Request.files, String).contains(file_id))
        .order_by(Request.id)
    )
    templates = await session.scalars(
        select(Template).where(Template.org_id == org_id, cast(Template.document, String).contains(file_id))
        .order_by(Template.id)
    )
    return {
        "steps": [s.id for s in steps if _names({"message": s.message}, file_id)],
        "requests": [r.id for r in requests if _names({"files": r.files}, file_id)],
        "templates": [t.id for t in templates if _template_names(t.document or {}, file_id)],
    }
