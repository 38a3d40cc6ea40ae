"""Roles as clients read them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agenthub.roles.library import Role, Skipped


class RoleSummary(BaseModel):
    name: str = Field(description="The role's name: its file's name without `.md`")
    description: str
    agent_type: Literal["simple", "chain", "multi_agent", "rag"] = Field(
        description="The agent type the role is meant to run as"
    )
    tools: list[str] = Field(description="The built-in tools the role uses")

    @classmethod
    def of(cls, role: Role) -> RoleSummary:
        return cls(name=role.name, description=role.description, agent_type=role.agent_type,  # type: ignore[arg-type]
                   tools=list(role.tools))


class RoleRead(RoleSummary):
    prompt: str = Field(description="The role's system prompt (the file's text after its front matter)")
    source: Literal["shipped", "roles_dir"] = Field(
        description="Where the role comes from: the package, or a file of `ROLES_DIR` (adding or overriding)"
    )

    @classmethod
    def of(cls, role: Role) -> RoleRead:
        return cls(
            name=role.name, description=role.description, agent_type=role.agent_type,  # type: ignore[arg-type]
            tools=list(role.tools), prompt=role.prompt, source="shipped" if role.shipped else "roles_dir",
        )


class SkippedFile(BaseModel):
    file: str = Field(description="The file's name")
    reason: str

    @classmethod
    def of(cls, skipped: Skipped) -> SkippedFile:
        return cls(file=skipped.file, reason=skipped.reason)


class RolesReloaded(BaseModel):
    roles: list[RoleSummary] = Field(description="The roles read from the files now")
    skipped: list[SkippedFile] = Field(description="Role files that are not valid, and why (each logged as a warning)")
