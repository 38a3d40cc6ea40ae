"""The ``fake`` provider: a deterministic chat model for demos, tests and benchmarks.

It never touches the network. Its answer repeats the user's last message and counts the
user turns it has seen, so a demo shows that the conversation is remembered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


def _words(text: str) -> int:
    return max(1, len(text.split()))


class DemoChatModel(BaseChatModel):
    """Answers ``You said: "<text>". That is message <n> of this chat.``"""

    model_id: str = "demo"

    @property
    def _llm_type(self) -> str:
        return "agenthub-demo"

    def bind_tools(self, tools: Any, **kwargs: Any) -> DemoChatModel:  # type: ignore[override]
        """The demo model calls no tools: an agent with tools still answers as it always does."""
        return self

    def _reply(self, messages: list[BaseMessage]) -> tuple[str, UsageMetadata]:
        user_turns = [m for m in messages if isinstance(m, HumanMessage)]
        last = str(user_turns[-1].content) if user_turns else ""
        text = f'You said: "{last}". That is message {len(user_turns)} of this chat.'
        prompt_tokens = sum(_words(str(m.content)) for m in messages)
        output_tokens = _words(text)
        usage = UsageMetadata(
            input_tokens=prompt_tokens,
            output_tokens=output_tokens,
            total_tokens=prompt_tokens + output_tokens,
        )
        return text, usage

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text, usage = self._reply(messages)
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text, usage = self._reply(messages)
        pieces = text.split(" ")
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            chunk = AIMessageChunk(
                content=piece if last else piece + " ",
                usage_metadata=usage if last else None,
            )
            if run_manager:
                run_manager.on_llm_new_token(str(chunk.content), chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for generation in self._stream(messages, stop, None, **kwargs):
            # Let the loop run between tokens, as it does while a real model's tokens
            # arrive over the network.
            await asyncio.sleep(0)
            if run_manager:
                await run_manager.on_llm_new_token(
                    str(generation.message.content), chunk=generation
                )
            yield generation
