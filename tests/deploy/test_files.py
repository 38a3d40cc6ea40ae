"""The deployment files (Dockerfile, compose.yaml, .env.example, .dockerignore) checked by
reading them, as a reviewer would: no Docker needed. Every command they run is a real
``agenthub`` command with options it takes, and every variable they set is a setting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from typer.main import get_command

from agenthub import cli
from agenthub.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}
SECRETS = {
    name.upper() for name, field in Settings.model_fields.items()
    if SecretStr in getattr(field.annotation, "__args__", (field.annotation,))
}
"""The settings that hold secrets (``SecretStr``)."""
AGENTHUB_SERVICES = ("migrate", "gateway", "worker")
"""The services that run the AgentHub image."""


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _instruction(name: str) -> list[str]:
    return [arguments for instruction, arguments in _dockerfile() if instruction == name]


def _env_example() -> dict[str, bool]:
    """Every variable .env.example names: True when set, False when commented out."""
    names: dict[str, bool] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        active = re.fullmatch(r"([A-Z][A-Z0-9_]*)=.*", line)
        commented = re.fullmatch(r"# ([A-Z][A-Z0-9_]*)=.*", line)
        if active:
            names[active[1]] = True
        elif commented:
            names.setdefault(commented[1], False)
    return names


def _compose_variables() -> set[str]:
    """The ``${NAME...}`` compose fills in from .env."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "compose.yaml").read_text()))


def assert_cli_command(args: list[str]) -> None:
    """``agenthub *args`` names a command and gives it only options it takes (its parser
    reads them as the real run would, without running anything; a usage error if not)."""
    command: Any = get_command(cli.app)
    context = command.context_class(command, info_name="agenthub")
    words = list(args)
    while hasattr(command, "list_commands"):  # a group: the next word names a command of it
        assert words, f"agenthub {' '.join(args)}: no command"
        name = words.pop(0)
        found = command.get_command(context, name)
        assert found is not None, f"agenthub has no command {name!r} ({' '.join(args)})"
        command = found
        context = command.context_class(command, info_name=name, parent=context)
    command.make_context(context.info_name, words, parent=context.parent)


def _usage_error(error: BaseException) -> bool:
    return isinstance(error, AssertionError) or any(c.__name__ == "UsageError" for c in type(error).__mro__)


def _agenthub_args(argv: list[str]) -> list[str]:
    assert "agenthub" in argv, argv
    return argv[argv.index("agenthub") + 1:]


# --- compose.yaml ---------------------------------------------------------------------------


def test_compose_runs_the_whole_stack() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", *AGENTHUB_SERVICES}
    for name in AGENTHUB_SERVICES:
        assert services[name]["build"] == "."
        assert "agenthub-data:/data" in services[name]["volumes"]
    assert services["gateway"]["command"] == ["serve"]
    assert services["worker"]["command"][0] == "worker"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["postgres"]["volumes"])
    assert set(_compose()["volumes"]) >= {"agenthub-data", "postgres-data"}


