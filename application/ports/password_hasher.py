"""Password hashing port. Implementations must not block the event loop."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str:
        """Raises ``PasswordHashingBusy`` when no hashing slot frees up in time."""
        ...

    async def verify(self, hashed_password: str, password: str) -> bool:
        """True when ``password`` matches; False on mismatch or on an unreadable hash."""
        ...

    def needs_rehash(self, hashed_password: str) -> bool:
        """True when the hash was made with other parameters than the current ones (cheap: it
        only parses the hash), so a successful login should store a fresh hash."""
        ...

    async def verify_dummy(self, password: str) -> None:
        """Spend one verification on a fixed hash, so that an unknown user costs as much time as
        a known one with a wrong password."""
        ...
