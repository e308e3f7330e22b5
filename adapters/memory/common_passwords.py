"""A fixed list of common passwords, for unit tests that must not depend on zxcvbn's."""

from __future__ import annotations

from collections.abc import Iterable


class InMemoryCommonPasswords:
    def __init__(self, passwords: Iterable[str] = ("password", "123456789", "qwertyuiop")) -> None:
        self._passwords = frozenset(p.casefold() for p in passwords)

    def __contains__(self, password: str) -> bool:
        return password.casefold() in self._passwords
