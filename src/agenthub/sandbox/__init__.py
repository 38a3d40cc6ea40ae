"""The code sandbox: untrusted Python (code steps of scenario bots) run safely, in milliseconds.

One interface: a ``SandboxPool`` built from settings (``pool_config(settings)``), started
once, then ``await pool.run(code, message=..., variables=..., limits=...)`` for each run,
which always returns a ``Result`` (``ok`` with the value, or an error with a kind a bot
builder understands) and never raises. See ``docs/sandbox.md`` for the threat model.
"""

from agenthub.sandbox.layers import Layers
from agenthub.sandbox.limits import DEFAULT_LIMITS, Limits
from agenthub.sandbox.pool import PoolConfig, SandboxPool, SandboxUnavailable
from agenthub.sandbox.result import ERROR_KINDS, Result, RunError

__all__ = [
    "DEFAULT_LIMITS", "ERROR_KINDS", "Layers", "Limits", "PoolConfig", "Result", "RunError", "SandboxPool",
    "SandboxUnavailable",
]
