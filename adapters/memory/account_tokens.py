"""In-memory account tokens, in the store's generic ``account_tokens`` table."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from adapters.memory.database import InMemoryState
from adapters.memory.unit_of_work import memory_repository
from application.ports.account_tokens import (
    AccountTokenKind,
    AccountTokenRepository,
    NewAccountToken,
    UsedAccountToken,
)


@dataclass(frozen=True, slots=True)
class StoredAccountToken:
    kind: AccountTokenKind
    user_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@memory_repository(AccountTokenRepository)
class InMemoryAccountTokenRepository:
    def __init__(self, state: InMemoryState) -> None:
        self._state = state

    @property
    def _tokens(self) -> dict[str, StoredAccountToken]:
        return self._state.table("account_tokens")

    async def add(self, token: NewAccountToken) -> None:
        if token.token_hash in self._tokens:
            raise ValueError("duplicate account token hash")
        self._tokens[token.token_hash] = StoredAccountToken(
            kind=token.kind,
            user_id=token.user_id,
            created_at=token.created_at,
            expires_at=token.expires_at,
            used_at=None,
        )

    async def void(self, user_id: int, kind: AccountTokenKind) -> None:
        for token_hash, stored in list(self._tokens.items()):
            if stored.user_id == user_id and stored.kind is kind:
                del self._tokens[token_hash]

    async def find_usable(
        self, token_hash: str, kind: AccountTokenKind, now: datetime
    ) -> UsedAccountToken | None:
        stored = self._tokens.get(token_hash)
        if stored is None or stored.kind is not kind or stored.used_at is not None:
            return None
        if stored.expires_at <= now:
            return None
        return UsedAccountToken(user_id=stored.user_id, created_at=stored.created_at)

    async def use(
        self, token_hash: str, kind: AccountTokenKind, now: datetime
    ) -> UsedAccountToken | None:
        usable = await self.find_usable(token_hash, kind, now)
        if usable is not None:
            stored = self._tokens[token_hash]
            self._tokens[token_hash] = replace(stored, used_at=now)
        return usable
