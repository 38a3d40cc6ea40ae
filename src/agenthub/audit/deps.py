"""``AuditDep``: what a route that changes something takes to record the change, by the
caller, from the client's address::

    async def create_thing(data: ThingCreate, session: SessionDep, audit: AuditDep) -> ThingRead:
        thing = await service.create(session, org_id=audit.caller.org_id, data=data)
        audit.record(session, action="thing.create", resource_type="thing", resource_id=thing.id,
                     after=ThingRead.model_validate(thing).model_dump(mode="json"))
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agenthub.audit.service import Audit
from agenthub.deps import AddressDep, CallerDep, SessionFactoryDep


def _audit(caller: CallerDep, address: AddressDep, sessions: SessionFactoryDep) -> Audit:
    return Audit(caller=caller, address=address, sessions=sessions)


AuditDep = Annotated[Audit, Depends(_audit)]
