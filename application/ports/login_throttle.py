"""Login-throttle port: failed logins counted per account and per client address."""

from __future__ import annotations

from typing import Protocol


class LoginThrottle(Protocol):
    """``account`` is a stable key of the account a login names (its id when it exists, else the
    normalised login), ``address`` the client's IP address (None when unknown)."""

    async def check(self, account: str, address: str | None) -> None:
        """Raise ``LoginThrottled`` when either count has reached its limit. Costs no hashing."""
        ...

    async def record_failure(self, account: str, address: str | None) -> None: ...

    async def record_success(self, account: str) -> None:
        """Clear the account's failure count (the address count stays)."""
        ...
