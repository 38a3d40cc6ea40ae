"""Imported by the fork server that runner processes are forked from, and only there.

It loads what runners use (LangGraph, the model clients, SQLAlchemy, the Redis client, by
importing :mod:`agenthub.runtime.runner_main`) and then freezes all of it out of garbage
collection. Runners are forks of this process: their collections then never walk, and so
never write to and copy, the memory they share with the fork server and with each other.
"""

from agenthub.runtime import runner_main  # noqa: F401 - the point of this module
from agenthub.runtime.loop import settle_garbage_collector

settle_garbage_collector()
