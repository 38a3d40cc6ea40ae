"""The bodies of the OpenAI-compatible API (``/v1``), as OpenAI's clients send and read them.

Requests take every field OpenAI's clients may send (``temperature``, ``tools``, ...) and
ignore those AgentHub does not use: the agent's own settings decide how it answers. Two
extensions: ``chat_id`` (the conversation) in the request, and ``chat_id`` in every answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agenthub.chats.schemas import CHAT_ID_PATTERN
from agenthub.fields import NUL_FREE, JsonValue, Text


class _Lenient(BaseModel):
    """Takes fields it does not name, as any JSON the reader takes (see
    :mod:`agenthub.json_input`), and says so in the JSON schema."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"propertyNames": {"pattern": NUL_FREE}})

    __pydantic_extra__: dict[str, JsonValue] = Field(init=False)


class ContentPart(_Lenient):
    """One part of a message's content; only ``text`` parts are taken."""

    type: Annotated[Text, Field(max_length=64)]
    text: Text | None = None


class MessageIn(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Text | list[ContentPart] | None = None
    name: Annotated[Text, Field(max_length=256)] | None = None


class StreamOptions(_Lenient):
    include_usage: bool = Field(default=False, description="Send a last chunk with the turn's `usage`")


class ChatCompletionRequest(_Lenient):
    """What ``POST /v1/chat/completions`` takes."""

    model: Text = Field(
        min_length=1, max_length=128,
        description="The agent's id (the handle your organisation gave it; another organisation's public agent "
        "by its address)",
    )
    messages: list[MessageIn] = Field(
        min_length=1, max_length=1000,
        description="Only the last one is sent, and it must be the user's: the agent keeps the conversation's "
        "history itself and has its own system prompt",
    )
    stream: bool = Field(default=False, description="Answer as `chat.completion.chunk` Server-Sent Events")
    stream_options: StreamOptions | None = None
    user: Annotated[Text, Field(max_length=256)] | None = Field(
        default=None,
        description="Your end user: without `chat_id`, each user of a key has a conversation of their own",
    )
    chat_id: str | None = Field(
        default=None, pattern=CHAT_ID_PATTERN,
        description="AgentHub's extension: the conversation to continue (or begin); it wins over `user`",
    )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def of(cls, usage: object) -> Usage:
        """From a turn's usage (``input_tokens``, ``output_tokens``); zeros when it had none."""
        found = usage if isinstance(usage, dict) else {}
        prompt = int(found.get("input_tokens") or 0)
        completion = int(found.get("output_tokens") or 0)
        return cls(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


class ChatCompletion(BaseModel):
    """A whole answer (``stream`` false)."""

    id: str = Field(description="`chatcmpl-` and the id of the message the answer replies to")
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    chat_id: str = Field(description="AgentHub's extension: the conversation, to continue it with `chat_id`")


class Model(BaseModel):
    id: str = Field(description="What to send as `model`")
    object: Literal["model"] = "model"
    created: int
    owned_by: str = Field(description="The agent's organisation")
    name: str = Field(description="AgentHub's extension: the agent's name")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class OpenAIError(BaseModel):
    message: str = Field(description="For people; never a stack trace")
    type: str = Field(
        description="`invalid_request_error`, `insufficient_quota`, `requests` (rate limit), `server_error`, ..."
    )
    param: str | None = Field(default=None, description="The request field at fault, if one is")
    code: str | None = Field(
        description="`invalid_api_key`, `model_not_found`, `insufficient_quota`, `rate_limit_exceeded`, "
        "`agent_failed`, ..."
    )


class OpenAIErrorResponse(BaseModel):
    """Every error of the ``/v1`` routes, in OpenAI's shape."""

    error: OpenAIError
