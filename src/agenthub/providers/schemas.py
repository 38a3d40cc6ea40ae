"""The model providers as clients read them: their health, and the models an endpoint offers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ProviderName = Literal["openai", "openrouter", "ollama", "openai_compatible", "fake"]


class ProviderRead(BaseModel):
    name: ProviderName
    base_url: str | None = Field(
        description="Where its calls go without an agent's own `base_url` (credentials masked); "
        "null: every agent names its own (`openai_compatible`), or none is called (`fake`)"
    )
    key_variable: str | None = Field(description="The setting of its platform key; null: it takes none")
    key_present: bool | None = Field(description="Whether its platform key is set; null: it takes none")
    reachable: bool | None = Field(
        description="Whether it answered a short request for its models; null: unknown (no address)"
    )
    status: str | None = Field(
        description="What the check found: `ok`, `HTTP 401`, `timed out`, `unreachable (...)`; null: not checked"
    )


class ProviderList(BaseModel):
    items: list[ProviderRead]


class ModelRead(BaseModel):
    id: str = Field(description="The `model_id` an agent gives to use it")
    owned_by: str | None = None


class ModelList(BaseModel):
    provider: ProviderName
    base_url: str | None = Field(description="The endpoint asked (credentials masked)")
    source: Literal["openai", "ollama", "builtin"] = Field(
        description="What answered: an OpenAI-compatible `/models`, Ollama's `/api/tags`, or the built-in list"
    )
    models: list[ModelRead]
