"""The list of passwords too common to allow."""

from __future__ import annotations

from typing import Protocol


class CommonPasswords(Protocol):
    def __contains__(self, password: str) -> bool:
        """Whether ``password`` is on the list, compared case-insensitively."""
        ...
