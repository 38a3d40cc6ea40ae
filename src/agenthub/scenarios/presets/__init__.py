"""Presets: a whole piece of a bot (an IF/ELSE, a question that checks its answer, an A/B
split...) made in one call, ``POST /api/v1/bots/{id}/presets`` ``{"preset", "config"}``.

One module per preset (:mod:`.base` says what a preset is); :func:`default_presets` builds
the registry of the built-in ones, explicitly: nothing registers itself at import time.
Applying one is :func:`agenthub.scenarios.presets.service.apply_preset`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agenthub.scenarios.presets.base import Preset


class PresetRegistry:
    def __init__(self, presets: Iterable[Preset]) -> None:
        self._by_name: dict[str, Preset] = {}
        for preset in presets:
            if preset.name in self._by_name:
                raise ValueError(f"two presets named {preset.name!r}")
            self._by_name[preset.name] = preset

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    @property
    def presets(self) -> list[Preset]:
        return list(self._by_name.values())

    def get(self, name: str) -> Preset | None:
        return self._by_name.get(name)

    def describe(self) -> list[dict[str, Any]]:
        """Each preset with the JSON Schema of its config, in the registry's order."""
        return [preset.describe() for preset in self._by_name.values()]


def default_presets() -> PresetRegistry:
    """The built-in presets: message, conditional, switch, delay, code, integration, ask, split."""
    from agenthub.scenarios.presets import action, ask, conditional, delay, message, split, switch

    return PresetRegistry([
        Preset(message.NAME, message.DESCRIPTION, message.Config, message.build),
        Preset(conditional.NAME, conditional.DESCRIPTION, conditional.Config, conditional.build),
        Preset(switch.NAME, switch.DESCRIPTION, switch.Config, switch.build),
        Preset(delay.NAME, delay.DESCRIPTION, delay.Config, delay.build),
        Preset(action.CODE, action.CODE_DESCRIPTION, action.CodeConfig, action.build_code),
        Preset(action.INTEGRATION, action.INTEGRATION_DESCRIPTION, action.IntegrationConfig, action.build_integration),
        Preset(ask.NAME, ask.DESCRIPTION, ask.Config, ask.build),
        Preset(split.NAME, split.DESCRIPTION, split.Config, split.build),
    ])
