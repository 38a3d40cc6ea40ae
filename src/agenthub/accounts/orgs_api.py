"""Organisation routes: the caller's organisation, its members and its invitations. Thin:
the rules are in :mod:`agenthub.accounts.members` and :mod:`agenthub.accounts.invitations`.

Only users (not API keys) use them. Another organisation's id is 404, whatever the caller's
role: it is not told apart from an id nobody has. Any member reads the organisation and
its members; owners and admins change them and manage invitations (403 for a member)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from agenthub.accounts import invitations, members
from agenthub.accounts.api import AuthenticatorDep, PasswordHasherDep
from agenthub.accounts.schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    InvitationRead,
    MemberCreate,
    MemberList,
    MemberRead,
    MemberUpdate,
    OrganizationRead,
    OrganizationUpdate,
)
from agenthub.caller import Caller
from agenthub.deps import AddressDep, SessionDep, UserDep
from agenthub.errors import Forbidden, NotFound
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/orgs", tags=["organisations"], route_class=StrictJSONRoute)
Id = Annotated[str, Path(min_length=1, max_length=64)]


async def _member_of(org_id: Id, caller: UserDep) -> Caller:
    """A user of the organisation ``org_id``; 404 for anyone else."""
    if org_id != caller.org_id:
        raise NotFound(f"no organisation with the id {org_id!r}")
    return caller


async def _admin_of(caller: Annotated[Caller, Depends(_member_of)]) -> Caller:
    """An owner or admin of the organisation ``org_id``; 404 for another organisation's
    users, 403 for its members."""
    if not caller.at_least("admin"):
        raise Forbidden("only an owner or admin of the organisation may do this")
    return caller


MemberOf = Annotated[Caller, Depends(_member_of)]
AdminOf = Annotated[Caller, Depends(_admin_of)]
_READ = error_responses(403, 404)
_CHANGE = error_responses(403, 404, 409)


@router.get("/{org_id}", response_model=OrganizationRead, responses=_READ)
async def get_organization(caller: MemberOf, session: SessionDep) -> OrganizationRead:
    organization = await members.get_organization(session, org_id=caller.org_id)
    return OrganizationRead(id=organization.id, name=organization.name, role=caller.role)  # type: ignore[arg-type]


@router.patch("/{org_id}", response_model=OrganizationRead, responses=_READ)
async def rename_organization(
    data: OrganizationUpdate, caller: AdminOf, session: SessionDep, address: AddressDep
) -> OrganizationRead:
    organization = await members.rename_organization(session, caller=caller, name=data.name, address=address)
    return OrganizationRead(id=organization.id, name=organization.name, role=caller.role)  # type: ignore[arg-type]


@router.get("/{org_id}/members", response_model=MemberList, responses=_READ)
async def list_members(caller: MemberOf, session: SessionDep) -> MemberList:
    users = await members.list_members(session, org_id=caller.org_id)
    return MemberList(items=[MemberRead.model_validate(user) for user in users])


@router.post(
    "/{org_id}/members", status_code=status.HTTP_201_CREATED, response_model=MemberRead,
    responses=error_responses(403, 404, 409, meanings={409: "The e-mail has an account already"}),
)
async def add_member(
    data: MemberCreate, caller: AdminOf, session: SessionDep, address: AddressDep, hasher: PasswordHasherDep
) -> MemberRead:
    """A user of this organisation who can log in at once with the password given."""
    return MemberRead.model_validate(
        await members.add_member(session, caller=caller, data=data, address=address, hasher=hasher)
    )


@router.patch("/{org_id}/members/{user_id}", response_model=MemberRead, responses=_CHANGE)
async def update_member(
    user_id: Id, data: MemberUpdate, caller: AdminOf, session: SessionDep, authenticator: AuthenticatorDep,
    address: AddressDep,
) -> MemberRead:
    """Change a member's role or username; a new role holds at once."""
    user = await members.update_member(session, caller=caller, user_id=user_id, data=data, address=address)
    read = MemberRead.model_validate(user)
    await session.commit()
    authenticator.forget()
    return read


@router.delete("/{org_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_CHANGE)
async def remove_member(
    user_id: Id, caller: AdminOf, session: SessionDep, authenticator: AuthenticatorDep, address: AddressDep
) -> None:
    """Delete the member's account: their tokens get 401 at once."""
    await members.remove_member(session, caller=caller, user_id=user_id, address=address)
    await session.commit()
    authenticator.forget()


@router.post(
    "/{org_id}/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationCreated,
    responses=_READ,
)
async def create_invitation(
    data: InvitationCreate, caller: AdminOf, session: SessionDep, address: AddressDep
) -> InvitationCreated:
    """An invitation: its ``token`` is shown only here. The invitee registers with
    ``{"invitation": token}`` and joins with its role."""
    made = await invitations.create(session, caller=caller, data=data, address=address)
    invitation = made.invitation
    return InvitationCreated(
        id=invitation.id, token=made.token, role=invitation.role,  # type: ignore[arg-type]
        expires_at=invitation.expires_at,  # type: ignore[arg-type]
        email=invitation.email, max_uses=invitation.max_uses,
    )


@router.get("/{org_id}/invitations", response_model=InvitationList, responses=_READ)
async def list_invitations(caller: AdminOf, session: SessionDep) -> InvitationList:
    """Every invitation not revoked, with how often it was used (never its token)."""
    found = await invitations.list_(session, org_id=caller.org_id)
    return InvitationList(items=[InvitationRead.model_validate(invitation) for invitation in found])


@router.delete("/{org_id}/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_READ)
async def revoke_invitation(invitation_id: Id, caller: AdminOf, session: SessionDep, address: AddressDep) -> None:
    await invitations.revoke(session, caller=caller, invitation_id=invitation_id, address=address)
