"""The audit log: every change, who made it, when and from where."""
