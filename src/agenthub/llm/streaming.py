"""A ChatOpenAI whose streamed chat completions take a short way to the endpoint.

langchain-openai streams through the ``openai`` SDK, which spends several milliseconds of
CPU per call before and after the network: it walks every request parameter (the whole
conversation) through its type-driven transform, and builds a pydantic object for every
chunk, which langchain-openai then dumps back into a dict. On the event loop of a host that
serves many chats, that is time no other chat gets (measured in ``bench/RESULTS.md``).

:class:`StreamingChatOpenAI` keeps everything of ChatOpenAI that decides *what* is sent and
*what* comes back (the request payload, tools, usage, chunk conversion, error types) and
only replaces the transport of streamed chat completions: the payload is posted as JSON
(orjson) with one pooled aiohttp session per model and event loop (a quarter of httpx's CPU
per streamed request on loopback), the Server-Sent Events are split and decoded with orjson,
and each chunk's dict goes to ChatOpenAI's own chunk conversion. What the short way does not
cover (the Responses API, structured output, response headers, a proxy or an HTTP client of
the caller's) goes through ChatOpenAI unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx2  # the openai SDK's HTTP types, which its errors carry
import openai
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage, BaseMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import _handle_openai_api_error, _handle_openai_bad_request
from pydantic import PrivateAttr, model_validator
from yarl import URL

MAX_CONNECTIONS = 1000
"""The openai SDK's own pool limit: a busy host keeps its connections to the model alive."""
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
"""Answers worth one more try (the openai SDK's choice), before any text has come."""
RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
NO_KEY = "agenthub-no-key"
"""The key of a model that has none (the openai client insists on one): never sent, by
either transport; its requests carry no Authorization header at all."""


