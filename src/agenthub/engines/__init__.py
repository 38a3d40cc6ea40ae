"""Engines by agent kind: each turns one inbound message into the events of an answer.

Hosts, supervision and delivery are shared by every kind; ``base`` is the interface an
engine implements, ``llm`` the engine of ``llm`` agents, ``registry`` the engines a process
runs, built by its entry point and passed in.
"""
