"""Long-term memory of agents, per agent and per user (Letta-style): core blocks always in
the context, archival memory searched by meaning, recall of past conversation, and summaries
of turns that no longer fit the context."""
