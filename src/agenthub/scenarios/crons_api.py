"""Routes of a bot's crons, ``/api/v1/bots/{bot_id}/crons``: thin; the logic is
:mod:`agenthub.scenarios.crons`. Another organisation's bot or cron is 404, as one that
does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from agenthub.deps import CallerDep, SessionDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses
from agenthub.scenarios import crons
from agenthub.scenarios.cron_schemas import CronCreate, CronList, CronRead, CronUpdate

router = APIRouter(prefix="/api/v1/bots/{bot_id}/crons", tags=["bots"], route_class=StrictJSONRoute)

BotId = Annotated[str, Path(min_length=1, max_length=64, description="The bot's id")]
CronId = Annotated[str, Path(min_length=1, max_length=64, description="The cron's id")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CronRead, responses=error_responses(404))
async def create_cron(bot_id: BotId, data: CronCreate, caller: CallerDep, session: SessionDep) -> CronRead:
    """A cron of the bot: at each time `cron` names on the wall clock of `timezone`, every
    session of the bot that has not ended enters `step_id` (and gets its message). It works
    from now on, without a publish; the step must be in the version the sessions run."""
    return CronRead.model_validate(await crons.create_cron(session, caller=caller, bot_id=bot_id, data=data))


@router.get("", response_model=CronList, responses=error_responses(404))
async def list_crons(bot_id: BotId, caller: CallerDep, session: SessionDep) -> CronList:
    rows, total = await crons.list_crons(session, caller=caller, bot_id=bot_id)
    return CronList(items=[CronRead.model_validate(row) for row in rows], total=total)


@router.get("/{cron_id}", response_model=CronRead, responses=error_responses(404))
async def get_cron(bot_id: BotId, cron_id: CronId, caller: CallerDep, session: SessionDep) -> CronRead:
    return CronRead.model_validate(await crons.get_cron(session, caller=caller, bot_id=bot_id, cron_id=cron_id))


@router.patch("/{cron_id}", response_model=CronRead, responses=error_responses(404))
async def update_cron(
    bot_id: BotId, cron_id: CronId, data: CronUpdate, caller: CallerDep, session: SessionDep
) -> CronRead:
    """Change the fields sent; a new `cron`, `timezone` or `enabled` computes `next_run_at` again."""
    return CronRead.model_validate(
        await crons.update_cron(session, caller=caller, bot_id=bot_id, cron_id=cron_id, data=data)
    )


@router.delete("/{cron_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_cron(bot_id: BotId, cron_id: CronId, caller: CallerDep, session: SessionDep) -> None:
    await crons.delete_cron(session, caller=caller, bot_id=bot_id, cron_id=cron_id)
