"""Refresh-token storage port. Only a hash of each token is stored, never the token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class NewRefreshToken:
    token_hash: str
    family_id: str  # every token descended from one login shares it
    user_id: int
    issued_at: datetime
    expires_at: datetime
    authenticated_at: datetime  # when the family's login happened (the auth_time claim)
    credentials_version: int  # the user's at that login; a later change voids the family
    amr: tuple[str, ...] = ("pwd",)  # how the family's login authenticated (RFC 8176)


@dataclass(frozen=True, slots=True)
class StoredRefreshToken:
    token_hash: str
    family_id: str
    user_id: int
    issued_at: datetime
    expires_at: datetime
    spent_at: datetime | None
    revoked_at: datetime | None
    authenticated_at: datetime
    credentials_version: int
    # The row's id; a session (a family) is named by the id of its first token.
    id: int = 0
    amr: tuple[str, ...] = ("pwd",)


class RefreshTokenRepository(Protocol):
    async def add(self, token: NewRefreshToken) -> None: ...

    async def get(self, token_hash: str) -> StoredRefreshToken | None: ...

    async def spend(self, token_hash: str, now: datetime) -> StoredRefreshToken | None:
        """Mark the token spent if, and only if, it is unspent, unrevoked and unexpired at
        ``now``; return it then, else None. Atomic: of concurrent calls for one token, exactly
        one gets it (a conditional UPDATE whose row count decides)."""
        ...

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        """Revoke every token of the family that is not revoked yet."""
        ...

    async def revoke_all_for_user(self, user_id: int, now: datetime) -> None:
        """Revoke every token of every family of the user that is not revoked yet."""
        ...

    async def revoke_other_families(self, user_id: int, family_id: str, now: datetime) -> None:
        """Revoke every token of the user's families but ``family_id`` (every other
        session)."""
        ...

    async def revoke_session(self, user_id: int, session_id: int, now: datetime) -> bool:
        """Revoke the family whose first token has id ``session_id``, if it is the user's and
        still holds a live token (unspent, unrevoked, unexpired at ``now``); else False."""
        ...
