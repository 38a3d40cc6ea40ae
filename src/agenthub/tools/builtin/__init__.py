"""The built-in tools, one module per tool, named as the tool.

To add a tool: add its name to ``BuiltinTool`` (``agenthub/agents/intelligence.py``), then
a module ``agenthub/tools/builtin/<name>.py`` with a function ``build(deps: ToolDeps) ->
Tool`` returning the tool (a subclass of :class:`agenthub.tools.base.Tool`). Nothing else
registers it: the registry imports the module of each name an agent lists.
"""
