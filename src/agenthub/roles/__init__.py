"""Roles: predefined agents (a prompt file with front matter: agent type, tools,
description) shipped in this package, added to or overridden from ``ROLES_DIR``."""
