"""In-memory repositories over a dict snapshot that the unit of work owns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from application.errors import UserAlreadyExists
from application.pagination import HasId, PageRequest
from domain.item import Item, NewItem
from domain.user import NewUser, User, email_key

T = TypeVar("T", bound=HasId)


@dataclass
class InMemoryState:
    """Everything the in-memory database holds; copied per transaction."""

    users: dict[int, User] = field(default_factory=dict)
    items: dict[int, Item] = field(default_factory=dict)
    last_user_id: int = 0
    last_item_id: int = 0

    def copy(self) -> InMemoryState:
        return replace(self, users=dict(self.users), items=dict(self.items))


def _page(rows: Iterable[T], page: PageRequest) -> Sequence[T]:
    after = page.after_id or 0
    return sorted((r for r in rows if r.id > after), key=lambda r: r.id)[: page.fetch_size]


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

    async def list(self, page: PageRequest) -> Sequence[User]:
        return _page(self._state.users.values(), page)

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

    async def list(self, page: PageRequest) -> Sequence[Item]:
        return _page(self._state.items.values(), page)

    async def list_by_owner(self, owner_id: int, page: PageRequest) -> Sequence[Item]:
        return _page((i for i in self._state.items.values() if i.owner_id == owner_id), page)

    async def update(self, item: Item) -> None:
        if item.id in self._state.items:
            self._state.items[item.id] = item

    async def delete(self, item_id: int) -> None:
        self._state.items.pop(item_id, None)
