"""In-memory repositories over a dict snapshot that the unit of work owns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from adapters.memory.database import InMemoryState
from application.errors import UserAlreadyExists
from application.ports import NewRefreshToken, StoredRefreshToken
from domain.item import Item, NewItem
from domain.user import NewUser, User, email_key


class InMemoryUserRepository:
    def __init__(self, state: InMemoryState) -> None:
        self._state = state

    async def add(self, user: NewUser) -> User:
        taken = []
        if await self.get_by_email(user.email) is not None:
            taken.append("email")
        if await self.get_by_username(user.username) is not None:
            taken.append("username")
        if taken:
            raise UserAlreadyExists(tuple(taken))
        self._state.last_user_id += 1
        stored = User(
            id=self._state.last_user_id,
            email=user.email,
            username=user.username,
            hashed_password=user.hashed_password,
            is_active=user.is_active,
            created_at=user.created_at,
        )
        self._state.users[stored.id] = stored
        return stored

    async def get(self, user_id: int) -> User | None:
        return self._state.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        wanted = email_key(email)
        return next((u for u in self._state.users.values() if email_key(u.email) == wanted), None)

    async def get_by_username(self, username: str) -> User | None:
        wanted = username.lower()
        return next((u for u in self._state.users.values() if u.username.lower() == wanted), None)

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        if (user := self._state.users.get(user_id)) is not None:
            self._state.users[user_id] = replace(user, hashed_password=hashed_password)

    async def set_active(self, user_id: int, *, active: bool) -> None:
        if (user := self._state.users.get(user_id)) is not None:
            self._state.users[user_id] = replace(user, is_active=active)


class InMemoryItemRepository:
    def __init__(self, state: InMemoryState) -> None:
        self._state = state

    async def add(self, item: NewItem) -> Item:
        self._state.last_item_id += 1
        stored = Item(
            id=self._state.last_item_id,
            title=item.title,
            description=item.description,
            owner_id=item.owner_id,
            created_at=item.created_at,
        )
        self._state.items[stored.id] = stored
        return stored

    async def get(self, item_id: int) -> Item | None:
        return self._state.items.get(item_id)

    async def update(self, item: Item) -> None:
        if item.id in self._state.items:
            self._state.items[item.id] = item

    async def delete(self, item_id: int) -> None:
        self._state.items.pop(item_id, None)


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

    def _revoke(self, chosen: Callable[[StoredRefreshToken], bool], now: datetime) -> None:
        for token_hash, stored in list(self._state.refresh_tokens.items()):
            if chosen(stored) and stored.revoked_at is None:
                self._state.refresh_tokens[token_hash] = replace(stored, revoked_at=now)
