"""The sandbox's configuration from SANDBOX_* settings: maxima, the pool, required layers."""

from __future__ import annotations

import pytest

from agenthub.app import create_app
from agenthub.config import ConfigurationError, Settings
from agenthub.sandbox.limits import DEFAULT_LIMITS, Limits, asked
from agenthub.sandbox.settings import LAYER_NAMES, pool_config
from tests.support.server import make_settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_the_defaults_allow_the_default_limits_and_name_no_required_layer() -> None:
    config = pool_config(_settings())
    assert config.size == 4
    assert config.required_layers == ()
    assert config.user == "nobody"
    assert config.bubblewrap == "auto"
    assert config.tmp_bytes == 16 * 1024 * 1024
    # A step that asks for nothing gets the defaults: 5 s, 2 s of CPU, 256 MB, 1 MB.
    assert asked(None, maxima=config.maxima) == DEFAULT_LIMITS == Limits(5.0, 2.0, 256, 1024 * 1024, 1024 * 1024)


def test_the_maxima_come_from_the_settings_and_cap_what_a_step_asks() -> None:
    config = pool_config(_settings(
        sandbox_pool_size=2, sandbox_max_wall_seconds=8, sandbox_max_cpu_seconds=3, sandbox_max_memory_mb=512,
        sandbox_max_output_bytes=4096, sandbox_max_result_bytes=2048, sandbox_tmp_mb=4, sandbox_user="65534",
        sandbox_bubblewrap="off",
    ))
    assert config.size == 2
    assert config.maxima == Limits(wall_seconds=8, cpu_seconds=3, memory_mb=512, output_bytes=4096, result_bytes=2048)
    assert config.tmp_bytes == 4 * 1024 * 1024
    assert (config.user, config.bubblewrap) == ("65534", "off")
    # More than a maximum is brought down to it; less is kept.
    limits = asked({"wall_seconds": 60, "cpu_seconds": 1, "memory_mb": 4096}, maxima=config.maxima)
    assert (limits.wall_seconds, limits.cpu_seconds, limits.memory_mb) == (8, 1, 512)
    # A maximum below a default lowers the default too.
    assert asked(None, maxima=config.maxima).output_bytes == 4096


def test_required_layers_are_read_as_names_whatever_the_spacing_and_case() -> None:
    config = pool_config(_settings(sandbox_required_layers=" seccomp, Landlock ,,bubblewrap,seccomp, private-tmpfs"))
    assert config.required_layers == ("seccomp", "landlock", "bubblewrap", "private_tmpfs")
    every = pool_config(_settings(sandbox_required_layers=",".join(LAYER_NAMES)))
    assert every.required_layers == LAYER_NAMES
    assert "missing" not in LAYER_NAMES


@pytest.mark.parametrize("value", ["seccmp", "landlock,network", "missing"])
def test_an_unknown_required_layer_is_refused_naming_it_and_the_known_ones(value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        pool_config(_settings(sandbox_required_layers=value))
    message = str(refused.value)
    assert "SANDBOX_REQUIRED_LAYERS" in message
    assert value.split(",")[-1] in message
    assert "known: process, rlimits, language, seccomp, landlock, bubblewrap, unprivileged_user, private_tmpfs" in message


def test_the_app_refuses_to_be_built_with_an_unknown_required_layer(sqlite_url: str) -> None:
    """A typo in SANDBOX_REQUIRED_LAYERS stops start-up (serve: one line, exit code 2)
    instead of quietly requiring less than the operator asked for."""
    with pytest.raises(ConfigurationError, match="seccomp2"):
        create_app(make_settings(database_url=sqlite_url, sandbox_required_layers="seccomp2"))


def test_test_servers_start_a_sandbox_of_one_process(sqlite_url: str) -> None:
    assert pool_config(make_settings(database_url=sqlite_url)).size == 1
