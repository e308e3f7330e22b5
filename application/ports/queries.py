"""Query ports: the read side. Each answers what a screen or a check needs straight from
storage, outside any unit of work. A page is a keyset page: up to ``page.fetch_size`` rows with
an id above ``page.after_id``, by ascending id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.pagination import PageRequest
from domain.item import Item
from domain.user import User


class UserQueries(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def page(self, page: PageRequest) -> Sequence[User]: ...


class ItemQueries(Protocol):
    async def get(self, item_id: int) -> Item | None: ...

    async def page(self, page: PageRequest) -> Sequence[Item]: ...

    async def page_of_owner(self, owner_id: int, page: PageRequest) -> Sequence[Item]:
        """Like ``page``, restricted to one owner's items."""
        ...


@dataclass(frozen=True, slots=True)
class Session:
    """A login that can still be refreshed: its refresh-token family."""

    id: int  # the id of the family's first refresh token
    family_id: str  # the access tokens' ``sid`` claim
    created_at: datetime  # the login
    last_used_at: datetime  # the last refresh (the login, if none yet)


class SessionQueries(Protocol):
    async def page(self, user_id: int, now: datetime, page: PageRequest) -> Sequence[Session]:
        """The user's sessions that hold a live refresh token (unspent, unrevoked, unexpired at
        ``now``), by ascending id."""
        ...
