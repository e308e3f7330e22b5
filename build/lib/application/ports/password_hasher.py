"""Password hashing port. Implementations must not block the event loop."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, hashed_password: str, password: str) -> bool:
        """True when ``password`` matches; False on mismatch or on an unreadable hash."""
        ...

    async def verify_dummy(self, password: str) -> None:
        """Spend one verification on a fixed hash, so that an unknown user costs as much time as
        a known one with a wrong password."""
        ...
