"""Model test fixtures, shared with the other model tests."""

from tests.support.llm_fixtures import fake_openai, settings  # noqa: F401
