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
from application.ports import (
    AccessClaims,
    NewRefreshToken,
    RefreshTokenRepository,
    StoredRefreshToken,
    TokenService,
    UnitOfWork,
)
from domain.user import User

REFRESH_TOKEN_BYTES = 32  # 256 bits
# RFC 8176 authentication method references: a password; a password and a one-time code.
PASSWORD_ONLY: tuple[str, ...] = ("pwd",)
PASSWORD_AND_OTP: tuple[str, ...] = ("pwd", "otp")


def hash_token(token: str) -> str:
    """The SHA-256 (hex) of a random token: what is stored of a refresh or account token."""
    return hashlib.sha256(token.encode()).hexdigest()


hash_refresh_token = hash_token


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

    async def issue(
        self,
        uow: UnitOfWork,
        user: User,
        family: StoredRefreshToken | None = None,
        amr: tuple[str, ...] = PASSWORD_ONLY,
    ) -> TokenPair:
        """A new pair: of a new family (a login, authenticated by ``amr``) when ``family`` is
        None, else of the family of ``family`` (a refresh), keeping that login's time,
        credentials version and authentication methods."""
        refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
        now = self.clock()
        if family is None:
            family_id = secrets.token_hex(16)
            authenticated_at, version = now, user.credentials_version
        else:
            family_id = family.family_id
            authenticated_at, version = family.authenticated_at, family.credentials_version
            amr = family.amr
        await uow.repository(RefreshTokenRepository).add(
            NewRefreshToken(
                token_hash=hash_refresh_token(refresh_token),
                family_id=family_id,
                user_id=user.id,
                issued_at=now,
                expires_at=now + self._refresh_ttl,
                authenticated_at=authenticated_at,
                credentials_version=version,
                amr=amr,
            )
        )
        access = self._tokens.issue(
            AccessClaims(
                user_id=user.id,
                credentials_version=version,
                auth_time=authenticated_at,
                session_id=family_id,
                amr=amr,
            )
        )
        return TokenPair(
            access_token=access.token, expires_in=access.expires_in, refresh_token=refresh_token
        )
