"""The outbound guard: where requests that users configure (HTTP tools, MCP servers, an
agent's model ``base_url``, embedding endpoints, request steps of scenario bots) may go."""
