"""AgentHub: host AI agents and connect them to people."""

__version__ = "0.1.0"
