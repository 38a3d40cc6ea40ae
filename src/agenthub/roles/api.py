"""Role routes: any authenticated caller reads the roles; the platform's operators (owners and
admins of the default organisation) reload them from their files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.requests import HTTPConnection

from agenthub.deps import CallerDep, OperatorDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses
from agenthub.roles import service
from agenthub.roles.library import ROLE_NAME_PATTERN, RoleLibrary
from agenthub.roles.schemas import RoleRead, RolesReloaded, RoleSummary, SkippedFile

router = APIRouter(prefix="/api/v1/roles", tags=["roles"], route_class=StrictJSONRoute)
RoleName = Annotated[str, Path(pattern=ROLE_NAME_PATTERN, description="The role's name")]


async def _library(connection: HTTPConnection) -> RoleLibrary:
    library: RoleLibrary = connection.app.state.roles
    return library


LibraryDep = Annotated[RoleLibrary, Depends(_library)]


@router.get("", response_model=list[RoleSummary])
async def list_roles(caller: CallerDep, library: LibraryDep) -> list[RoleSummary]:
    """The roles agents can call (`role_call`), shipped and from `ROLES_DIR`."""
    return [RoleSummary.of(role) for role in service.list_(library)]


@router.post(
    "/reload", response_model=RolesReloaded,
    responses=error_responses(403, meanings={403: "Not an owner or admin of the default organisation"}),
)
async def reload_roles(caller: OperatorDep, library: LibraryDep) -> RolesReloaded:
    """Read every role file again now. Edits are also picked up on their own: every process
    checks the files' modification times when it uses roles."""
    roles, skipped = service.reload(library)
    return RolesReloaded(roles=[RoleSummary.of(role) for role in roles], skipped=[SkippedFile.of(s) for s in skipped])


@router.get("/{name}", response_model=RoleRead, responses=error_responses(404, meanings={404: "No such role"}))
async def get_role(name: RoleName, caller: CallerDep, library: LibraryDep) -> RoleRead:
    """A role with its prompt."""
    return RoleRead.of(service.get(library, name=name))
