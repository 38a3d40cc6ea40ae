"""The actions of connection groups: ``response`` (an HTTP request), ``code`` (the code
sandbox), ``llm`` (asking an LLM agent of the organisation) and ``integration`` (one module
per integration in ``integrations/``). Each turns a group and the session's variables into a
result dict (``{"error": "..."}`` when it failed: rules can test it) and never raises."""
