"""What a run gives back: a value, or an error a bot builder understands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ErrorKind = Literal["syntax", "exception", "timeout", "memory", "output", "forbidden"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("syntax", "exception", "timeout", "memory", "output", "forbidden")


@dataclass(frozen=True)
class RunError:
    kind: ErrorKind
    message: str
    # The line of the bot builder's code the error points at, when there is one.
    line: int | None = None


@dataclass(frozen=True)
class Result:
    """``ok`` with the value ``main`` returned, or ``error``; ``output`` is what the code printed."""

    value: dict[str, Any] | None = None
    error: RunError | None = None
    output: str = ""
    duration_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failed(cls, kind: ErrorKind, message: str, *, line: int | None = None, output: str = "",
               duration_ms: float = 0.0) -> Result:
        return cls(error=RunError(kind, message, line), output=output, duration_ms=duration_ms)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "ok" if self.ok else "error"}
        if self.error is None:
            body["value"] = self.value
        else:
            body["error"] = {"kind": self.error.kind, "message": self.error.message, "line": self.error.line}
        body["output"] = self.output
        body["duration_ms"] = round(self.duration_ms, 3)
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any], *, duration_ms: float) -> Result:
        """The result a sandboxed process reported (it is checked, never trusted as-is)."""
        output = body.get("output")
        output = output if isinstance(output, str) else ""
        if body.get("status") == "ok" and isinstance(body.get("value"), dict):
            return cls(value=body["value"], output=output, duration_ms=duration_ms)
        error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
        kind: ErrorKind = next((known for known in ERROR_KINDS if known == error.get("kind")), "exception")
        message = error.get("message")
        line = error.get("line")
        return cls.failed(kind, message if isinstance(message, str) else "the code failed",
                          line=line if isinstance(line, int) else None, output=output, duration_ms=duration_ms)
