"""The roles: listed, read and reloaded from their files (see :mod:`agenthub.roles.library`).
Roles are the platform's, the same for every organisation."""

from __future__ import annotations

from agenthub.errors import NotFound
from agenthub.roles.library import Role, RoleLibrary, Skipped


def list_(library: RoleLibrary) -> list[Role]:
    return library.roles()


def get(library: RoleLibrary, *, name: str) -> Role:
    role = library.get(name)
    if role is None:
        raise NotFound(f"role {name!r} not found (roles: {', '.join(library.names()) or 'none'})")
    return role


def reload(library: RoleLibrary) -> tuple[list[Role], list[Skipped]]:
    return library.reload()
