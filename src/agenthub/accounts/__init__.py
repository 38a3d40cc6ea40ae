"""Organisations, users, sessions, invitations, API keys and agent authorisations: who may
ask, and for which organisation."""
