"""The credentials an agent's settings name (its model's key, its Telegram bot's token, the
header values of its HTTP tools and MCP servers): each must be a credential of the agent's
organisation when it is saved, so a typo is a 422 naming the field rather than a failure at
the first message or the bot's start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.credentials.models import Credential
from agenthub.errors import InvalidInput


def named(settings: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(field, credential id)`` for every credential ``settings`` name."""
    if isinstance(settings.get("api_key_credential_id"), str):
        yield "settings.api_key_credential_id", settings["api_key_credential_id"]
    for index, integration in enumerate(settings.get("integrations") or []):
        credential = ((integration or {}).get("settings") or {}).get("credential_id")
        if isinstance(credential, str):
            yield f"settings.integrations.{index}.settings.credential_id", credential
    for kind in ("http_tools", "mcp_servers"):
        for index, item in enumerate(settings.get(kind) or []):
            for header, value in ((item or {}).get("headers") or {}).items():
                if isinstance(value, dict) and isinstance(value.get("credential_id"), str):
                    yield f"settings.{kind}.{index}.headers.{header}.credential_id", value["credential_id"]


async def check(session: AsyncSession, *, org_id: str, settings: dict[str, Any], before: dict[str, Any] | None) -> None:
    """InvalidInput naming the first field whose credential is not one of the organisation's;
    only ids that ``before`` did not name already are looked up (a credential deleted since
    does not block an unrelated edit: the agent says so when it uses it)."""
    known = {credential for _, credential in named(before or {})}
    wanted = [(field, credential) for field, credential in named(settings) if credential not in known]
    if not wanted:
        return
    found = set(await session.scalars(select(Credential.id).where(
        Credential.org_id == org_id, Credential.id.in_({credential for _, credential in wanted}),
    )))
    for field, credential in wanted:
        if credential not in found:
            raise InvalidInput(
                f"{field}: {credential!r} is no credential of the organisation (create one with POST /api/v1/credentials)",
                field=field, problem=f"{credential!r} is no credential of the organisation",
            )
