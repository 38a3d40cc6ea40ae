"""Secrets that configurations refer to by ``{"credential_id": ...}``, encrypted at rest."""
