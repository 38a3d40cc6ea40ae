"""Budget routes: read your own, and (owners and admins) read and set a user's, the
organisation's or an API key's. Thin: the logic is in :mod:`agenthub.access.budget_admin`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.requests import HTTPConnection

from agenthub.access import budget_admin
from agenthub.access.budgets import BudgetGuard
from agenthub.billing.budgets import Subject
from agenthub.billing.schemas import BudgetRead, BudgetStatus, BudgetUpdate
from agenthub.deps import AdminDep, CallerDep, SessionDep, SessionFactoryDep, SettingsDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1", tags=["budgets"], route_class=StrictJSONRoute)
ADMINS_ONLY = error_responses(403, meanings={403: "Only an owner or admin of the organisation may (not an API key)"})
Id = Annotated[str, Path(min_length=1, max_length=160)]


def _guard(connection: HTTPConnection) -> BudgetGuard:
    return connection.app.state.budgets


GuardDep = Annotated[BudgetGuard, Depends(_guard)]


@router.get("/user/budget", response_model=BudgetStatus)
async def my_budget(caller: CallerDep, guard: GuardDep) -> BudgetStatus:
    """The caller's own budget (an API key's: the key's) in the current period; nulls when
    there is none. The organisation's budget applies as well (``PUT /orgs/{id}/budget``)."""
    subject: Subject = ("api_key", caller.api_key_id) if caller.api_key_id else ("user", caller.user_id or "")
    return BudgetStatus(**budget_admin.shown(await guard.standing(caller.org_id, subject)))


async def _set(
    subject: Subject, data: BudgetUpdate, session: SessionDep, caller: AdminDep, guard: GuardDep,
    settings: SettingsDep, http: Request,
) -> BudgetRead:
    standing = await budget_admin.set_budget(
        session, guard=guard, caller=caller, subject=subject, data=data,
        default_duration=settings.user_budget_duration, address=http.client.host if http.client else None,
    )
    return BudgetRead(**budget_admin.shown(standing))


async def _get(subject: Subject, sessions: SessionFactoryDep, caller: AdminDep, guard: GuardDep) -> BudgetStatus:
    standing = await budget_admin.get_budget(sessions, guard=guard, caller=caller, subject=subject)
    return BudgetStatus(**budget_admin.shown(standing))


@router.get("/users/{user_id}/budget", response_model=BudgetStatus, responses=ADMINS_ONLY)
async def user_budget(user_id: Id, sessions: SessionFactoryDep, caller: AdminDep, guard: GuardDep) -> BudgetStatus:
    """The budget of a user of your organisation (owners and admins); nulls when none applies."""
    return await _get(("user", user_id), sessions, caller, guard)


@router.put("/users/{user_id}/budget", response_model=BudgetRead, responses=ADMINS_ONLY)
async def set_user_budget(
    user_id: Id, data: BudgetUpdate, session: SessionDep, caller: AdminDep, guard: GuardDep,
    settings: SettingsDep, http: Request,
) -> BudgetRead:
    """Set the budget of a user of your organisation (owners and admins)."""
    return await _set(("user", user_id), data, session, caller, guard, settings, http)


@router.get("/orgs/{org_id}/budget", response_model=BudgetStatus, responses=ADMINS_ONLY)
async def org_budget(org_id: Id, sessions: SessionFactoryDep, caller: AdminDep, guard: GuardDep) -> BudgetStatus:
    """Your organisation's budget (owners and admins); nulls when it has none."""
    return await _get(("org", org_id), sessions, caller, guard)


@router.put("/orgs/{org_id}/budget", response_model=BudgetRead, responses=ADMINS_ONLY)
async def set_org_budget(
    org_id: Id, data: BudgetUpdate, session: SessionDep, caller: AdminDep, guard: GuardDep,
    settings: SettingsDep, http: Request,
) -> BudgetRead:
    """Set your organisation's budget: every turn of its users, API keys and end users counts
    against it, from when it is set (owners and admins)."""
    return await _set(("org", org_id), data, session, caller, guard, settings, http)


@router.get("/api-keys/{key_id}/budget", response_model=BudgetStatus, responses=ADMINS_ONLY)
async def api_key_budget(key_id: Id, sessions: SessionFactoryDep, caller: AdminDep, guard: GuardDep) -> BudgetStatus:
    """The budget of one of your organisation's API keys (owners and admins)."""
    return await _get(("api_key", key_id), sessions, caller, guard)


@router.put("/api-keys/{key_id}/budget", response_model=BudgetRead, responses=ADMINS_ONLY)
async def set_api_key_budget(
    key_id: Id, data: BudgetUpdate, session: SessionDep, caller: AdminDep, guard: GuardDep,
    settings: SettingsDep, http: Request,
) -> BudgetRead:
    """Set the budget of one of your organisation's API keys (owners and admins)."""
    return await _set(("api_key", key_id), data, session, caller, guard, settings, http)
