"""In-memory repositories over a dict snapshot that the unit of work owns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from adapters.memory.database import InMemoryState
from adapters.memory.outbox import InMemoryOutbox
from adapters.memory.unit_of_work import memory_repository
from application.errors import UserAlreadyExists
from application.ports import ItemRepository, NewOutboxMessage, UserRepository
from application.ports.repositories import OwnerNotFound, with_item_id
from domain.item import Item, NewItem
from domain.user import NewUser, User, email_key


@memory_repository(UserRepository)
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
            email_verified=user.email_verified,
            is_admin=user.is_admin,
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
        self._change(user_id, is_active=active)

    async def set_admin(self, user_id: int, *, admin: bool) -> None:
        self._change(user_id, is_admin=admin)

    async def set_email_verified(self, user_id: int, *, verified: bool) -> None:
        self._change(user_id, email_verified=verified)

    async def change_profile(
        self, user_id: int, *, username: str, email: str, email_verified: bool
    ) -> None:
        others = [u for u in self._state.users.values() if u.id != user_id]
        taken = []
        if any(email_key(u.email) == email_key(email) for u in others):
            taken.append("email")
        if any(u.username.lower() == username.lower() for u in others):
            taken.append("username")
        if taken:
            raise UserAlreadyExists(tuple(taken))
        self._change(user_id, username=username, email=email, email_verified=email_verified)

    async def revoke_credentials(self, user_id: int) -> None:
        if (user := self._state.users.get(user_id)) is not None:
            self._change(user_id, credentials_version=user.credentials_version + 1)

    async def lock_active_admins(self) -> Sequence[int]:
        # The unit of work's lock serialises whole transactions already.
        return sorted(u.id for u in self._state.users.values() if u.is_admin and u.is_active)

    async def delete(self, user_id: int) -> None:
        # What ON DELETE CASCADE does in SQL.
        self._state.users.pop(user_id, None)
        for item_id in [i.id for i in self._state.items.values() if i.owner_id == user_id]:
            del self._state.items[item_id]
        for token_hash, token in list(self._state.refresh_tokens.items()):
            if token.user_id == user_id:
                del self._state.refresh_tokens[token_hash]
        # The generic tables (account tokens, a new aggregate's rows): a row whose ``user_id``
        # or ``owner_id`` names the user is the user's, as its foreign key says in SQL.
        for rows in self._state.tables.values():
            for key, row in list(rows.items()):
                if user_id in (getattr(row, "user_id", None), getattr(row, "owner_id", None)):
                    del rows[key]

    def _change(self, user_id: int, **changes: object) -> None:
        if (user := self._state.users.get(user_id)) is not None:
            self._state.users[user_id] = replace(user, **changes)  # type: ignore[arg-type]


@memory_repository(ItemRepository)
class InMemoryItemRepository:
    def __init__(self, state: InMemoryState) -> None:
        self._state = state

    async def add(self, item: NewItem, event: NewOutboxMessage | None = None) -> Item:
        if item.owner_id not in self._state.users:
            raise OwnerNotFound(item.owner_id)
        self._state.last_item_id += 1
        stored = Item(
            id=self._state.last_item_id,
            title=item.title,
            description=item.description,
            owner_id=item.owner_id,
            created_at=item.created_at,
        )
        self._state.items[stored.id] = stored
        if event is not None:
            await InMemoryOutbox(self._state).add(with_item_id(event, stored.id))
        return stored

    async def get(self, item_id: int) -> Item | None:
        return self._state.items.get(item_id)

    async def update(self, item: Item) -> None:
        if item.id in self._state.items:
            self._state.items[item.id] = item

    async def delete(self, item_id: int) -> None:
        self._state.items.pop(item_id, None)
