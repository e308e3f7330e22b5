"""Access-token port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int  # seconds


class TokenService(Protocol):
    def issue(self, user_id: int) -> AccessToken: ...

    def verify(self, token: str) -> int:
        """The user id the token was issued for. Raises ``NotAuthenticated`` when the token is
        malformed, forged, expired or lacks a claim."""
        ...
