"""Scenario bots (seed 004, DBCV): bots made of steps and connections that run without an
LLM, or ask one where a step says so. A bot is an agent of ``kind: "scenario"``; its tables
are its draft, and publishing freezes the draft into one document (``agenthub.bot/v1``, the
format of export and import) that sessions run."""
