"""Access-token port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int  # seconds


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What an access token says about its bearer."""

    user_id: int
    credentials_version: int  # the user's when the token's login happened
    auth_time: datetime  # when that login happened (RFC 9470); refreshes keep it
    session_id: str  # the refresh-token family of that login
    # How that login authenticated (RFC 8176): ("pwd",), or ("pwd", "otp") after a second
    # factor; refreshes keep it, as they keep auth_time.
    amr: tuple[str, ...] = ("pwd",)


class TokenService(Protocol):
    def issue(self, claims: AccessClaims) -> AccessToken: ...

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token. Raises ``NotAuthenticated`` when the token is
        malformed, forged, expired or lacks a claim."""
        ...
