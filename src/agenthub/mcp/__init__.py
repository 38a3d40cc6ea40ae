"""The MCP server for building scenario bots (streamable HTTP at ``/mcp``, stdio through
``agenthub mcp``): see :mod:`agenthub.mcp.server`."""
