"""Who may grant which role in an organisation (``member`` < ``admin`` < ``owner``)."""

from __future__ import annotations

from agenthub.caller import Caller
from agenthub.errors import Forbidden


def check_may_grant(caller: Caller, role: str) -> None:
    """Only an owner may make an owner (by adding, inviting or promoting one): 403 for
    anyone else."""
    if role == "owner" and not caller.at_least("owner"):
        raise Forbidden("only an owner may make an owner")


def check_may_change(caller: Caller, role: str) -> None:
    """Only an owner may change or remove an owner: 403 for anyone else."""
    if role == "owner" and not caller.at_least("owner"):
        raise Forbidden("only an owner may change or remove an owner")