class StreamingChatOpenAI(ChatOpenAI):
    """ChatOpenAI with a lean transport for streamed chat completions (see the module)."""

    _http: tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession] | None = PrivateAttr(default=None)
    _request_headers: dict[str, str] | None = PrivateAttr(default=None)
    _proxy_for_url: tuple[str, tuple[URL | None, aiohttp.BasicAuth | None]] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _clients_sharing_certificates(cls, values: Any) -> Any:
        """ChatOpenAI would build an HTTP client pair of its own for each new base URL, each
        loading the certificate store (tens of milliseconds, twice, on the event loop that
        builds the model at an agent's first turn: a stall for every chat of the process).
        Here they share the process's one SSL context. They serve only what the lean
        transport leaves to ChatOpenAI; a caller's own clients or proxy are kept."""
        if not isinstance(values, dict) or any(
            values.get(name) for name in ("http_client", "http_async_client", "openai_proxy")
        ):
            return values
        context = _ssl_context()
        return {**values, "http_client": _FallbackClient(verify=context),
                "http_async_client": _FallbackAsyncClient(verify=context)}

    def stream_client(self) -> aiohttp.ClientSession:
        """The pooled HTTP session of the running event loop: made on the first call, reused
        by every later call of this model on that loop (a model can outlive a loop in tests)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http[0] is not loop or self._http[1].closed:
            if self._http is not None:
                _discard(self._http[1])  # its loop is gone: it can't be closed the usual way
            seconds = self.request_timeout if isinstance(self.request_timeout, int | float) else None
            self._http = (loop, aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=_ssl_context()),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds),
                # Proxy variables are read once per model (see _proxy), not on every request
                # in a thread as aiohttp's trust_env does.
                trust_env=False,
                auto_decompress=True,
            ))
        return self._http[1]

    async def aclose(self) -> None:
        """Close the pooled session, if any (its connections to the model)."""
        http, self._http = self._http, None
        if http is not None:
            await http[1].close()

    def __del__(self) -> None:
        # A model is dropped with its host (or its test); its pool goes with it, quietly.
        private = getattr(self, "__pydantic_private__", None) or {}
        if private.get("_http") is not None:
            _discard(private["_http"][1])

    def _takes_short_way(self, kwargs: dict[str, Any]) -> bool:
        return not (
            self._use_responses_api({**kwargs, **self.model_kwargs})
            or "response_format" in kwargs
            or "response_format" in self.model_kwargs
            or self.include_response_headers
            or self._uses_gateway
            or (self.http_async_client is not None and not isinstance(self.http_async_client, _FallbackAsyncClient))
            or self.openai_proxy
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if not self._takes_short_way(kwargs):
            async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
                yield chunk
            return
        stream_usage = self._should_stream_usage(kwargs.pop("stream_usage", None), **kwargs)
        kwargs["stream"] = True
        if stream_usage:
            kwargs["stream_options"] = {"include_usage": True}
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        chunk_class: type[BaseMessageChunk] = AIMessageChunk
        try:
            async for data in self._events(payload):
                generation = self._convert_chunk_to_generation_chunk(data, chunk_class, None)
                if generation is None:
                    continue
                chunk_class = generation.message.__class__
                if run_manager:
                    logprobs = (generation.generation_info or {}).get("logprobs")
                    await run_manager.on_llm_new_token(generation.text, chunk=generation, logprobs=logprobs)
                yield generation
        except openai.BadRequestError as error:
            _handle_openai_bad_request(error)
        except openai.APIError as error:
            _handle_openai_api_error(error)

    async def _events(self, payload: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The decoded ``data:`` events of one streamed completion, ``[DONE]`` excluded."""
        response, request = await self._send(payload)
        try:
            buffer = b""
            async for block in response.content.iter_any():
                buffer += block
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    event = _data(line)
                    if event is not None:
                        yield _checked(event, request)
            event = _data(buffer)
            if event is not None:
                yield _checked(event, request)
        except TimeoutError as error:
            raise openai.APITimeoutError(request=request) from error
        except aiohttp.ClientError as error:
            raise openai.APIConnectionError(request=request) from error
        finally:
            response.release()

    async def _send(self, payload: dict[str, Any]) -> tuple[aiohttp.ClientResponse, httpx2.Request]:
        """POST the payload; an answer or failure worth retrying is tried again, up to
        ``max_retries`` times, before any of the stream is read. Also returns the request as
        the openai SDK's errors describe it."""
        client = self.root_async_client
        url = str(client.base_url).rstrip("/") + "/chat/completions"
        body = orjson.dumps(payload)
        request = httpx2.Request("POST", url)
        retries = self.max_retries if self.max_retries is not None else 2
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                proxy, proxy_auth = self._proxy(url)
                response = await self.stream_client().post(
                    url, data=body, headers=self._headers(), proxy=proxy, proxy_auth=proxy_auth
                )
            except TimeoutError as error:
                if last:
                    raise openai.APITimeoutError(request=request) from error
            except aiohttp.ClientError as error:
                if last:
                    raise openai.APIConnectionError(request=request) from error
            else:
                if response.status < 400:
                    return response, request
                error_body = await response.read()
                response.release()
                if last or response.status not in RETRY_STATUSES:
                    raise client._make_status_error_from_response(httpx2.Response(
                        response.status, headers=dict(response.headers), content=error_body, request=request
                    ))
            await asyncio.sleep(min(RETRY_BASE_DELAY * 2**attempt, RETRY_MAX_DELAY) * (0.75 + random.random() / 4))
        raise AssertionError("unreachable")  # pragma: no cover

    def _proxy(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The proxy that HTTP(S)_PROXY and NO_PROXY name for ``url`` (the openai SDK honours
        them too), looked up once per model."""
        if self._proxy_for_url is None or self._proxy_for_url[0] != url:
            found: tuple[URL | None, aiohttp.BasicAuth | None]
            try:
                found = get_env_proxy_for_url(URL(url))
            except LookupError:
                found = (None, None)
            self._proxy_for_url = (url, found)
        return self._proxy_for_url[1]

    def _headers(self) -> dict[str, str]:
        """What the openai SDK would send along (user agent, organisation, project, the
        caller's default headers) and the key, worked out once per model."""
        if self._request_headers is None:
            client = self.root_async_client
            headers = {name: value for name, value in client.default_headers.items() if isinstance(value, str)}
            headers.update({"Content-Type": "application/json", "Accept": "text/event-stream"})
            # A base_url with credentials in it authenticates with them (HTTP Basic), as the
            # openai SDK's client does; otherwise the key goes as a bearer token.
            key = client.api_key
            if isinstance(key, str) and key and key != NO_KEY and not client.base_url.userinfo:
                headers["Authorization"] = f"Bearer {key}"
            self._request_headers = headers
        return self._request_headers


def _without_placeholder_key(request: httpx2.Request) -> httpx2.Request:
    if request.headers.get("authorization") == f"Bearer {NO_KEY}":
        del request.headers["authorization"]
    return request


class _FallbackAsyncClient(httpx2.AsyncClient):
    """The HTTP client that StreamingChatOpenAI gives ChatOpenAI (not a caller's own). A
    model without a key sends none (the openai client puts :data:`NO_KEY` in)."""

    async def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        return await super().send(_without_placeholder_key(request), **kwargs)


KeylessAsyncClient = _FallbackAsyncClient
"""An HTTP client for the openai SDK that sends no ``Authorization`` for the placeholder key."""


class _FallbackClient(httpx2.Client):
    """The synchronous one, for ChatOpenAI's synchronous calls."""

    def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        return super().send(_without_placeholder_key(request), **kwargs)


def _discard(session: aiohttp.ClientSession) -> None:
    """Let go of a session without awaiting anything: its connections are closed at once
    (aiohttp only offers that synchronously on the connector), nothing is left to warn."""
    connector = session.connector
    session.detach()
    if connector is not None:
        with contextlib.suppress(Exception):
            connector._close()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Certificates checked as the openai SDK checks them (the system's store, or
    SSL_CERT_FILE / SSL_CERT_DIR), loaded once per process."""
    return httpx2.create_ssl_context()


def _data(line: bytes) -> dict[str, Any] | None:
    """The JSON of one ``data:`` line of the stream; None for other lines and ``[DONE]``."""
    if not line.startswith(b"data:"):
        return None
    data = line[5:].strip()
    if not data or data == b"[DONE]":
        return None
    return orjson.loads(data)


def _checked(event: dict[str, Any], request: httpx2.Request) -> dict[str, Any]:
    """``event``, unless it is an error the endpoint reported in the middle of the stream
    (as the openai SDK does, it becomes an APIError)."""
    if "error" in event and "choices" not in event:
        error = event["error"] or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise openai.APIError(message or "the model's stream reported an error", request, body=event)  # type: ignore[arg-type]
    return event
