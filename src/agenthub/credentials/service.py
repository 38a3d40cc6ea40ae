"""Credentials of an organisation: made, listed, deleted, and opened for the runtime. No
HTTP here. The value is sealed before it is stored (:mod:`agenthub.credentials.secret_box`)
and opened in one place only, :func:`reveal`; audit records name a credential, never its
value."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.audit import service as audit_service
from agenthub.caller import Caller
from agenthub.credentials.models import Credential
from agenthub.credentials.schemas import CredentialCreate
from agenthub.credentials.secret_box import CredentialBox, SealedWithAnotherKey
from agenthub.errors import NotFound

RESOURCE = "credential"


def new_credential_id() -> str:
    return f"cred_{uuid.uuid4().hex[:16]}"


def _shown(credential: Credential) -> dict[str, Any]:
    """What an audit record keeps of a credential: no value, sealed or not."""
    return {"name": credential.name, "type": credential.type}


async def create(
    session: AsyncSession, *, caller: Caller, data: CredentialCreate, box: CredentialBox, address: str | None = None
) -> Credential:
    credential = Credential(
        id=new_credential_id(),
        org_id=caller.org_id,
        name=data.name,
        type=data.type,
        sealed_value=box.seal(data.value.get_secret_value()),
        created_by=caller.user_id,
    )
    session.add(credential)
    audit_service.record(
        session, caller=caller, action="credential.create", resource_type=RESOURCE, resource_id=credential.id,
        after=_shown(credential), address=address,
    )
    await session.flush()
    return credential


async def list_(session: AsyncSession, *, org_id: str) -> list[Credential]:
    found = await session.scalars(
        select(Credential).where(Credential.org_id == org_id).order_by(Credential.created_at, Credential.id)
    )
    return list(found)


async def get(session: AsyncSession, *, org_id: str, credential_id: str) -> Credential:
    """The organisation's credential; NotFound for another organisation's, as for none."""
    credential = await session.scalar(
        select(Credential).where(Credential.id == credential_id, Credential.org_id == org_id)
    )
    if credential is None:
        raise NotFound(f"credential {credential_id!r} not found")
    return credential


async def delete(
    session: AsyncSession, *, caller: Caller, credential_id: str, address: str | None = None
) -> None:
    credential = await get(session, org_id=caller.org_id, credential_id=credential_id)
    audit_service.record(
        session, caller=caller, action="credential.delete", resource_type=RESOURCE, resource_id=credential.id,
        before=_shown(credential), address=address,
    )
    await session.delete(credential)
    await session.flush()


async def reveal(session: AsyncSession, org_id: str, credential_id: str, box: CredentialBox) -> str:
    """The plain value of the organisation's credential, for the runtime to use at once
    (the caller registers it with the log redaction). NotFound for another organisation's.
    The only place a value is opened."""
    credential = await get(session, org_id=org_id, credential_id=credential_id)
    try:
        return box.open(credential.sealed_value)
    except SealedWithAnotherKey as error:
        raise SealedWithAnotherKey(f"credential {credential_id!r}: {error.message}") from None


async def reseal_all(session: AsyncSession, *, old: CredentialBox, new: CredentialBox) -> int:
    """Every credential of every organisation sealed again under ``new`` (opened with
    ``old``): all or none, in the caller's transaction. Raises SealedWithAnotherKey, naming
    the credential, when ``old`` does not open one; returns how many were re-sealed."""
    credentials = list(await session.scalars(select(Credential).order_by(Credential.id).with_for_update()))
    for credential in credentials:
        try:
            value = old.open(credential.sealed_value)
        except SealedWithAnotherKey as error:
            raise SealedWithAnotherKey(f"credential {credential.id!r}: {error.message}") from None
        credential.sealed_value = new.seal(value)
    await session.flush()
    return len(credentials)
