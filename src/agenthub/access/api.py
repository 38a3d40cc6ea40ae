"""Routes of API keys (``/api/v1/api-keys``) and of an agent's authorisations
(``/api/v1/agents/{id}/authorizations``). Thin: the logic is in :mod:`agenthub.access.keys`,
:mod:`agenthub.accounts.api_keys` and :mod:`agenthub.access.authorizations`.

Keys are made, listed and revoked by users (an API key gets 403): any member for their
own keys, owners and admins for every key of the organisation. Authorisations are granted
and revoked by owners and admins. Every change is in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from starlette.requests import HTTPConnection

from agenthub.access import authorizations
from agenthub.access.keys import create_key
from agenthub.access.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
    AuthorizationCreate,
    AuthorizationList,
    AuthorizationRead,
)
from agenthub.accounts import api_keys
from agenthub.accounts.authenticate import AccountsAuthenticator
from agenthub.accounts.models import AgentAuthorization
from agenthub.agents.schemas import AGENT_ID_PATTERN
from agenthub.audit import service as audit
from agenthub.deps import AdminDep, SessionDep, UserDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

keys_router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"], route_class=StrictJSONRoute)
authorizations_router = APIRouter(prefix="/api/v1/agents", tags=["agents"], route_class=StrictJSONRoute)

AgentId = Annotated[str, Path(pattern=AGENT_ID_PATTERN, description="The agent's id")]
KeyId = Annotated[str, Path(max_length=64, description="The key's id")]
AuthorizationId = Annotated[str, Path(max_length=64, description="The authorisation's id")]


def _authenticator(connection: HTTPConnection) -> AccountsAuthenticator:
    return connection.app.state.authenticator


def _address(connection: HTTPConnection) -> str | None:
    """The client's address, for the audit log."""
    return connection.client.host if connection.client else None


AuthenticatorDep = Annotated[AccountsAuthenticator, Depends(_authenticator)]
AddressDep = Annotated[str | None, Depends(_address)]


@keys_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated,
    responses=error_responses(404, meanings={404: "An agent of `agent_ids` is not one of the organisation's"}),
)
async def create_api_key(data: ApiKeyCreate, session: SessionDep, caller: UserDep, address: AddressDep) -> ApiKeyCreated:
    """A key for programs; `key` is shown in this answer only."""
    api_key, key = await create_key(session, caller=caller, name=data.name, agent_ids=data.agent_ids)
    audit.record(
        session, caller=caller, action="api_key.create", resource_type="api_key", resource_id=api_key.id,
        after=api_keys.described(api_key), address=address,
    )
    return ApiKeyCreated(
        id=api_key.id, name=api_key.name, key=key, prefix=api_key.prefix, agent_ids=api_key.agent_ids,
        created_at=api_key.created_at,
    )


@keys_router.get("", response_model=ApiKeyList)
async def list_api_keys(session: SessionDep, caller: UserDep) -> ApiKeyList:
    """The keys not revoked: all of the organisation's for an owner or admin, a member's own otherwise."""
    return ApiKeyList(items=[ApiKeyRead.model_validate(k) for k in await api_keys.list_(session, caller=caller)])


@keys_router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(
    key_id: KeyId, session: SessionDep, caller: UserDep, authenticator: AuthenticatorDep, address: AddressDep
) -> None:
    """Revoke a key: it is refused (401) from now on."""
    api_key = await api_keys.revoke(session, caller=caller, key_id=key_id)
    audit.record(
        session, caller=caller, action="api_key.delete", resource_type="api_key", resource_id=api_key.id,
        before=api_keys.described(api_key), address=address,
    )
    await session.commit()
    authenticator.forget()


@authorizations_router.post(
    "/{agent_id}/authorizations", status_code=status.HTTP_201_CREATED, response_model=AuthorizationRead,
    responses=error_responses(409, meanings={409: "The sender is authorised for this agent already"}),
)
async def grant_authorization(
    agent_id: AgentId, data: AuthorizationCreate, session: SessionDep, caller: AdminDep, address: AddressDep
) -> AuthorizationRead:
    """Let a sender chat with the agent when its `access` is `authorized`."""
    authorization = await authorizations.grant(
        session, org_id=caller.org_id, agent_id=agent_id, channel=data.channel,
        platform_user_id=data.platform_user_id,
    )
    audit.record(
        session, caller=caller, action="authorization.create", resource_type="agent_authorization",
        resource_id=authorization.id, after=authorizations.described(authorization, handle=agent_id),
        address=address,
    )
    return _shown(authorization, agent_id)


@authorizations_router.get("/{agent_id}/authorizations", response_model=AuthorizationList)
async def list_authorizations(agent_id: AgentId, session: SessionDep, caller: AdminDep) -> AuthorizationList:
    rows = await authorizations.list_(session, org_id=caller.org_id, agent_id=agent_id)
    return AuthorizationList(items=[_shown(row, agent_id) for row in rows])


def _shown(authorization: AgentAuthorization, handle: str) -> AuthorizationRead:
    """An authorisation as the agent's organisation reads it: naming the agent by its handle."""
    return AuthorizationRead.model_validate(authorization).model_copy(update={"agent_id": handle})


@authorizations_router.delete("/{agent_id}/authorizations/{authorization_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_authorization(
    agent_id: AgentId, authorization_id: AuthorizationId, session: SessionDep, caller: AdminDep, address: AddressDep
) -> None:
    authorization = await authorizations.revoke(
        session, org_id=caller.org_id, agent_id=agent_id, authorization_id=authorization_id
    )
    audit.record(
        session, caller=caller, action="authorization.delete", resource_type="agent_authorization",
        resource_id=authorization.id, before=authorizations.described(authorization, handle=agent_id),
        address=address,
    )
