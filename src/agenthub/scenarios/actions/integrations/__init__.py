"""``integration`` groups: one module per integration, and the registry that runs them.

An integration is a module with ``NAME`` (``telegram.send_message``), ``DESCRIPTION``,
``Config`` (a pydantic model: its JSON Schema is what the group's ``config`` takes) and
``async def run(config, call, deps) -> dict``. The group's ``config`` has ``{$scope.key$}``
substituted in every string, is validated against ``Config`` (a problem is an error result
naming the field), and ``run``'s dict is the result; whatever goes wrong is
``{"error": ...}``, never an exception.

The registry is built by whoever builds :class:`ActionDeps` (:func:`default_integrations`
holds the built-in ones); nothing registers itself at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ValidationError

from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.variables import substitute

log = logging.getLogger(__name__)

Run = Callable[[Any, ActionCall, ActionDeps], Awaitable[dict[str, Any]]]
BUILT_IN_NAMES = ("discord.execute_webhook", "email.send", "random.number", "telegram.send_message")
"""The names of :func:`default_integrations`, known without importing the integrations (what
a bot may name when it is saved)."""


class IntegrationFailed(Exception):
    """What an integration's result says went wrong (its ``error``)."""


@dataclass(frozen=True)
class Integration:
    name: str
    description: str
    config: type[BaseModel]
    run: Run

    @classmethod
    def of_module(cls, module: ModuleType) -> Integration:
        return cls(name=module.NAME, description=module.DESCRIPTION, config=module.Config, run=module.run)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "config_schema": self.config.model_json_schema()}


class IntegrationRegistry:
    def __init__(self, integrations: Iterable[Integration]) -> None:
        self._by_name: dict[str, Integration] = {}
        for integration in integrations:
            if integration.name in self._by_name:
                raise ValueError(f"two integrations named {integration.name!r}")
            self._by_name[integration.name] = integration

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get(self, name: str) -> Integration | None:
        return self._by_name.get(name)

    def describe(self) -> list[dict[str, Any]]:
        """Each integration with the JSON Schema of its config, by name."""
        return [self._by_name[name].describe() for name in self.names]


def default_integrations() -> IntegrationRegistry:
    """The built-in integrations: ``telegram.send_message``, ``email.send``,
    ``discord.execute_webhook``, ``random.number``."""
    from agenthub.scenarios.actions.integrations import discord, email, random_number, telegram

    modules = (telegram, email, discord)
    return IntegrationRegistry([*(Integration.of_module(module) for module in modules), random_number.integration()])


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "config"
    return f"config.{where}: {first['msg']}"


async def run_integration(call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    """The ``integration`` action (see the module); never raises."""
    settings = call.group.integration
    if settings is None:
        return {"error": "the group names no integration"}
    registry: IntegrationRegistry = deps.integrations or default_integrations()
    integration = registry.get(settings.name)
    if integration is None:
        return {"error": f"no integration {settings.name!r} (there are: {', '.join(registry.names)})"}
    try:
        config = integration.config.model_validate(substitute(settings.config, call.scopes))
    except ValidationError as error:
        return {"error": _problem(error)}
    try:
        return await integration.run(config, call, deps)
    except IntegrationFailed as error:
        return {"error": str(error)}
    except Exception as error:  # noqa: BLE001 - a session never crashes on an integration
        log.warning("integration %s failed unexpectedly", settings.name, exc_info=True, extra={"bot_id": call.bot_id})
        return {"error": f"{settings.name} failed: {type(error).__name__}"}
