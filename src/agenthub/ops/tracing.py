"""Traces of turns, model calls and tool calls: OpenTelemetry spans over OTLP/HTTP when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, LangChain's own tracing to LangSmith when
``LANGSMITH_API_KEY`` is; nothing is sent anywhere, and no exporter is made, when neither is.

Each process sets it up once at its start (the app's lifespan, a runner, a worker) with
:func:`setup_tracing`, and shuts it down at its end (the spans still queued are sent). The
code that is traced opens spans with :func:`span`: while tracing is off it returns one shared
no-op object, which costs a global lookup and a call.

Spans say what ran, never what was said: ids, kinds, model names, token counts, tool names
and outcomes; no message text, no tool arguments.
"""

from __future__ import annotations

import logging
import os
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agenthub.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger(__name__)

LANGSMITH_VARIABLES = ("LANGSMITH_TRACING", "LANGSMITH_API_KEY", "LANGSMITH_PROJECT")
"""What LangChain reads to trace to LangSmith (set for the process while tracing is on)."""
Attribute = str | bool | int | float


class NoSpan:
    """The span while tracing is off: does nothing."""

    __slots__ = ()

    def __enter__(self) -> NoSpan:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None

    def set(self, key: str, value: Attribute | None) -> None:
        return None

    def fail(self, description: str) -> None:
        return None


NO_SPAN = NoSpan()


class LiveSpan(NoSpan):
    """An OpenTelemetry span, current while the ``with`` block runs (spans opened inside it,
    across awaits too, are its children)."""

    __slots__ = ("_attributes", "_manager", "_name", "_span", "_tracer")

    def __init__(self, tracer: Tracer, name: str, attributes: dict[str, Attribute | None]) -> None:
        self._tracer = tracer
        self._name = name
        self._attributes = {key: value for key, value in attributes.items() if value is not None}
        self._manager: Any = None
        self._span: Span | None = None

    def __enter__(self) -> LiveSpan:
        self._manager = self._tracer.start_as_current_span(self._name, attributes=self._attributes)
        self._span = self._manager.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._manager.__exit__(kind, error, trace)

    def set(self, key: str, value: Attribute | None) -> None:
        if self._span is not None and value is not None:
            self._span.set_attribute(key, value)

    def fail(self, description: str) -> None:
        """Mark the span an error (a tool that answered ``error: ...``)."""
        if self._span is not None:
            from opentelemetry.trace import Status, StatusCode

            self._span.set_status(Status(StatusCode.ERROR, description))


class Tracing:
    """What :func:`setup_tracing` turned on for the process; :meth:`shutdown` sends what is
    queued and turns it off."""

    def __init__(self, provider: TracerProvider | None = None, langsmith: dict[str, str | None] | None = None) -> None:
        self.provider = provider
        self._saved_environment = langsmith
        """LangSmith's variables as they were before (None: LangSmith was not turned on)."""

    @property
    def enabled(self) -> bool:
        return self.provider is not None or self._saved_environment is not None

    def shutdown(self) -> None:
        if self.provider is not None:
            if _provider is self.provider:
                _set(None, None)
            self.provider.shutdown()  # flushes the batch processor
            self.provider = None
        if self._saved_environment is not None:
            _send_langsmith_runs()
            for name, value in self._saved_environment.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            _forget_langsmith_environment()
            self._saved_environment = None


_tracer: Tracer | None = None
_provider: TracerProvider | None = None


def _set(tracer: Tracer | None, provider: TracerProvider | None) -> None:
    global _tracer, _provider
    _tracer, _provider = tracer, provider


def span(name: str, **attributes: Attribute | None) -> NoSpan:
    """A span named ``name`` with ``attributes`` (None values left out), to use as ``with
    span(...) as s:``; the shared no-op span while OpenTelemetry is off."""
    tracer = _tracer
    if tracer is None:
        return NO_SPAN
    return LiveSpan(tracer, name, attributes)


def otlp_traces_url(endpoint: str) -> str:
    """Where spans are POSTed: ``OTEL_EXPORTER_OTLP_ENDPOINT`` is the collector's root, as the
    OpenTelemetry specification says (``/v1/traces`` added), unless it names that path."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def setup_tracing(settings: Settings) -> Tracing:
    """Turn on what the settings ask for, once per process at its start. Neither
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` nor ``LANGSMITH_API_KEY``: nothing is made."""
    provider = None
    if settings.otel_exporter_otlp_endpoint:
        provider = _open_telemetry(settings.otel_exporter_otlp_endpoint, settings.otel_service_name)
    saved = None
    if settings.langsmith_api_key is not None:
        saved = {name: os.environ.get(name) for name in LANGSMITH_VARIABLES}
        os.environ["LANGSMITH_TRACING"] = "true"
        os.environ["LANGSMITH_API_KEY"] = settings.langsmith_api_key.get_secret_value()
        if settings.langsmith_project:
            os.environ["LANGSMITH_PROJECT"] = settings.langsmith_project
        _forget_langsmith_environment()
    if provider is not None or saved is not None:
        log.info(
            "tracing on",
            extra={"opentelemetry": provider is not None, "langsmith": saved is not None},
        )
    return Tracing(provider, saved)


def _open_telemetry(endpoint: str, service_name: str) -> TracerProvider:
    # Imported here: a process that does not trace never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # A provider of our own, not the global one (which may be set once per process only).
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_traces_url(endpoint), timeout=10)))
    _set(provider.get_tracer("agenthub"), provider)
    return provider


def _forget_langsmith_environment() -> None:
    """LangSmith caches what it read of the environment: read it again."""
    try:
        from langsmith import utils
    except ImportError:  # pragma: no cover - langsmith comes with langchain-core
        return
    for name in ("get_env_var", "get_tracer_project"):
        cached = getattr(utils, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


def _send_langsmith_runs() -> None:
    """Wait for LangChain's tracers to send the runs they hold (they send in the background)."""
    try:
        from langchain_core.tracers.langchain import wait_for_all_tracers
    except ImportError:  # pragma: no cover - langchain-core is a dependency
        return
    try:
        wait_for_all_tracers()
    except Exception:  # noqa: BLE001 - a tracer that can't send does not stop the shutdown
        log.warning("LangSmith runs could not all be sent", exc_info=True)
