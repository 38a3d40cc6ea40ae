"""Credential routes: thin; the logic is in :mod:`agenthub.credentials.service`. Values go
in and never come out; without a key (production without ``SECRET_BOX_KEY``) every route
answers 503 ``secret_box_key_missing``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from starlette.requests import HTTPConnection

from agenthub.credentials import service
from agenthub.credentials.schemas import CredentialCreate, CredentialList, CredentialRead
from agenthub.credentials.secret_box import CredentialBox, SecretBoxKeyMissing
from agenthub.deps import AdminDep, CallerDep, SessionDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/credentials", tags=["credentials"], route_class=StrictJSONRoute)
CredentialId = Annotated[str, Path(max_length=64, description="The credential's id")]
NO_KEY = error_responses(
    503, meanings={503: "`secret_box_key_missing`: SECRET_BOX_KEY is not set on the server"}
)


def _box(connection: HTTPConnection) -> CredentialBox:
    box: CredentialBox | None = getattr(connection.app.state, "secret_box", None)
    if box is None:
        raise SecretBoxKeyMissing()
    return box


def _address(connection: HTTPConnection) -> str | None:
    return connection.client.host if connection.client else None


BoxDep = Annotated[CredentialBox, Depends(_box)]
AddressDep = Annotated[str | None, Depends(_address)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=CredentialRead,
    responses={**NO_KEY, **error_responses(403, meanings={403: "Only an owner or admin may add credentials"})},
)
async def create_credential(
    data: CredentialCreate, caller: AdminDep, box: BoxDep, session: SessionDep, address: AddressDep
) -> CredentialRead:
    """Store a secret (a bot token, a provider's API key, an HTTP header) encrypted; the
    answer names it, and configurations refer to it by its ``id``. The value is never shown."""
    credential = await service.create(session, caller=caller, data=data, box=box, address=address)
    return CredentialRead.model_validate(credential)


@router.get("", response_model=CredentialList, responses=NO_KEY)
async def list_credentials(caller: CallerDep, _box: BoxDep, session: SessionDep) -> CredentialList:
    credentials = await service.list_(session, org_id=caller.org_id)
    return CredentialList(items=[CredentialRead.model_validate(c) for c in credentials], total=len(credentials))


@router.get("/{credential_id}", response_model=CredentialRead, responses={**NO_KEY, **error_responses(404)})
async def get_credential(
    credential_id: CredentialId, caller: CallerDep, _box: BoxDep, session: SessionDep
) -> CredentialRead:
    return CredentialRead.model_validate(
        await service.get(session, org_id=caller.org_id, credential_id=credential_id)
    )


@router.delete(
    "/{credential_id}", status_code=status.HTTP_204_NO_CONTENT,
    responses={**NO_KEY, **error_responses(403, 404, meanings={403: "Only an owner or admin may delete credentials"})},
)
async def delete_credential(
    credential_id: CredentialId, caller: AdminDep, _box: BoxDep, session: SessionDep, address: AddressDep
) -> None:
    """Delete it: agents that name it get no key from it after their next restart."""
    await service.delete(session, caller=caller, credential_id=credential_id, address=address)
