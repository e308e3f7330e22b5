"""Token pairs: a short-lived access token and a single-use refresh token of one login family.

A refresh token is 256 random bits (``secrets.token_urlsafe(32)``). Only its SHA-256 is stored:
for a secret with that much entropy a fast hash is enough (nobody can brute-force 2^256), and a
stolen database yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from application.clock import Clock, utc_now
from application.ports import NewRefreshToken, TokenService, UnitOfWork

REFRESH_TOKEN_BYTES = 32  # 256 bits


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int  # seconds, of the access token
    refresh_token: str


class TokenPairIssuer:
    """Issues a pair and stores the refresh token's hash in the caller's unit of work (the caller
    commits, so the token exists only if the rest of its transaction does)."""

    def __init__(
        self, tokens: TokenService, refresh_ttl_seconds: int, clock: Clock = utc_now
    ) -> None:
        self._tokens = tokens
        self._refresh_ttl = timedelta(seconds=refresh_ttl_seconds)
        self.clock = clock

    async def issue(self, uow: UnitOfWork, user_id: int, family_id: str | None = None) -> TokenPair:
        """A new pair; ``family_id`` None starts a new family (a login)."""
        refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
        now = self.clock()
        await uow.refresh_tokens.add(
            NewRefreshToken(
                token_hash=hash_refresh_token(refresh_token),
                family_id=family_id or secrets.token_hex(16),
                user_id=user_id,
                issued_at=now,
                expires_at=now + self._refresh_ttl,
            )
        )
        access = self._tokens.issue(user_id)
        return TokenPair(
            access_token=access.token, expires_in=access.expires_in, refresh_token=refresh_token
        )
