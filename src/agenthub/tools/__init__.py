"""Tools an ``llm`` agent may call: built-in tools by name (one module each in
``builtin/``), dynamic HTTP API tools and the tools of MCP servers. See ``base`` for what a
tool is and ``registry`` for how an agent's tools are gathered for a turn."""
