"""The domain: users and the items they own, as plain dataclasses. Standard library only."""
