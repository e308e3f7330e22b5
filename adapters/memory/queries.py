"""In-memory query ports: they read what the in-memory units of work last committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.memory.database import InMemoryDatabase, keyset_page
from application.pagination import PageRequest
from application.ports import Session, StoredRefreshToken
from domain.item import Item
from domain.user import User


class InMemoryUserQueries:
    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database

    async def get(self, user_id: int) -> User | None:
        return self._database.state.users.get(user_id)

    async def page(self, page: PageRequest) -> Sequence[User]:
        return keyset_page(self._database.state.users.values(), page)


class InMemoryItemQueries:
    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database

    async def get(self, item_id: int) -> Item | None:
        return self._database.state.items.get(item_id)

    async def page(self, page: PageRequest) -> Sequence[Item]:
        return keyset_page(self._database.state.items.values(), page)

    async def page_of_owner(self, owner_id: int, page: PageRequest) -> Sequence[Item]:
        owned = (item for item in self._database.state.items.values() if item.owner_id == owner_id)
        return keyset_page(owned, page)


class InMemorySessionQueries:
    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database

    async def page(self, user_id: int, now: datetime, page: PageRequest) -> Sequence[Session]:
        families: dict[str, list[StoredRefreshToken]] = {}
        for token in self._database.state.refresh_tokens.values():
            if token.user_id == user_id:
                families.setdefault(token.family_id, []).append(token)
        sessions = [
            Session(
                id=min(t.id for t in tokens),
                family_id=family_id,
                created_at=min(t.issued_at for t in tokens),
                last_used_at=max(t.issued_at for t in tokens),
            )
            for family_id, tokens in families.items()
            if any(
                t.spent_at is None and t.revoked_at is None and t.expires_at > now for t in tokens
            )
        ]
        return keyset_page(sessions, page)
