"""Settings with both kinds of a union (a header's value as text or as a credential; an
inline sub-agent and another agent) are written back as they were given, without a
serialiser warning in the server's log."""

from __future__ import annotations

import warnings

from agenthub.agents.intelligence import IntelligenceSettings

SETTINGS = {
    "agent_type": "multi_agent",
    "sub_agents": [
        {"name": "other", "description": "another agent", "agent_id": "helper"},
        {"name": "inline", "description": "defined here", "system_prompt": "Be brief."},
    ],
    "http_tools": [{
        "name": "lookup", "description": "looks up", "method": "GET", "url": "https://example.com/x",
        "headers": {"Accept": "application/json", "Authorization": {"credential_id": "cred_0123456789abcdef"}},
    }],
}


def test_both_members_of_each_union_serialise_as_given_without_warnings() -> None:
    settings = IntelligenceSettings.model_validate(SETTINGS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dumped = settings.model_dump(mode="json", exclude_defaults=True)
    assert dumped["sub_agents"][0] == SETTINGS["sub_agents"][0]
    assert dumped["sub_agents"][1] == SETTINGS["sub_agents"][1]
    assert dumped["http_tools"][0]["headers"] == SETTINGS["http_tools"][0]["headers"]