def test_every_long_running_service_has_a_health_check_and_starts_after_what_it_needs() -> None:
    services = _compose()["services"]
    for name in ("postgres", "redis", "gateway", "worker"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert check["interval"] and check["retries"] >= 1, name
    assert services["migrate"]["healthcheck"] == {"disable": True}  # a one-shot, not a server
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("gateway", "worker"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name


def test_the_agenthub_services_run_real_cli_commands() -> None:
    services = _compose()["services"]
    for name in AGENTHUB_SERVICES:
        assert_cli_command(services[name]["command"])
    for name in ("gateway", "worker"):
        assert_cli_command(_agenthub_args(services[name]["healthcheck"]["test"][1:]))
    assert services["worker"]["healthcheck"]["test"][-1] == "--worker"


def test_the_checker_refuses_what_the_cli_would() -> None:
    for wrong in (["serv"], ["serve", "--no-such-option"], ["worker", "extra"], ["sandbox"], ["health", "--port", "1"]):
        with pytest.raises(Exception) as refused:
            assert_cli_command(wrong)
        assert _usage_error(refused.value), (wrong, refused.value)


def test_every_variable_compose_sets_is_a_setting() -> None:
    services = _compose()["services"]
    for name in AGENTHUB_SERVICES:
        environment = services[name]["environment"]
        assert set(environment) <= SETTINGS, (name, set(environment) - SETTINGS)
        assert environment["DATABASE_URL"].startswith("postgresql://agenthub:${POSTGRES_PASSWORD")
        assert environment["DATABASE_URL"].endswith("@postgres:5432/agenthub")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["DATA_DIR"] == "/data"
        assert services[name]["env_file"] == ".env"
    gateway = services["gateway"]
    assert gateway["environment"]["MANAGER_HOST"] == "0.0.0.0"
    port = gateway["environment"]["MANAGER_PORT"]
    assert gateway["ports"] == [f"${{AGENTHUB_PORT:-{port}}}:{port}"]


def test_compose_refuses_to_start_without_the_secrets_it_needs() -> None:
    text = (ROOT / "compose.yaml").read_text()
    for name in ("POSTGRES_PASSWORD", "SECRET_BOX_KEY"):
        assert re.search(r"\$\{" + name + r":\?[^}]+\}", text), name
    # Nothing secret is written into the file itself.
    assert not re.search(r"(?i)password: [^$]", text)


# --- .env.example ---------------------------------------------------------------------------


def test_env_example_names_only_settings_and_compose_variables() -> None:
    names = _env_example()
    unknown = set(names) - SETTINGS - _compose_variables()
    assert not unknown, f".env.example names what nothing reads: {sorted(unknown)}"
    assert {"POSTGRES_PASSWORD", "SECRET_BOX_KEY", "ROOT_PATH", "ADMIN_EMAIL", "AGENTHUB_PORT"} <= set(names)
    assert _compose_variables() <= set(names), "each ${VARIABLE} of compose.yaml is documented in .env.example"


def test_env_example_holds_no_secret_and_its_values_are_valid_settings() -> None:
    values = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if re.match(r"[A-Z]", line)
    )
    for name in SECRETS | {"POSTGRES_PASSWORD"}:
        assert values.get(name, "") == "", f"{name} must be generated, not shipped"
    # What is set (secrets left out: compose refuses them empty) is valid as AgentHub reads it.
    shown = {k.lower(): v for k, v in values.items() if k in SETTINGS and k not in SECRETS}
    settings = Settings(_env_file=None, **shown)
    assert settings.root_path == ""


# --- Dockerfile and .dockerignore -----------------------------------------------------------


def test_the_image_runs_agenthub_as_a_user_of_its_own() -> None:
    bases = _instruction("FROM")
    assert bases and all(base.split()[0].startswith("python:3.11-slim") for base in bases)
    users = _instruction("USER")
    assert users and users[-1] not in ("root", "0"), users
    runs = " ".join(_instruction("RUN"))
    assert "pip install ." in runs  # the project, with the pins of pyproject.toml
    assert re.search(r"apt-get install [^&]*\bbubblewrap\b", runs)
    assert re.search(r"apt-get install [^&]*\btini\b", runs)
    assert _instruction("EXPOSE") == [str(Settings.model_fields["manager_port"].default)]
    assert _instruction("VOLUME") == ['["/data"]']


def test_the_image_starts_and_checks_real_commands() -> None:
    entrypoint = json.loads(_instruction("ENTRYPOINT")[-1])
    command = json.loads(_instruction("CMD")[-1])
    assert entrypoint[:2] == ["tini", "--"]
    assert_cli_command(_agenthub_args(entrypoint) + command)
    healthcheck = _instruction("HEALTHCHECK")[-1]
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert_cli_command(_agenthub_args(probe))


def test_the_image_bakes_in_no_secret_and_only_known_settings() -> None:
    variables: set[str] = set()
    for arguments in _instruction("ENV"):
        variables |= set(re.findall(r"([A-Z][A-Z0-9_]*)=", arguments))
    ours = {name for name in variables if not name.startswith(("PYTHON", "PIP_")) and name != "PATH"}
    assert ours <= SETTINGS, ours - SETTINGS
    assert not ours & SECRETS
    assert not _instruction("ARG")  # no build argument to pass a secret through
    copies = " ".join(_instruction("COPY"))
    assert ".env" not in copies


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build() -> None:
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for pattern in (".env", ".git", ".venv", "data", "tests"):
        assert pattern in ignored, pattern
    for needed in ("src", "pyproject.toml", "README.md"):  # what the build copies
        assert needed not in ignored, needed
