"""In-memory refresh tokens, over the unit of work's copied state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from adapters.memory.database import InMemoryState
from adapters.memory.unit_of_work import memory_repository
from application.ports import NewRefreshToken, RefreshTokenRepository, StoredRefreshToken


@memory_repository(RefreshTokenRepository)
class InMemoryRefreshTokenRepository:
    """Atomic spends for free: the unit of work's lock makes transactions serialisable."""

    def __init__(self, state: InMemoryState) -> None:
        self._state = state

    async def add(self, token: NewRefreshToken) -> None:
        if token.token_hash in self._state.refresh_tokens:
            raise ValueError("duplicate refresh token hash")
        self._state.refresh_tokens[token.token_hash] = StoredRefreshToken(
            token_hash=token.token_hash,
            family_id=token.family_id,
            user_id=token.user_id,
            issued_at=token.issued_at,
            expires_at=token.expires_at,
            spent_at=None,
            revoked_at=None,
            authenticated_at=token.authenticated_at,
            credentials_version=token.credentials_version,
            id=self._state.next_id("refresh_tokens"),
            amr=token.amr,
        )

    async def get(self, token_hash: str) -> StoredRefreshToken | None:
        return self._state.refresh_tokens.get(token_hash)

    async def spend(self, token_hash: str, now: datetime) -> StoredRefreshToken | None:
        stored = self._state.refresh_tokens.get(token_hash)
        if stored is None or stored.spent_at is not None or stored.revoked_at is not None:
            return None
        if stored.expires_at <= now:
            return None
        spent = replace(stored, spent_at=now)
        self._state.refresh_tokens[token_hash] = spent
        return spent

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        self._revoke(lambda stored: stored.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: int, now: datetime) -> None:
        self._revoke(lambda stored: stored.user_id == user_id, now)

    async def revoke_other_families(self, user_id: int, family_id: str, now: datetime) -> None:
        self._revoke(
            lambda stored: stored.user_id == user_id and stored.family_id != family_id, now
        )

    async def revoke_session(self, user_id: int, session_id: int, now: datetime) -> bool:
        family = [t for t in self._state.refresh_tokens.values() if t.user_id == user_id]
        first = {}
        for token in sorted(family, key=lambda t: t.id, reverse=True):
            first[token.family_id] = token.id
        family_id = next((f for f, first_id in first.items() if first_id == session_id), None)
        live = any(
            t.family_id == family_id
            and t.spent_at is None
            and t.revoked_at is None
            and t.expires_at > now
            for t in family
        )
        if family_id is None or not live:
            return False
        await self.revoke_family(family_id, now)
        return True

    def _revoke(self, chosen: Callable[[StoredRefreshToken], bool], now: datetime) -> None:
        for token_hash, stored in list(self._state.refresh_tokens.items()):
            if chosen(stored) and stored.revoked_at is None:
                self._state.refresh_tokens[token_hash] = replace(stored, revoked_at=now)
