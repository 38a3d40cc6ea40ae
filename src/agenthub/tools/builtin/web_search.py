"""``web_search``: searches the web through Tavily (``TAVILY_API_KEY``; ``TAVILY_BASE_URL`` is
where its API is, a local fake in tests). The results reach the model as text: title, URL
and content of each. The key goes in the request's ``Authorization`` header only, and never
in a log or an error."""

from __future__ import annotations

from typing import Any

import httpx

from agenthub.tools.base import Tool, ToolContext, ToolDeps, ToolError

DEFAULT_RESULTS = 5
MAX_RESULTS = 10
TIMEOUT_SECONDS = 20.0


class WebSearch(Tool):
    name = "web_search"
    description = (
        "Search the web. Returns the most relevant pages: title, URL and the relevant content of each. "
        "Use it for recent events or facts you don't know."
    )
    parameters = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to search for"},
            "max_results": {
                "type": "integer", "minimum": 1, "maximum": MAX_RESULTS,
                "description": f"How many results (default {DEFAULT_RESULTS})",
            },
        },
        "required": ["query"],
    }

    def __init__(self, deps: ToolDeps) -> None:
        self._settings = deps.settings

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        key = self._settings.tavily_api_key
        if key is None:
            raise ToolError("web search is not available: TAVILY_API_KEY is not set on the server")
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError("`query` must be a non-empty string")
        count = arguments.get("max_results", DEFAULT_RESULTS)
        if not isinstance(count, int) or isinstance(count, bool):
            raise ToolError("`max_results` must be a whole number")
        count = max(1, min(MAX_RESULTS, count))
        url = self._settings.tavily_base_url.rstrip("/") + "/search"
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
                response = await client.post(
                    url,
                    json={"query": query.strip(), "max_results": count},
                    headers={"Authorization": f"Bearer {key.get_secret_value()}"},
                )
        except httpx.TimeoutException:
            raise ToolError("the search service did not answer in time") from None
        except httpx.HTTPError as error:
            raise ToolError(f"the search service could not be reached ({type(error).__name__})") from None
        if response.status_code != 200:
            raise ToolError(f"the search service answered HTTP {response.status_code}")
        try:
            results = response.json().get("results") or []
        except (ValueError, AttributeError):
            raise ToolError("the search service's answer was not JSON") from None
        return format_results(query, results)


def format_results(query: str, results: list[Any]) -> str:
    """The results as the model reads them, numbered."""
    lines = []
    for number, result in enumerate((r for r in results if isinstance(r, dict)), start=1):
        title = str(result.get("title") or "(no title)").strip()
        url = str(result.get("url") or "").strip()
        content = str(result.get("content") or "").strip()
        lines.append(f"{number}. {title}\n   {url}\n   {content}")
    if not lines:
        return f"No results for {query!r}."
    return "\n\n".join(lines)


def build(deps: ToolDeps) -> Tool:
    return WebSearch(deps)
