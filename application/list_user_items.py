"""ListUserItems: one user's items, a keyset page at a time."""

from __future__ import annotations

from application.errors import UserNotFound
from application.pagination import Page, PageRequest
from application.ports import ItemQueries, UserQueries
from domain.item import Item


class ListUserItems:
    def __init__(self, users: UserQueries, items: ItemQueries) -> None:
        self._users = users
        self._items = items

    async def execute(self, owner_id: int, page: PageRequest) -> Page[Item]:
        if await self._users.get(owner_id) is None:
            raise UserNotFound(owner_id)
        return Page.from_rows(await self._items.page_of_owner(owner_id, page), page)
